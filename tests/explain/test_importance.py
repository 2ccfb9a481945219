"""Importance, the small-vs-large contrast and permutation importance on a known posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fake_predictor import FEATURES, SIZE_SLOPE, TRAINING, slope_draws_by_hand

from metaq.explain.importance import feature_importance, permutation_importance, scale_contrast


def test_importance_per_model_is_the_posterior_of_the_slope(fake_predictor):
    table = feature_importance(fake_predictor, prob=0.8)
    truth = slope_draws_by_hand(fake_predictor)
    for m, name in enumerate(["small-1b", "large-70b"]):
        for k, feature in enumerate(FEATURES):
            row = table.loc[(table["target_model"] == name)
                            & (table["feature"] == feature)].iloc[0]
            assert row["estimate"] == pytest.approx(truth[:, m, k].mean(), abs=1e-9)
            assert row["lower"] == pytest.approx(np.quantile(truth[:, m, k], 0.1), abs=1e-9)
            assert row["upper"] == pytest.approx(np.quantile(truth[:, m, k], 0.9), abs=1e-9)


def test_importance_signs_follow_the_truth(fake_predictor):
    table = feature_importance(fake_predictor).set_index(["target_model", "feature"])
    assert table.loc[("small-1b", "validity"), "prob_positive"] == 1.0
    assert table.loc[("large-70b", "perplexity"), "prob_positive"] == 0.0
    # redundancy hurts the 1B model and helps the 70B model
    assert table.loc[("small-1b", "redundancy_ratio"), "upper"] < 0
    assert table.loc[("large-70b", "redundancy_ratio"), "lower"] > 0
    # sorted by |estimate| within each model
    first = feature_importance(fake_predictor).groupby("target_model").head(1)
    assert set(first["feature"]) == {"validity"}


def test_overall_importance_averages_the_models_per_draw(fake_predictor):
    table = feature_importance(fake_predictor, by="overall").set_index("feature")
    truth = slope_draws_by_hand(fake_predictor).mean(axis=1)
    np.testing.assert_allclose(table.loc[FEATURES, "estimate"], truth.mean(axis=0), atol=1e-9)
    assert "target_model" not in table.columns


def test_unseen_size_gets_wider_intervals(fake_predictor):
    table = feature_importance(fake_predictor, target_models=[
        "large-70b", {"name": "huge", "params_b": 400}]).set_index(["target_model", "feature"])
    width = table["upper"] - table["lower"]
    for feature in FEATURES:
        assert width[("huge", feature)] > 1.5 * width[("large-70b", feature)]


def test_scale_contrast_answers_small_vs_large(fake_predictor):
    table = scale_contrast(fake_predictor).set_index(["feature", "term"])
    diff = table.loc[("redundancy_ratio", "large - small")]
    assert diff["estimate"] == pytest.approx(SIZE_SLOPE[1] * np.sqrt(2.0), abs=0.02)
    assert diff["prob_positive"] == 1.0
    assert table.loc[("redundancy_ratio", "small"), "target_model"] == "small-1b"
    assert table.loc[("redundancy_ratio", "large"), "target_model"] == "large-70b"
    # validity helps both sizes alike: the difference is centred near zero
    assert abs(table.loc[("validity", "large - small"), "estimate"]) < 0.02


def test_an_unseen_benchmark_is_named_with_a_suggestion(fake_predictor, caplog):
    # the population's slopes (a benchmark the model never saw), with a hint at a typo
    table = feature_importance(fake_predictor, benchmarks=["bench_aa"])
    assert len(table) == 2 * 3
    assert "'bench_aa' was not in the training runs" in caplog.text
    assert "did you mean 'bench_a'" in caplog.text


def test_permutation_importance_ranks_used_features(fake_predictor):
    runs = _noise_free_runs(fake_predictor)
    table = permutation_importance(fake_predictor, runs, TRAINING.assign(domain=""),
                                   n_permutations=10)
    assert (table["estimate"] > 0).all()  # every feature varies and has a non-zero slope
    assert table["estimate"].is_monotonic_decreasing
    # validity moves the change most: 0.5 per SD and spread of 2 SD across training sets
    assert table["feature"].iloc[0] == "validity"


def _noise_free_runs(model) -> pd.DataFrame:
    """Training runs whose fine-tuned score is the posterior-mean forecast."""
    forecast = model.predict(TRAINING, ["small-1b", "large-70b"], include_run_noise=False,
                             random_seed=0)
    rows = forecast.rows
    return pd.DataFrame({"dataset_id": rows["dataset_id"], "base_model": rows["target_model"],
                         "params_b": rows["params_b"], "family": rows["family"],
                         "benchmark": rows["benchmark"], "domain": "", "score_base": 0.5,
                         "score_ft": forecast.scores.mean(axis=0), "n_items": 900})


def test_importance_by_block_sums_the_signed_slopes_of_near_copies():
    from fake_predictor import build_fake_predictor, slope_draws_by_hand

    model = build_fake_predictor()
    model.feature_blocks_ = np.array([0, 1, 0])  # validity and perplexity as one block
    table = feature_importance(model, by="block", target_models=["small-1b"])
    by_block = table.set_index("feature")
    # perplexity runs against validity over the training datasets: it enters with a minus
    assert set(by_block.index) == {"validity+-perplexity", "redundancy_ratio"}
    slopes = slope_draws_by_hand(model)[:, 0]  # (sample, feature) of small-1b
    expected = slopes[:, 0] - slopes[:, 2]
    assert by_block.loc["validity+-perplexity", "estimate"] == pytest.approx(expected.mean(),
                                                                          abs=1e-9)
    per_feature = feature_importance(model, target_models=["small-1b"]).set_index("feature")
    assert per_feature.loc["perplexity", "block"] == "validity+-perplexity"
