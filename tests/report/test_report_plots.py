from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metaq.report.plots import PALETTE, plot_forest, plot_loo_pit, plot_pareto_k, report_style


def test_loo_pit_band_is_the_dkw_half_width(rng):
    fig = plot_loo_pit(rng.uniform(size=48), alpha=0.05)
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(math.sqrt(math.log(2 / 0.05) / (2 * 48)))
    assert band.min() == pytest.approx(-band.max())


def test_pareto_k_counts_the_runs_above_the_threshold():
    fig = plot_pareto_k(np.array([0.1, 0.8, 0.5, 0.95]), threshold=0.7)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["k <= threshold", "k > 0.7 (2)"]


def test_forest_draws_one_panel_per_group_in_the_palette():
    table = pd.DataFrame({"feature": ["a", "b"] * 2, "group": ["8B", "8B", "11B", "11B"],
                          "estimate": [0.1, -0.2, 0.3, 0.0], "lower": [0.0, -0.4, 0.1, -0.1],
                          "upper": [0.2, 0.0, 0.5, 0.1]})
    with report_style():
        fig = plot_forest(table, y="feature", panel="group", xlabel="slope")
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["8B", "11B"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    line = fig.axes[0].lines[0]
    assert line.get_color() == PALETTE[0]
    assert line.get_xdata().tolist() == [0.1, -0.2]
