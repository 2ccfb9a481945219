"""Forecast scores against closed forms and hand-counted examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scoringrules
from scipy.stats import norm

from metaq.validation.scores import (
    cluster_bootstrap_interval,
    coverage_curve,
    crps,
    interval_covers,
    log_predictive_density,
    pit,
    ranking_scores,
    wilson_interval,
)


def test_crps_matches_the_normal_closed_form(rng):
    # CRPS(N(0, 1), y) = y (2 Phi(y) - 1) + 2 phi(y) - 1 / sqrt(pi)
    draws = rng.normal(size=(40_000, 3))
    y = np.array([0.0, 1.0, -2.5])
    exact = y * (2 * norm.cdf(y) - 1) + 2 * norm.pdf(y) - 1 / np.sqrt(np.pi)
    assert crps(draws, y) == pytest.approx(exact, abs=0.01)


@pytest.mark.parametrize("estimator", ["nrg", "qd"])
def test_crps_equals_scoringrules(rng, estimator):
    # "nrg" is the definition E|X - y| - E|X - X'| / 2 over all pairs of draws, "qd" the
    # quantile decomposition; rounded draws make ties, some outcomes lie outside the draws
    draws = np.round(rng.normal(0.0, 0.05, size=(300, 40)), 2)
    observed = rng.normal(0.0, 0.1, size=40)
    expected = scoringrules.crps_ensemble(observed, draws, m_axis=0, estimator=estimator,
                                          backend="numpy")
    # atol: the 90,000-term pairwise sum of "nrg" carries roundoff of about 1e-14
    np.testing.assert_allclose(crps(draws, observed), expected, rtol=1e-12, atol=1e-13)


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert crps(np.full((5, 2), 0.3), np.array([0.5, 0.3])) == pytest.approx([0.2, 0.0])


def test_log_density_close_to_the_normal_density(rng):
    draws = rng.normal(0.0, 0.05, size=(20_000, 2))
    y = np.array([0.0, 0.1])
    assert log_predictive_density(draws, y) == pytest.approx(norm.logpdf(y, 0, 0.05), abs=0.05)


def test_pit_coverage_and_intervals_by_hand():
    draws = np.arange(1.0, 11.0)[:, None]  # 1..10
    assert pit(draws, np.array([3.0]))[0] == pytest.approx(0.25)  # 2 below, 1 tie -> 2.5/10
    assert interval_covers(draws, np.array([5.0]), 0.5)[0]
    assert not interval_covers(draws, np.array([9.9]), 0.5)[0]
    assert coverage_curve(np.array([0.5, 0.1, 0.8, 0.96]), [0.5, 0.9]).tolist() == [0.25, 0.75]


def test_pit_of_calibrated_forecasts_covers_nominally(rng):
    truth = rng.normal(size=4000)
    draws = rng.normal(size=(500, 4000))
    curve = coverage_curve(pit(draws, truth), [0.5, 0.9])
    assert curve == pytest.approx([0.5, 0.9], abs=0.03)


def test_ranking_scores_by_hand():
    # one comparison set (model m, bench b) with 4 datasets; 6 pairs
    p = pd.DataFrame({
        "base_model": "m", "benchmark": "b", "domain": "", "dataset_id": list("abcd"),
        "score_ft": [0.50, 0.52, 0.60, 0.70],
        "mean": [0.10, 0.05, 0.20, 0.30],  # orders a > b wrongly, the rest right
        "n_items": 400,
    })
    got = ranking_scores(p, group=["base_model", "benchmark", "domain"])
    assert got["n_pairs"] == 6
    assert got["pairwise_acc"] == pytest.approx(5 / 6)
    # weighted by |true difference|: the wrong pair differs by 0.02 of a total 0.68
    assert got["pairwise_acc_weighted"] == pytest.approx(1 - 0.02 / 0.68)
    # noise sd of (0.50, 0.52) on 400 items ~ 0.035: only that pair is within noise
    assert got["n_pairs_beyond_noise"] == 5 and got["pairwise_acc_beyond_noise"] == 1.0
    assert got["n_dataset_pairs_beyond_noise"] == 5
    assert (got["pairwise_acc_beyond_noise_lo"], got["pairwise_acc_beyond_noise_hi"]) == (1, 1)
    assert got["spearman"] == pytest.approx(0.8)


def test_pairs_are_scored_within_their_comparison_set_only():
    # two folds of one table: the same two datasets compared across folds would give a
    # pair; grouped by fold, each fold holds one dataset and there is no pair to score
    p = pd.DataFrame({"fold": ["f1", "f2"], "g": "x", "dataset_id": ["a", "b"],
                      "score_ft": [0.2, 0.8], "mean": [0.5, 0.4], "n_items": 1000})
    assert ranking_scores(p, group=["g"])["n_pairs"] == 1
    assert ranking_scores(p, group=["g", "fold"])["n_pairs"] == 0


def test_pairwise_interval_resamples_dataset_pairs():
    # one pair of datasets scored right on 9 benchmarks and one pair wrong on 9: two units,
    # so the interval spans nearly everything however many benchmark rows each has
    rows = []
    for bench in range(9):
        rows += [{"g": bench, "dataset_id": "a", "score_ft": 0.2, "mean": 0.2},
                 {"g": bench, "dataset_id": "b", "score_ft": 0.8, "mean": 0.8},
                 {"g": bench + 100, "dataset_id": "c", "score_ft": 0.2, "mean": 0.8},
                 {"g": bench + 100, "dataset_id": "d", "score_ft": 0.8, "mean": 0.2}]
    got = ranking_scores(pd.DataFrame(rows).assign(n_items=1000), group=["g"])
    assert got["pairwise_acc_beyond_noise"] == 0.5 and got["n_dataset_pairs_beyond_noise"] == 2
    assert got["pairwise_acc_beyond_noise_lo"] == 0.0
    assert got["pairwise_acc_beyond_noise_hi"] == 1.0


def test_ranking_scores_without_item_counts_leave_the_noise_score_missing():
    p = pd.DataFrame({"g": "x", "dataset_id": ["a", "b"], "score_ft": [0.1, 0.2],
                      "mean": [0.0, 1.0], "n_items": [np.nan, np.nan]})
    got = ranking_scores(p, group=["g"])
    assert got["pairwise_acc"] == 1.0 and np.isnan(got["pairwise_acc_beyond_noise"])
    assert np.isnan(got["spearman"])  # fewer than 3 datasets


def test_wilson_interval_of_a_coverage():
    assert wilson_interval(9, 10) == pytest.approx((0.5958, 0.9821), abs=1e-4)
    lo, hi = wilson_interval(3, 40)
    assert (1 - hi, 1 - lo) == pytest.approx(wilson_interval(37, 40))
    assert wilson_interval(0, 12)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson_interval(632, 632)[1] == pytest.approx(1.0)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_cluster_bootstrap_matches_wilson_for_independent_runs(rng):
    hits = rng.random(2000) < 0.87
    lo, hi = cluster_bootstrap_interval(hits, np.arange(hits.size))
    assert (lo, hi) == pytest.approx(wilson_interval(int(hits.sum()), hits.size), abs=0.004)


def test_cluster_bootstrap_widens_when_a_cluster_is_missed_together():
    # 20 held-out datasets of 10 runs; 2 datasets missed on every run: 0.9 coverage, but
    # from 20 independent units rather than 200
    hits = np.repeat(np.arange(20) >= 2, 10)
    clustered = cluster_bootstrap_interval(hits, np.repeat(np.arange(20), 10))
    independent = wilson_interval(int(hits.sum()), hits.size)
    assert clustered[0] < independent[0] - 0.04
    assert clustered[0] <= 0.9 <= clustered[1]
    with pytest.raises(ValueError, match="200 hits but 20 cluster labels"):
        cluster_bootstrap_interval(hits, np.arange(20))
    assert all(np.isnan(cluster_bootstrap_interval(np.array([]), [])))
