import numpy as np
import pandas as pd
import pytest

from metaq.exceptions import InvalidParameterError
from metaq.modeling.forecast import Forecast, forecast_rows


def _forecast():
    models = pd.DataFrame({"name": ["m8", "m30"], "params_b": [8.0, 30.0],
                           "family": ["llama", "qwen"]})
    tasks = pd.DataFrame({"benchmark": ["b1", "b2"], "domain": ["", "x"]})
    rows = forecast_rows(["d1", "d2", "d3"], models, tasks, ["", "validity", ""],
                         np.array([True, False]))
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(400, len(rows))) + np.repeat([0.0, 0.5, -0.5], 4)[None]
    return Forecast(draws, 0.5 + 0.1 * draws, rows, target="abs", model_name="test"), draws


def test_rows_are_datasets_by_models_by_tasks():
    forecast, _ = _forecast()
    rows = forecast.rows
    assert len(rows) == 12
    assert rows.loc[5, ["dataset_id", "target_model", "benchmark", "domain"]].tolist() == [
        "d2", "m8", "b2", "x"]
    assert rows["seen_model"].tolist()[:4] == [True, True, False, False]
    assert forecast.missing_features == {"d1": [], "d2": ["validity"], "d3": []}


def test_summary_matches_hand_computation():
    forecast, draws = _forecast()
    summary = forecast.summary(prob=0.8)
    column = draws[:, 7]
    row = summary.iloc[7]
    assert row["estimate"] == pytest.approx(column.mean())
    assert row["sd"] == pytest.approx(column.std(ddof=1))
    assert row["lower"] == pytest.approx(np.quantile(column, 0.1))
    assert row["upper"] == pytest.approx(np.quantile(column, 0.9))
    assert row["prob_gain"] == pytest.approx((column > 0).mean())
    assert row["score_estimate"] == pytest.approx(0.5 + 0.1 * column.mean())
    for name in ("dataset_id", "target_model", "params_b", "benchmark", "domain", "estimate",
                 "sd", "lower", "upper", "prob_gain", "prob_best", "score_estimate",
                 "score_lower", "score_upper",
                 "target"):
        assert name in summary.columns


def test_prob_best_sums_to_one_per_model_and_benchmark():
    forecast, draws = _forecast()
    summary = forecast.summary()
    totals = summary.groupby(["target_model", "benchmark", "domain"])["prob_best"].sum()
    assert totals.to_numpy() == pytest.approx(1.0)
    # d2 is shifted up by 0.5: it wins most often; the by-hand count agrees
    wins = np.argmax(draws[:, [0, 4, 8]], axis=1)
    assert summary.loc[[0, 4, 8], "prob_best"].tolist() == pytest.approx(
        np.bincount(wins, minlength=3) / len(draws))
    assert summary.loc[4, "prob_best"] > summary.loc[0, "prob_best"]


def test_bad_prob_is_refused():
    forecast, _ = _forecast()
    with pytest.raises(InvalidParameterError, match="prob=1.5"):
        forecast.summary(prob=1.5)


def test_unknown_scores_stay_missing():
    forecast, draws = _forecast()
    scores = forecast.scores.copy()
    scores[:, 0] = np.nan
    summary = Forecast(draws, scores, forecast.rows, target="abs", model_name="t").summary()
    assert np.isnan(summary.loc[0, "score_estimate"])
    assert np.isfinite(summary.loc[1, "score_estimate"])


def test_files_and_long_draws(tmp_path):
    forecast, draws = _forecast()
    back = pd.read_csv(forecast.to_csv(tmp_path / "f.csv"), keep_default_na=False)
    assert back["estimate"].to_numpy() == pytest.approx(draws.mean(axis=0))
    long = pd.read_parquet(forecast.to_parquet(tmp_path / "d.parquet", draws=True))
    assert len(long) == draws.size
    assert long.loc[(long["sample"] == 3) & (long["dataset_id"] == "d2")
                    & (long["target_model"] == "m30") & (long["benchmark"] == "b1"),
                    "delta"].item() == pytest.approx(draws[3, 6])
    assert forecast.to_xarray().sel(row=6).isel(sample=3).item() == pytest.approx(draws[3, 6])
