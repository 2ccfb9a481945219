"""Explain on a real NUTS fit of simulated runs with known effects (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.explain import feature_importance, rank_candidates, scale_contrast, what_if

SLOPE = (0.5, -0.4, 0.0)
SIZE_SLOPE = (0.0, 0.0, 0.4)  # f2 helps large models and hurts small ones


@pytest.fixture(scope="module")
def simulated():
    from metaq.modeling import HierarchicalDeltaModel
    from metaq.modeling.simulate import simulate_runs

    sim = simulate_runs(n_datasets=8, params_b=(1.0, 8.0, 70.0), n_tasks=3, slope=SLOPE,
                        size_slope=SIZE_SLOPE, random_seed=3)
    model = HierarchicalDeltaModel(sampler={"draws": 300, "tune": 400, "chains": 2})
    model.fit(sim.runs, sim.features, random_seed=1)
    return sim, model


def _true_coef(sim) -> np.ndarray:
    """(model, task, feature) true slope per SD of each (standardised) feature."""
    truth = sim.truth
    return (truth["slope"][None, None] + truth["size_slope"][None, None]
            * truth["size_z"][:, None, None] + truth["group_slope"][:, None]
            + truth["task_slope"][None])


@pytest.mark.slow
def test_importance_signs_and_coverage(simulated):
    sim, model = simulated
    table = feature_importance(model, prob=0.95).set_index(["target_model", "feature"])
    truth = _true_coef(sim).mean(axis=1)  # averaged over benchmarks, as the table is
    names = sim.runs["base_model"].unique().tolist()
    covered = [table.loc[(m, k), "lower"] <= truth[i, j] <= table.loc[(m, k), "upper"]
               for i, m in enumerate(names) for j, k in enumerate(model.features_)]
    assert np.mean(covered) >= 0.8
    for m in names:
        assert table.loc[(m, "f0"), "prob_positive"] > 0.95
        assert table.loc[(m, "f1"), "prob_positive"] < 0.05


@pytest.mark.slow
def test_scale_contrast_finds_the_scale_interaction(simulated):
    _, model = simulated
    table = scale_contrast(model).set_index(["feature", "term"])
    assert table.loc[("f2", "large - small"), "prob_positive"] > 0.95
    assert table.loc[("f2", "small"), "upper"] < 0 < table.loc[("f2", "large"), "lower"]


@pytest.mark.slow
def test_what_if_and_ranking_follow_the_truth(simulated):
    sim, model = simulated
    # +1 SD of f0 moves every forecast by that cell's slope, per draw, exactly
    table = what_if(model, sim.features.iloc[[0]], {"f0": "+1"}, prob=0.95)
    slopes = model.slopes(table["target_model"].unique().tolist(),
                          table["benchmark"].unique().tolist()).sel(feature="f0")
    expected = [float(slopes.sel(target_model=m, task=b).mean())
                for m, b in zip(table["target_model"], table["benchmark"], strict=True)]
    np.testing.assert_allclose(table["estimate"], expected, atol=1e-6)
    assert (table["prob_positive"] > 0.95).all()  # f0 helps every model (true slope 0.5)
    truth = _true_coef(sim)[:, :, 0].mean()  # average over models and benchmarks
    assert table["lower"].min() < truth < table["upper"].max()
    candidates = pd.DataFrame({"dataset_id": ["best", "middle", "worst"],
                               "f0": [1.0, 0.0, -1.0], "f1": [-1.0, 0.0, 1.0],
                               "f2": [0.0, 0.0, 0.0]})
    forecast = model.predict(candidates, ["m1b", "m70b"], include_run_noise=False,
                             random_seed=0)
    ranked = rank_candidates(forecast)
    for _, part in ranked.groupby("target_model"):
        assert part["dataset_id"].tolist() == ["best", "middle", "worst"]
        assert part["prob_best"].iloc[0] > 0.95
