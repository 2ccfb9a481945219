"""P(best), expected regret and the refit-free preposterior variance against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from metaq.explain._decision import expected_regret, prob_best
from metaq.explain._preposterior import expected_posterior_variance


def test_prob_best_matches_gaussian_truth(rng):
    # A ~ N(0.3, 1), B ~ N(0, 1) independent: P(A > B) = Phi(0.3 / sqrt(2)) = 0.5840
    draws = np.column_stack([rng.normal(0.3, 1, 200_000), rng.normal(0, 1, 200_000)])
    assert prob_best(draws) == pytest.approx([0.5840, 0.4160], abs=0.005)


def test_prob_best_splits_ties_and_sums_to_one():
    draws = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    np.testing.assert_allclose(prob_best(draws), [0.25, 0.5, 0.25])


def test_expected_regret_matches_gaussian_truth(rng):
    # regret of B = E[max(A - B, 0)] with A - B ~ N(0.3, 2): mu*Phi(mu/s) + s*phi(mu/s)
    mu, s = 0.3, np.sqrt(2.0)
    from scipy.stats import norm
    truth_b = mu * norm.cdf(mu / s) + s * norm.pdf(mu / s)
    truth_a = truth_b - mu
    draws = np.column_stack([rng.normal(0.3, 1, 200_000), rng.normal(0, 1, 200_000)])
    assert expected_regret(draws) == pytest.approx([truth_a, truth_b], abs=0.01)


def test_regret_is_zero_for_a_sure_winner():
    draws = np.array([[2.0, 1.0], [3.0, 0.0]])
    np.testing.assert_allclose(expected_regret(draws), [0.0, 2.0])


@pytest.mark.parametrize("noise_sd", [0.5, 1.0, 2.0])
def test_preposterior_variance_matches_conjugate_normal(rng, noise_sd):
    theta = rng.normal(size=(4000, 1))
    var, ess = expected_posterior_variance(theta, theta, np.full_like(theta, noise_sd),
                                           n_outcomes=400, random_seed=3)
    truth = 1.0 / (1.0 + 1.0 / noise_sd**2)
    assert var[0] == pytest.approx(truth, rel=0.08)
    assert 0 < ess < 4000


def test_preposterior_irrelevant_run_leaves_variance(rng):
    # the outcome depends on phi, the quantity is theta, independent of phi
    theta, phi = rng.normal(size=(4000, 1)), rng.normal(size=(4000, 1))
    var, _ = expected_posterior_variance(theta, phi, np.ones_like(phi), random_seed=4)
    assert var[0] == pytest.approx(theta.var(), rel=0.1)
