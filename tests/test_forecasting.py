"""End-to-end forecasting: target-model resolution, feature gathering, forecast tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fake_predictor import cached_fake_predictor
from scipy.special import expit, logit

from metaq.datasets import sample_path
from metaq.exceptions import SchemaError
from metaq.forecasting import (
    forecast_datasets,
    gather_features,
)


@pytest.fixture(scope="module")
def fake_predictor():
    return cached_fake_predictor()


def test_forecast_from_a_features_table_flags_unseen_sizes(fake_predictor):
    candidates = pd.DataFrame({"dataset_id": ["x"], "validity": [0.9],
                               "redundancy_ratio": [0.5], "perplexity": [1.5]})
    result = forecast_datasets(features=candidates, model=fake_predictor,
                               target_models=["large-70b", {"name": "huge", "params_b": 400}],
                               benchmarks=["bench_a"], prob=0.8)
    table = result.summary.set_index("target_model")
    assert table.loc["large-70b", "seen_model"] and not table.loc["huge", "seen_model"]
    width = table["upper"] - table["lower"]
    assert width["huge"] > width["large-70b"]
    assert result.not_extracted == []
    assert "P(best)" in result.format_summary()


def test_measured_untuned_scores_place_an_unseen_model(fake_predictor):
    candidates = pd.DataFrame({"dataset_id": ["x"], "validity": [0.95],
                               "redundancy_ratio": [0.5], "perplexity": [1.5]})
    untuned = pd.DataFrame({"base_model": ["huge"], "benchmark": ["bench_a"],
                            "score_base": [0.9]})
    options = {"features": candidates, "model": fake_predictor, "benchmarks":
               ["bench_a", "bench_b"], "target_models": [{"name": "huge", "params_b": 400}]}
    guessed = forecast_datasets(**options).forecast
    measured = forecast_datasets(**options, base_scores=untuned).forecast
    # the fake predictor forecasts logit changes: the fine-tuned score is the measured
    # untuned score moved by the change
    a, b = 0, 1  # rows: bench_a, bench_b
    implied = logit(measured.scores[:, a]) - measured.values[:, a]
    assert implied == pytest.approx(np.full(len(implied), logit(0.9)))
    # a model starting near the ceiling gains fewer points from the same change
    assert ((measured.scores[:, a] - 0.9).mean()
            < (guessed.scores[:, a] - expit(logit(guessed.scores[:, a]) - guessed.values[:, a])
               ).mean())
    # the benchmark without a measured score is forecast exactly as before (without the
    # run noise, whose beta draws depend on every cell's level)
    exact = {"include_run_noise": False, "random_seed": 0}
    target = [("huge", 400.0, "")]
    before = fake_predictor.predict(candidates, target, ["bench_a", "bench_b"], **exact)
    after = fake_predictor.predict(candidates, target, ["bench_a", "bench_b"], **exact,
                                   base_scores=untuned)
    assert after.values[:, b] == pytest.approx(before.values[:, b])
    assert not np.allclose(after.scores[:, a], before.scores[:, a])
    with pytest.raises(SchemaError, match="neither forecast"):
        forecast_datasets(**options, base_scores=untuned.assign(base_model="hgue"))
    with pytest.raises(SchemaError, match="bench_z"):
        forecast_datasets(**options, base_scores=untuned.assign(benchmark="bench_z"))
    # a benchmark the predictor knows but this forecast does not ask for is skipped
    subset = {**options, "benchmarks": ["bench_b"]}
    assert forecast_datasets(**subset, base_scores=untuned).forecast.values == pytest.approx(
        forecast_datasets(**subset).forecast.values)


def test_gather_features_runs_model_free_extractors_and_skips_unconfigured(tmp_path):
    sample = sample_path("gsm8k_test_trace_styles.jsonl")
    table, missing = gather_features([sample], ["redundancy_ratio", "perplexity", "validity",
                                                "reasoning_tokens_pllum"],
                                     extractor_options={"lm": str(tmp_path / "no-such-lm")},
                                     on_error="skip")
    assert table["dataset_id"].tolist() == [sample.stem]
    assert 0 < table["redundancy_ratio"].item() < 1
    # perplexity was configured but its model cannot load; the judge was not configured;
    # no extractor emits the study's tokenizer-specific length
    assert missing == ["perplexity", "validity", "reasoning_tokens_pllum"]


def test_model_free_extractors_run_and_model_ones_wait_for_their_model():
    from metaq.forecasting import _configured

    assert _configured("language", {}) and _configured("redundancy", {})
    assert not _configured("perplexity", {}) and not _configured("tokens", {})
    assert _configured("tokens", {"tokenizer": "gpt2"})
