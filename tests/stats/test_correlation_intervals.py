"""Intervals for correlations: Fisher z by hand, bootstrap coverage, none at n = 4."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from metaq.exceptions import InvalidParameterError
from metaq.stats import correlation_interval


def test_fisher_z_by_hand(rng):
    x = rng.normal(size=(10, 2))
    y = x[:, 0] + rng.normal(size=10)
    band = correlation_interval(x, y, method="pearson", ci=0.9)
    assert band.ci_method == "fisher_z"
    for j in range(2):
        z = math.atanh(np.corrcoef(x[:, j], y)[0, 1])
        half = 1.6448536269514722 / math.sqrt(10 - 3)
        assert band.lower[j] == pytest.approx(math.tanh(z - half))
        assert band.upper[j] == pytest.approx(math.tanh(z + half))


def test_perfect_pearson_correlation_gives_a_point():
    x = np.arange(6.0)[:, None]
    band = correlation_interval(x, 3 * x[:, 0], method="pearson")
    assert (band.lower[0], band.upper[0]) == pytest.approx((1.0, 1.0))


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_no_interval_for_four_pairs(method):
    band = correlation_interval(np.arange(8.0).reshape(4, 2), np.array([1.0, 3, 2, 4]),
                                method=method)
    assert band.ci_method == "none"
    assert np.isnan(band.lower).all() and np.isnan(band.upper).all()


def test_spearman_needs_ten_pairs_for_a_bootstrap(rng):
    x, y = rng.normal(size=(9, 1)), rng.normal(size=9)
    assert correlation_interval(x, y).ci_method == "none"
    x, y = rng.normal(size=(10, 1)), rng.normal(size=10)
    assert correlation_interval(x, y, n_bootstrap=500).ci_method == "bootstrap:500"


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible(rng):
    x = rng.normal(size=(40, 3))
    y = x[:, 0] + rng.normal(size=40)
    x[:, 2] = 1.0  # constant: no interval
    band = correlation_interval(x, y, rng=np.random.default_rng(5))
    again = correlation_interval(x, y, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(band.lower, again.lower)
    for j in range(2):
        rho = stats.spearmanr(x[:, j], y).statistic
        assert -1 <= band.lower[j] < rho < band.upper[j] <= 1
    assert np.isnan(band.lower[2]) and np.isnan(band.upper[2])


def test_bootstrap_coverage_on_bivariate_normal_data():
    rng = np.random.default_rng(11)
    r = 0.5
    truth = 6 / math.pi * math.asin(r / 2)  # population Spearman rho of a bivariate normal
    covered = 0
    replications = 200
    for _ in range(replications):
        sample = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=40)
        band = correlation_interval(sample[:, :1], sample[:, 1], n_bootstrap=600, rng=rng)
        covered += band.lower[0] <= truth <= band.upper[0]
    assert 0.86 <= covered / replications <= 0.99


def test_bad_coverage_and_resamples():
    x, y = np.arange(12.0)[:, None], np.arange(12.0)
    with pytest.raises(InvalidParameterError, match=r"ci must lie strictly between 0 and 1, "
                                                    r"got 95"):
        correlation_interval(x, y, ci=95)
    with pytest.raises(InvalidParameterError, match=r"n_bootstrap must be >= 1, got 0"):
        correlation_interval(x, y, n_bootstrap=0)
