"""Simulation-based calibration of the predictor on a small simulated design (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.exceptions import InvalidParameterError
from metaq.modeling.simulate import simulate_runs
from metaq.validation.sbc import simulation_based_calibration, uniformity_test


def test_uniformity_test_tells_flat_from_piled_up_ranks():
    flat = pd.DataFrame({"a": np.tile(np.arange(100), 2)})
    piled = pd.DataFrame({"a": np.r_[np.zeros(150), np.arange(50)]})
    assert uniformity_test(flat, 99)["p_value"].iloc[0] > 0.99
    assert uniformity_test(piled, 99)["p_value"].iloc[0] < 1e-6


def test_a_design_without_untuned_scores_is_refused():
    sim = simulate_runs(n_datasets=4, params_b=(8.0,), n_tasks=2, random_seed=0)
    with pytest.raises(InvalidParameterError, match="score_base on every run"):
        simulation_based_calibration(sim.runs.assign(score_base=np.nan), sim.features,
                                     n_simulations=10)
    with pytest.raises(InvalidParameterError, match="too few"):
        simulation_based_calibration(sim.runs, sim.features, n_simulations=4)


@pytest.mark.slow
def test_posterior_ranks_of_true_parameters_are_uniform():
    # parameters drawn from the prior, outcomes from the likelihood, the posterior by NUTS:
    # if sampler and model agree, each true value's rank among the posterior draws is uniform
    design = simulate_runs(n_datasets=5, params_b=(1.0, 8.0, 70.0), n_tasks=2, random_seed=3)
    result = simulation_based_calibration(design.runs, design.features, n_simulations=50,
                                          draws=300, tune=300, random_seed=1)
    assert len(result.ranks) == 50
    assert result.ranks.drop(columns=["simulation", "max_rhat", "divergences"]).stack().between(
        0, result.n_draws).all()
    # five parameters: a Bonferroni bound at 0.001 each fails a calibrated model 0.5 % of runs
    assert (result.uniformity["p_value"] > 0.001 / 5).all(), result.uniformity
