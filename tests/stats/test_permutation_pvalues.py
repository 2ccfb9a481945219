"""Permutation p-values: exact values, a brute-force loop, scipy per test, Monte Carlo."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from metaq.exceptions import InvalidParameterError, UnknownNameError
from metaq.stats import correlation_permutation_test


def brute_force_p(x: np.ndarray, y: np.ndarray, method: str) -> float:
    """Two-sided exact p by looping over every ordering with scipy's coefficient."""
    coefficient = stats.spearmanr if method == "spearman" else stats.pearsonr
    observed = abs(coefficient(x, y).statistic)
    orderings = list(itertools.permutations(y))
    reached = sum(abs(coefficient(x, ordering).statistic) >= observed - 1e-10
                  for ordering in orderings)
    return reached / len(orderings)


@pytest.mark.parametrize("sign", [1, -1])
def test_perfect_rank_agreement_of_four_has_p_one_twelfth(sign):
    x = np.array([0.951, 0.950, 0.916, 0.941])
    y = sign * np.array([7.5, 3.1, -20.4, 0.2])  # same order as x
    test = correlation_permutation_test(x, y)
    assert test.rho[0] == pytest.approx(sign * 1.0)
    assert test.p_value[0] == 1 / 12  # 2 of 4! = 24 orderings reach |rho| = 1
    assert test.p_method == "exact"


def test_four_pairs_rho_08_has_p_one_third():
    # |rho| >= 0.8 for n = 4 <=> sum d^2 in {0, 2, 18, 20}: 1 + 3 + 3 + 1 = 8 of 24 orderings
    test = correlation_permutation_test(np.array([1.0, 2, 3, 4]), np.array([2.0, 1, 3, 4]))
    assert test.rho[0] == pytest.approx(0.8)
    assert test.p_value[0] == pytest.approx(1 / 3)


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_exact_p_matches_a_brute_force_loop(rng, method):
    x = rng.normal(size=(5, 3))
    x[:, 2] = x[:, 0] + 0.3 * rng.normal(size=5)
    y = np.round(x[:, 0] + rng.normal(size=5), 0)  # rounding makes ties in y
    assert len(np.unique(y)) < 5
    test = correlation_permutation_test(x, y, method=method)
    expected = [brute_force_p(x[:, j], y, method) for j in range(3)]
    np.testing.assert_allclose(test.p_value, expected, rtol=0, atol=1e-12)
    reference = stats.spearmanr if method == "spearman" else stats.pearsonr
    np.testing.assert_allclose(test.rho, [reference(x[:, j], y).statistic for j in range(3)])


def test_monte_carlo_is_close_to_exact_for_nine(rng):
    x = rng.normal(size=(9, 4))
    y = x[:, 0] * 0.5 + x[:, 1] * 0.3 + rng.normal(size=9)
    monte_carlo = correlation_permutation_test(x, y, n_permutations=20_000,
                                               rng=np.random.default_rng(7))
    assert monte_carlo.p_method == "monte_carlo:20000"
    exact = correlation_permutation_test(x, y, n_permutations=math.factorial(9))
    assert exact.p_method == "exact"  # asking for n! orderings or more tests all of them
    standard_error = np.sqrt(exact.p_value * (1 - exact.p_value) / 20_000)
    assert np.all(np.abs(monte_carlo.p_value - exact.p_value) < 4 * standard_error + 1e-3)


def test_monte_carlo_p_counts_the_observed_ordering():
    # 12 perfectly ordered pairs: almost surely no random ordering reaches |rho| = 1
    x = np.arange(12.0)
    test = correlation_permutation_test(x, 2 * x + 1, n_permutations=99,
                                        rng=np.random.default_rng(0))
    assert test.p_value[0] == 1 / 100  # (0 + 1) / (99 + 1), never 0


def test_monte_carlo_is_reproducible_with_a_seed(rng):
    x, y = rng.normal(size=(15, 2)), rng.normal(size=15)
    first = correlation_permutation_test(x, y, rng=np.random.default_rng(3))
    again = correlation_permutation_test(x, y, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(first.p_value, again.p_value)


def test_constant_side_gives_nan():
    test = correlation_permutation_test(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]),
                                        np.array([0.1, 0.3, 0.2]))
    assert np.isnan(test.rho[1]) and np.isnan(test.p_value[1])
    assert test.rho[0] == pytest.approx(0.5)


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_matches_scipy_permutation_test_run_per_metric(rng, method):
    # scipy's own loop over orderings with scipy's coefficient, one metric at a time
    coefficient = stats.spearmanr if method == "spearman" else stats.pearsonr
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    test = correlation_permutation_test(x, y, method=method)
    expected = [stats.permutation_test(
        (y,), lambda v, c=x[:, j]: abs(coefficient(c, v).statistic),
        permutation_type="pairings", n_resamples=np.inf, alternative="greater").pvalue
        for j in range(3)]
    np.testing.assert_allclose(test.p_value, expected, rtol=0, atol=1e-12)


def test_roundoff_ties_at_zero_reach_the_observed_rho():
    # r is 0 in exact arithmetic (computed -4e-17), so every ordering reaches it; scipy's
    # relative tolerance alone gives 2/3 here
    x, y = np.array([0.1, 0.2, 0.2, 0.1]), np.array([-0.1, -0.2, -0.1, -0.2])
    test = correlation_permutation_test(x, y, method="pearson")
    assert abs(test.rho[0]) < 1e-15 and test.p_value[0] == 1.0


def test_fewer_than_two_pairs_give_nan():
    test = correlation_permutation_test(np.array([1.0]), np.array([2.0]))
    assert np.isnan(test.rho[0]) and np.isnan(test.p_value[0])


def test_bad_arguments():
    x, y = np.arange(4.0), np.arange(4.0)
    with pytest.raises(UnknownNameError, match=r"unknown correlation method 'kendall'"):
        correlation_permutation_test(x, y, method="kendall")
    with pytest.raises(InvalidParameterError, match=r"x has 4 rows but y has shape \(3,\)"):
        correlation_permutation_test(x, y[:3])
    with pytest.raises(InvalidParameterError, match=r"n_permutations must be >= 1, got 0"):
        correlation_permutation_test(x, y, n_permutations=0)
