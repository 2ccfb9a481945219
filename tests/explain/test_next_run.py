"""Which run to do next, on a known posterior: the informative run is ranked first."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.explain.next_run import rank_next_runs

FEATURES = pd.DataFrame({"dataset_id": ["A", "B"], "validity": [0.95, 0.85],
                         "redundancy_ratio": [0.6, 0.4], "perplexity": [1.2, 1.8]})
HUGE = {"name": "huge", "params_b": 400}


def test_run_on_the_unseen_size_informs_its_forecast_most(fake_predictor):
    # the 400B forecast is uncertain mainly through that size's own random offsets, which
    # only a 400B run can inform; a 70B run informs the shared slopes only (B is 1 SD from
    # the training mean on every feature, so its run is informative about slopes)
    table = rank_next_runs(fake_predictor,
                           [{"dataset_id": "B", "name": "large-70b"},
                            {"dataset_id": "B", **HUGE}],
                           FEATURES, interest_datasets=["A"], interest_models=[HUGE],
                           n_outcomes=100, random_seed=1)
    assert table["target_model"].tolist() == ["huge", "large-70b"]
    first, second = table.iloc[0], table.iloc[1]
    assert first["expected_reduction"] > 3 * max(second["expected_reduction"], 1e-6)
    assert 0 < first["reduction_share"] < 1
    assert first["variance_before"] == pytest.approx(second["variance_before"])
    assert 1 <= first["weights_ess"] <= 400


def test_variance_before_is_the_variance_of_the_forecasts_of_interest(fake_predictor):
    table = rank_next_runs(fake_predictor, [{"dataset_id": "A", "name": "small-1b"}], FEATURES,
                           interest_datasets=["A"], interest_models=["small-1b"],
                           benchmarks=["bench_a"], n_outcomes=20)
    forecast = fake_predictor.predict(FEATURES.iloc[[0]], ["small-1b"], ["bench_a"],
                                      include_run_noise=False, random_seed=0)
    assert table["variance_before"].iloc[0] == pytest.approx(forecast.values.var(axis=0).sum())


def _ranked_reduction(model):
    table = rank_next_runs(model, [{"dataset_id": "B", "name": "large-70b"}], FEATURES,
                           interest_datasets=["A"], interest_models=["large-70b"],
                           n_outcomes=200, random_seed=3)
    return table["expected_reduction"].iloc[0]


def test_small_benchmarks_and_a_shared_run_effect_make_a_run_less_informative():
    from fake_predictor import build_fake_predictor

    plain = build_fake_predictor()
    small = build_fake_predictor()
    small.encoding_.tasks["n_items"] = 30.0  # AIME-sized benchmarks: noisier outcomes
    shared = build_fake_predictor()
    shared.run_correlation_ = 0.8  # the run's benchmarks move together: less evidence
    assert _ranked_reduction(small) < 0.8 * _ranked_reduction(plain)
    assert _ranked_reduction(shared) < 0.8 * _ranked_reduction(plain)


def test_a_benchmark_without_a_stored_item_count_needs_one():
    from fake_predictor import build_fake_predictor

    from metaq.exceptions import InvalidParameterError

    model = build_fake_predictor()
    model.encoding_.tasks["n_items"] = float("nan")
    with pytest.raises(InvalidParameterError, match="pass n_items"):
        _ranked_reduction(model)
    table = rank_next_runs(model, [{"dataset_id": "B", "name": "large-70b"}], FEATURES,
                           interest_datasets=["A"], interest_models=["large-70b"],
                           n_items=900, n_outcomes=20)
    assert table["expected_reduction"].iloc[0] > 0
