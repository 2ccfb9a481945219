"""Plot twins: each draws exactly the table its compute function returns."""

from __future__ import annotations

import pandas as pd
from fake_predictor import FEATURES

from metaq.explain import plots
from metaq.explain.importance import feature_importance


def test_importance_figure_has_one_panel_per_model_in_table_order(fake_predictor):
    fig = plots.plot_feature_importance(fake_predictor)
    table = feature_importance(fake_predictor)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == list(dict.fromkeys(table["target_model"]))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    first = table.loc[table["target_model"] == titles[0], "feature"].tolist()
    assert labels == first  # drawn top to bottom in table order
    assert sorted(labels) == sorted(FEATURES)


def test_ranking_panels_keep_their_own_order():
    table = pd.DataFrame({"target_model": ["m1", "m1", "m2", "m2"],
                          "dataset_id": ["A", "B", "B", "A"], "prob_best": [0.9, 0.1, 0.7, 0.3],
                          "expected_regret": [0.0, 0.2, 0.0, 0.1]})
    fig = plots.draw_ranking(table)
    first, second = ([t.get_text().split(" ")[0] for t in ax.get_yticklabels()]
                     for ax in fig.axes)
    assert first == ["A", "B"] and second == ["B", "A"]
    widths = [[bar.get_width() for bar in ax.patches] for ax in fig.axes]
    assert widths == [[0.9, 0.1], [0.7, 0.3]]


def test_sweep_figure_has_a_curve_and_band_per_model(fake_predictor):
    fig = plots.plot_sweep(fake_predictor, "validity", [0.85, 0.9, 0.95],
                           benchmarks=["bench_a"])
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines if not line.get_label().startswith("_")] == [
        "small-1b", "large-70b"]
    assert len(ax.collections) == 2  # one band per model
