"""Candidate ranking: P(best), regret and benchmark verdicts, on hand-built and known forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.exceptions import UnknownNameError
from metaq.explain.ranking import benchmark_effects, rank_candidates
from metaq.modeling.forecast import Forecast


def _forecast(draws: np.ndarray, datasets, benchmarks) -> Forecast:
    rows = pd.DataFrame([(d, b) for d in datasets for b in benchmarks],
                        columns=["dataset_id", "benchmark"])
    rows = rows.assign(target_model="m", params_b=8.0, family="llama", domain="",
                       seen_model=True, missing_features="")
    return Forecast(draws, np.full_like(draws, np.nan), rows, target="abs", model_name="test")


def test_rank_by_weighted_benchmark_mean_per_draw():
    # columns: A/b1, A/b2, B/b1, B/b2 over 4 draws
    draws = np.array([[1.0, 0.0, 0.0, 0.0],
                      [0.0, 0.0, 0.0, 2.0],
                      [2.0, 2.0, 0.0, 0.0],
                      [0.0, 1.0, 1.0, 0.0]])
    table = rank_candidates(_forecast(draws, ["A", "B"], ["b1", "b2"])).set_index("dataset_id")
    # utilities per draw: A = [0.5, 0, 2, 0.5], B = [0, 1, 0, 0.5]
    assert table.loc["A", "estimate"] == pytest.approx(0.75)
    assert table.loc["A", "prob_best"] == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    assert table.loc["B", "expected_regret"] == pytest.approx((0.5 + 0 + 2 + 0) / 4)
    assert table.loc["A", "expected_regret"] == pytest.approx((0 + 1 + 0 + 0) / 4)
    assert table.loc["A", "rank"] == 1 and table.loc["B", "rank"] == 2
    weighted = rank_candidates(_forecast(draws, ["A", "B"], ["b1", "b2"]),
                               weights={"b2": 1.0}).set_index("dataset_id")
    assert weighted.loc["B", "estimate"] == pytest.approx(0.5)  # only b2 counts


def test_known_forecast_ranks_the_better_dataset_first(fake_predictor):
    candidates = pd.DataFrame({"dataset_id": ["good", "plain", "bad"],
                               "validity": [0.95, 0.9, 0.85], "redundancy_ratio": 0.5,
                               "perplexity": [1.2, 1.5, 1.8]})
    forecast = fake_predictor.predict(candidates, ["small-1b", "large-70b"],
                                      include_run_noise=False, random_seed=0)
    table = rank_candidates(forecast)
    for _, part in table.groupby("target_model"):
        assert part["dataset_id"].tolist() == ["good", "plain", "bad"]
        assert part["prob_best"].iloc[0] == 1.0
        assert part["expected_regret"].iloc[0] == 0.0
        assert part["helps"].iloc[0] == "bench_a,bench_b"
        assert part["hurts"].iloc[-1] == "bench_a,bench_b"


def test_benchmark_verdicts_use_the_decisive_threshold():
    draws = np.column_stack([np.linspace(0.01, 1, 100),     # always a gain: helps
                             np.linspace(-1, -0.01, 100),   # always a loss: hurts
                             np.linspace(-0.5, 0.5, 100)])  # half and half: unclear
    effects = benchmark_effects(_forecast(draws, ["A"], ["b1", "b2", "b3"]))
    assert effects["verdict"].tolist() == ["helps", "hurts", "unclear"]
    assert effects["prob_positive"].tolist() == [1.0, 0.0, 0.5]


def test_unknown_benchmark_and_weight_are_refused():
    forecast = _forecast(np.zeros((2, 2)), ["A"], ["b1", "b2"])
    with pytest.raises(UnknownNameError, match="did you mean 'b1'"):
        rank_candidates(forecast, benchmarks=["b11"])
    with pytest.raises(UnknownNameError, match="unknown benchmark 'b3'"):
        rank_candidates(forecast, weights={"b3": 1.0})
