"""Explain on a real NUTS fit of simulated runs with known effects (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.explain import feature_importance, rank_candidates, scale_contrast, what_if

BETA = (0.5, -0.4, 0.0)
GAMMA = (0.0, 0.0, 0.4)  # metric_3 helps large models and hurts small ones


@pytest.fixture(scope="module")
def simulated():
    from metaq.validation.simulate import simulate_runs

    from metaq.modeling import HierarchicalDeltaModel

    sim = simulate_runs(n_datasets=8, beta=BETA, gamma=GAMMA, random_seed=3)
    model = HierarchicalDeltaModel(sampler={"draws": 300, "tune": 400, "chains": 2})
    model.fit(sim.runs, sim.features, random_seed=1)
    return sim, model


def _true_slopes(sim, model) -> pd.DataFrame:
    """True slope per SD of each standardised feature, per base model."""
    x_sd = sim.features[model.features_].std(ddof=1).to_numpy()
    log_size = np.log(sim.runs.drop_duplicates("base_model")["params_b"].to_numpy())
    z = (log_size - log_size.mean()) / log_size.std()
    names = sim.runs.drop_duplicates("base_model")["base_model"].tolist()
    slopes = (np.asarray(BETA)[None] + np.asarray(GAMMA)[None] * z[:, None]) * x_sd[None]
    return pd.DataFrame(slopes, index=names, columns=model.features_)


@pytest.mark.slow
def test_importance_signs_and_coverage(simulated):
    sim, model = simulated
    table = feature_importance(model, prob=0.95).set_index(["target_model", "feature"])
    truth = _true_slopes(sim, model)
    covered = [(table.loc[(m, k), "lower"] <= truth.loc[m, k] <= table.loc[(m, k), "upper"])
               for m in truth.index for k in truth.columns]
    assert np.mean(covered) >= 0.8
    for m in truth.index:
        assert table.loc[(m, "metric_1"), "prob_positive"] > 0.95
        assert table.loc[(m, "metric_2"), "prob_positive"] < 0.05


@pytest.mark.slow
def test_scale_contrast_finds_the_scale_interaction(simulated):
    _, model = simulated
    table = scale_contrast(model).set_index(["feature", "term"])
    assert table.loc[("metric_3", "large - small"), "prob_positive"] > 0.95
    assert table.loc[("metric_3", "small"), "upper"] < 0 < table.loc[("metric_3", "large"),
                                                                    "lower"]


@pytest.mark.slow
def test_what_if_and_ranking_follow_the_truth(simulated):
    sim, model = simulated
    base = sim.features.iloc[[0]]
    table = what_if(model, base, {"metric_1": "+1"}, target_models=["sim-8b"],
                    benchmarks=["bench_a"], prob=0.95).iloc[0]
    assert table["lower"] <= BETA[0] <= table["upper"]
    candidates = pd.DataFrame({"dataset_id": ["best", "middle", "worst"],
                               "metric_1": [1.0, 0.0, -1.0], "metric_2": [-1.0, 0.0, 1.0],
                               "metric_3": [0.0, 0.0, 0.0]})
    forecast = model.predict(candidates, ["sim-1b", "sim-70b"], include_run_noise=False,
                             random_seed=0)
    ranked = rank_candidates(forecast)
    for _, part in ranked.groupby("target_model"):
        assert part["dataset_id"].tolist() == ["best", "middle", "worst"]
        assert part["prob_best"].iloc[0] > 0.95
