"""The one place explain reads a fitted predictor, through its public API.

Everything goes through ``HierarchicalDeltaModel.predict`` / ``.slopes`` /
``.contributions``, so explain tables agree with forecasts. Calls take a seed: two calls with
the same seed and the same (datasets, models, benchmarks) shapes use the same random numbers
(new-group offsets, feature draws), which makes what-if contrasts paired per draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def model_features(model) -> list[str]:
    """Return the features the predictor uses, in model order."""
    return list(model.features_)


def known_models(model) -> pd.DataFrame:
    """Return the predictor's training base models: ``name``, ``params_b``, ``family``."""
    return model.encoding_.models[["name", "params_b", "family"]].reset_index(drop=True)


def feature_means(model) -> dict[str, float]:
    """Training mean of each feature (a typical dataset)."""
    scaler = model.feature_scaler_
    return dict(zip(scaler.features, scaler.means.tolist(), strict=True))


def training_feature_range(model, feature: str) -> tuple[float, float, float]:
    """(min, max, sd) of `feature` over the training datasets, in raw units."""
    position = model_features(model).index(feature)
    raw = model.feature_scaler_.inverse_transform(model.training_x_)[:, position]
    return float(raw.min()), float(raw.max()), float(model.feature_scaler_.sds[position])


def resolve_targets(model, target_models) -> pd.DataFrame:
    """Target models completed with their size and family, as the predictor reads them."""
    return model.resolve_target_models(target_models)


def resolve_benchmarks(model, benchmarks: Sequence[str] | None) -> list[str]:
    """Task labels of `benchmarks` as the predictor reads them (whole benchmarks when None)."""
    return model.resolve_benchmarks(benchmarks)["label"].tolist()


def slope_draws(model, target_models, benchmarks: Sequence[str] | None,
                random_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Standardised slopes per draw: targets and ``(sample, model, benchmark, feature)``."""
    targets = resolve_targets(model, target_models)
    slopes = model.slopes(targets, resolve_benchmarks(model, benchmarks),
                          random_seed=random_seed)
    values = slopes.transpose("chain", "draw", "target_model", "task", "feature").to_numpy()
    return targets, values.reshape(-1, *values.shape[2:])


def _forecast(model, features: pd.DataFrame, target_models, benchmarks, random_seed: int):
    return model.predict(features.reset_index(drop=True), resolve_targets(model, target_models),
                         resolve_benchmarks(model, benchmarks), include_run_noise=False,
                         random_seed=random_seed)


def _row_index(forecast) -> pd.DataFrame:
    rows = forecast.rows
    label = np.where(rows["domain"] == "", rows["benchmark"],
                     rows["benchmark"] + "/" + rows["domain"])
    return pd.DataFrame({"dataset_id": rows["dataset_id"], "target_model": rows["target_model"],
                         "params_b": rows["params_b"], "benchmark": label})


def change_draws(model, features: pd.DataFrame, target_models, benchmarks,
                 random_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw the expected change (no run-to-run noise) on the target scale per row."""
    forecast = _forecast(model, features, target_models, benchmarks, random_seed)
    return _row_index(forecast), forecast.values


def contribution_draws(model, features: pd.DataFrame, target_models, benchmarks,
                       random_seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per-feature terms ``x_k * slope_k`` and their sum, on the linear-predictor scale.

    Returns rows (dataset x model x benchmark), ``(sample, row, feature + 1)`` draws (the
    last column is the sum over features: the forecast's distance from a typical dataset) and
    the ``(row, feature)`` standardised feature values (NaN where missing).
    """
    targets = resolve_targets(model, target_models)
    chosen = resolve_benchmarks(model, benchmarks)
    table = features.reset_index(drop=True)
    parts = model.contributions(table, targets, chosen, random_seed=random_seed)
    parts = parts.transpose("chain", "draw", "dataset_id", "target_model", "task", "feature")
    terms = parts.to_numpy().reshape(-1, *parts.shape[2:])  # (sample, d, m, t, k)
    stacked = np.concatenate([terms, terms.sum(axis=-1, keepdims=True)], axis=-1)
    rows = _rows(table, targets, chosen)
    x_rows = np.repeat(model.feature_scaler_.transform(table), len(targets) * len(chosen),
                       axis=0)
    return rows, stacked.reshape(stacked.shape[0], -1, stacked.shape[-1]), x_rows


def _rows(table: pd.DataFrame, targets: pd.DataFrame, benchmarks: list[str]) -> pd.DataFrame:
    """Row index in (dataset, model, benchmark) order, as predict and contributions use."""
    n_d, n_m, n_t = len(table), len(targets), len(benchmarks)
    model_pos = np.tile(np.repeat(np.arange(n_m), n_t), n_d)
    return pd.DataFrame({
        "dataset_id": np.repeat(table["dataset_id"].to_numpy(dtype=object), n_m * n_t),
        "target_model": targets["name"].to_numpy(dtype=object)[model_pos],
        "params_b": targets["params_b"].to_numpy(dtype=float)[model_pos],
        "benchmark": np.tile(np.asarray(benchmarks, dtype=object), n_d * n_m)})


def run_outcome_draws(model, features: pd.DataFrame, target_models, benchmarks, *,
                      n_items: int | None, random_seed: int
                      ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the expected change and the mean and sd of a future run's outcome.

    With the binomial likelihood the outcome is the run's logit fine-tuned score, Gaussian
    around ``logit(p)`` with variance ``(run_sd**2 + 1 / n) / (p (1 - p))`` (the
    beta-binomial's variance on the logit scale by the delta method), ``n`` the benchmark's
    item count from the training runs (`n_items` where it is unknown, or for every
    benchmark when the predictor stored none); with the Student-t one it is the change
    itself, with sd ``residual_sd * y_scale``.

    Returns rows, change ``(sample, row)`` on the target scale, outcome mean and sd
    ``(sample, row)``.
    """
    from scipy.special import logit

    from metaq.modeling.predictive import flatten_posterior

    forecast = _forecast(model, features, target_models, benchmarks, random_seed)
    params = flatten_posterior(model.idata_.posterior, ["run_sd", "residual_sd"])
    if model.likelihood_ == "binomial":
        p = forecast.scores
        items = benchmark_items(model, forecast.rows, fallback=n_items)
        sd = np.sqrt((np.square(params["run_sd"])[:, None] + 1.0 / items[None, :])
                     / (p * (1.0 - p)))
        mean = logit(p)
    else:
        mean = forecast.values
        sd = np.broadcast_to((params["residual_sd"] * model.y_scale_)[:, None], mean.shape)
    return _row_index(forecast), forecast.values, mean, sd


def benchmark_items(model, rows: pd.DataFrame, *, fallback: int | None) -> np.ndarray:
    """Item count of each forecast row's benchmark: the training count, else `fallback`.

    Raises
    ------
    InvalidParameterError
        When a benchmark has no stored count and no `fallback` is given.
    """
    from metaq.exceptions import InvalidParameterError

    t_idx = model.encoding_.task_index(rows["benchmark"].tolist(), rows["domain"].tolist())
    items = model.encoding_.task_items(t_idx)
    unknown = np.isnan(items)
    if unknown.any():
        if fallback is None:
            names = sorted(set(rows.loc[unknown, "benchmark"]))
            raise InvalidParameterError(
                f"no item count is known for benchmark(s) {names} (the training runs had no "
                f"n_items for them). Fix: pass n_items=<items per benchmark>.")
        items = np.where(unknown, float(fallback), items)
    return items


def forecast_draws(forecast) -> tuple[pd.DataFrame, np.ndarray]:
    """Whole-benchmark rows of a Forecast and their draws ``(sample, row)``."""
    whole = (forecast.rows["domain"] == "").to_numpy()
    return forecast.rows.loc[whole].reset_index(drop=True), forecast.values[:, whole]
