"""What-if: how the forecast changes when a dataset's features are different.

Both functions evaluate the predictor per posterior draw on the baseline and on the changed
features with the same random numbers (the same new-group offsets, the same draws for
measurement error and missing features), so a contrast is a paired, per-draw difference and
never a difference of two means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from metaq.explain._model import (
    change_draws,
    feature_means,
    model_features,
    training_feature_range,
)
from metaq.explain._names import check_known
from metaq.explain._summary import summarise_draws
from metaq.explain.changes import ChangeValue, apply_changes, as_changes
from metaq.explain.ranges import check_in_range, valid_range
from metaq.modeling.forecast import check_prob

DEFAULT_GRID_POINTS = 21


def what_if(model, baseline: pd.DataFrame, changes: Mapping[str, ChangeValue] | list[str] | str,
            *, target_models=None, benchmarks: Sequence[str] | None = None,
            prob: float | None = None, random_seed: int = 0) -> pd.DataFrame:
    """Per-draw change of the forecast when features of the baseline datasets change.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    baseline : pandas.DataFrame
        Features table rows of the datasets to change (``dataset_id`` + metric columns).
    changes : mapping, list of str or str
        ``{"redundancy_ratio": "-20%", "validity": "+0.05"}`` or
        ``["redundancy_ratio=-20%", "validity=+0.05"]`` (see :mod:`metaq.explain.changes`);
        all changes are applied together.
    target_models : sequence or DataFrame, optional
        Target models (names the predictor saw or ``{"name", "params_b", "family"}``); every
        training base model by default.
    benchmarks : sequence of str, optional
        Benchmarks; all the predictor knows by default.
    prob : float, optional
        Mass of the central interval.
    random_seed : int, default 0
        Seed of the new-group offsets and feature draws (shared by both sides).

    Returns
    -------
    pandas.DataFrame
        One row per (dataset_id, target_model, params_b, benchmark): ``change`` (the changes as
        text), ``baseline_mean``, ``changed_mean``, and the per-draw difference ``estimate``,
        ``lower``, ``upper``, ``prob_positive`` on the model's target scale.

    Raises
    ------
    UnknownNameError
        For a feature the predictor does not use (with a suggestion) or an unknown benchmark.
    OutOfRangeError
        When a change leaves the metric's valid range.

    Examples
    --------
    >>> table = what_if(model, features.query("dataset_id == 'Detailed'"),
    ...                 ["redundancy_ratio=-20%"])  # doctest: +SKIP
    """
    prob = check_prob(prob)
    parsed = as_changes(changes)
    changed = apply_changes(baseline, parsed, model_features(model))
    rows, before = change_draws(model, baseline, target_models, benchmarks, random_seed)
    _, after = change_draws(model, changed, target_models, benchmarks, random_seed)
    table = summarise_draws(after - before, prob).drop(columns="prob_direction")
    table.insert(0, "changed_mean", after.mean(axis=0))
    table.insert(0, "baseline_mean", before.mean(axis=0))
    table.insert(0, "change", "; ".join(c.label for c in parsed))
    return pd.concat([rows.reset_index(drop=True), table], axis=1)


def sweep(model, feature: str, grid: Sequence[float] | np.ndarray | None = None, *,
          baseline: pd.DataFrame | None = None, target_models=None,
          benchmarks: Sequence[str] | None = None, prob: float | None = None,
          random_seed: int = 0) -> pd.DataFrame:
    """Forecast curves with bands as one feature moves over a grid, per model size.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    feature : str
        The feature to move.
    grid : array-like, optional
        Raw values of the feature; by default :data:`DEFAULT_GRID_POINTS` values spanning the
        training datasets' range widened by half a standard deviation each side (clipped to
        the metric's valid range).
    baseline : pandas.DataFrame, optional
        One features row holding the other features; by default a typical dataset (every
        feature at its training mean).
    target_models, benchmarks, prob, random_seed
        As in :func:`what_if`.

    Returns
    -------
    pandas.DataFrame
        One row per (value, target_model, params_b, benchmark): ``feature``, ``value``,
        ``estimate``, ``lower``, ``upper``, ``prob_positive`` of the forecast change, and
        ``difference`` (per-draw mean change relative to the grid's first value).

    Raises
    ------
    UnknownNameError
        For a feature the predictor does not use (with a suggestion).
    OutOfRangeError
        For a grid value outside the metric's valid range.
    """
    prob = check_prob(prob)
    check_known([feature], model_features(model), kind="feature")
    grid = _default_grid(model, feature) if grid is None else np.asarray(grid, dtype=float)
    for value in grid:
        check_in_range(feature, value, context="sweep grid")
    base = _typical_dataset(model) if baseline is None else baseline.iloc[[0]].copy()
    tables, first = [], None
    for value in grid:
        rows, draws = change_draws(model, base.assign(**{feature: value}), target_models,
                                   benchmarks, random_seed)
        first = draws if first is None else first
        table = summarise_draws(draws, prob).drop(columns="prob_direction")
        table["difference"] = (draws - first).mean(axis=0)
        table.insert(0, "value", value)
        table.insert(0, "feature", feature)
        tables.append(pd.concat([rows.drop(columns="dataset_id").reset_index(drop=True), table],
                                axis=1))
    return pd.concat(tables, ignore_index=True)


def _default_grid(model, feature: str) -> np.ndarray:
    low, high, sd = training_feature_range(model, feature)
    bounds = valid_range(feature)
    low, high = max(low - sd / 2, bounds.lower), min(high + sd / 2, bounds.upper)
    return np.linspace(low, high, DEFAULT_GRID_POINTS)


def _typical_dataset(model) -> pd.DataFrame:
    return pd.DataFrame([{"dataset_id": "typical", **feature_means(model)}])
