"""Which features drive the forecast, per model size: standardised slopes and a predictive check.

- :func:`feature_importance`: the posterior of each feature's standardised slope (change on
  the model's linear-predictor scale per +1 training SD of the feature), per target model or
  overall, averaged over the chosen benchmarks within each draw.
- :func:`scale_contrast`: the study's question, "which metrics matter for a small vs a large
  model": both models' slopes and their per-draw difference, with P(larger for the large one).
- :func:`permutation_importance`: a predictive measure. Per posterior draw, how much worse
  the expected change fits the observed training changes (mean squared error) when one
  feature's values are shuffled across the training datasets. It needs no refit; it measures
  how much the fitted model *uses* a feature on the training runs, not out-of-sample value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError
from metaq.explain._model import (
    change_draws,
    known_models,
    model_features,
    slope_draws,
)
from metaq.explain._summary import summarise_draws
from metaq.modeling.forecast import check_prob


def feature_importance(model, *, by: Literal["model", "overall", "block"] = "model",
                       target_models=None, benchmarks: Sequence[str] | None = None,
                       prob: float | None = None, random_seed: int = 0) -> pd.DataFrame:
    """Posterior of each feature's standardised slope, per target model or overall.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    by : {"model", "overall", "block"}, default "model"
        One row per (target model, feature), per feature averaged over the target models
        within each draw, or per (target model, block) of near-copy features
        (:func:`block_weights`): the change per +1 unit along the block's shared direction,
        which the data can identify when its single features cannot be told apart.
    target_models : sequence or DataFrame, optional
        Models (names the predictor saw, or ``{"name", "params_b", "family"}`` for any size);
        the training base models by default. An unseen size gets the population's slopes
        plus a fresh draw of the model-level offset, so its intervals are wider.
    benchmarks : sequence of str, optional
        Benchmarks averaged over; all the predictor knows by default.
    prob : float, optional
        Mass of the central interval.
    random_seed : int, default 0
        Seed of the new-model offsets.

    Returns
    -------
    pandas.DataFrame
        ``[target_model, params_b,] feature, block, estimate, lower, upper, prob_positive,
        prob_direction``, sorted by ``|estimate|`` within each model; with ``by="block"``
        ``feature`` is the block's features joined with ``+`` (signed ``-`` where a feature
        runs against the block's first one).

    Raises
    ------
    UnknownNameError
        For an unknown benchmark.
    """
    prob = check_prob(prob)
    if by not in ("model", "overall", "block"):
        raise InvalidParameterError(f"by={by!r}; choose 'model', 'overall' or 'block'")
    targets, slopes = slope_draws(model, target_models, benchmarks, random_seed)
    per_model = slopes.mean(axis=2)  # (sample, model, feature): average over benchmarks
    names, weights = block_weights(model)
    features, blocks = model_features(model), names[np.argmax(np.abs(weights), axis=1)]
    if by == "block":
        per_model, features = per_model @ weights, list(names)
        blocks = names
    if by == "overall":
        table = summarise_draws(per_model.mean(axis=1), prob)
        table.insert(0, "block", blocks)
        table.insert(0, "feature", features)
        return _by_magnitude(table, [])
    tables = []
    for position, target in targets.reset_index(drop=True).iterrows():
        table = summarise_draws(per_model[:, position], prob)
        table.insert(0, "block", blocks)
        table.insert(0, "feature", features)
        table.insert(0, "params_b", target["params_b"])
        table.insert(0, "target_model", target["name"])
        tables.append(table)
    return _by_magnitude(pd.concat(tables, ignore_index=True), ["target_model"])


def block_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of near-copy features and the signed ``(feature, block)`` map onto them.

    A block's direction moves each of its features by one standardised unit, in the sign
    of its correlation with the block's first feature over the training datasets; a
    block's slope is then ``sum_k sign_k slope_k``.

    Returns
    -------
    names : numpy.ndarray
        Block labels (features joined with ``+``, ``-`` before an opposite-signed one).
    weights : numpy.ndarray
        ``(feature, block)`` of 0 and +-1.
    """
    blocks = np.asarray(model.feature_blocks_, dtype=int)
    features = model_features(model)
    train = np.asarray(model.training_x_, dtype=float)
    weights = np.zeros((len(features), blocks.max() + 1 if len(blocks) else 0))
    names = []
    for block in range(weights.shape[1]):
        members = np.flatnonzero(blocks == block)
        lead = train[:, members[0]]
        signs = [1.0 if k == members[0] or np.dot(train[:, k] - train[:, k].mean(),
                                                  lead - lead.mean()) >= 0 else -1.0
                 for k in members]
        weights[members, block] = signs
        names.append("+".join(("" if sign > 0 else "-") + features[k]
                              for k, sign in zip(members, signs, strict=True)))
    return np.asarray(names, dtype=object), weights


def scale_contrast(model, small=None, large=None, *, benchmarks: Sequence[str] | None = None,
                   prob: float | None = None, random_seed: int = 0) -> pd.DataFrame:
    """Which metrics matter for a small vs a large model: slopes of both and their difference.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    small, large : str or mapping, optional
        The two models (a name the predictor saw or ``{"name", "params_b"}``); by default the
        smallest and the largest training base model.
    benchmarks, prob, random_seed
        As in :func:`feature_importance`.

    Returns
    -------
    pandas.DataFrame
        Three rows per feature, ``term`` = ``"small"``, ``"large"`` and ``"large - small"``
        (the per-draw difference of the slopes), with ``target_model``, ``params_b``,
        ``estimate``, ``lower``, ``upper``, ``prob_positive``, ``prob_direction``.
    """
    prob = check_prob(prob)
    seen = known_models(model).sort_values("params_b", kind="stable")
    pair = [small if small is not None else seen["name"].iloc[0],
            large if large is not None else seen["name"].iloc[-1]]
    targets, slopes = slope_draws(model, pair, benchmarks, random_seed)
    per_model = slopes.mean(axis=2)
    parts = {"small": per_model[:, 0], "large": per_model[:, 1],
             "large - small": per_model[:, 1] - per_model[:, 0]}
    names = [targets["name"].iloc[0], targets["name"].iloc[1],
             f"{targets['name'].iloc[1]} - {targets['name'].iloc[0]}"]
    sizes = [targets["params_b"].iloc[0], targets["params_b"].iloc[1], np.nan]
    tables = []
    for (term, draws), name, size in zip(parts.items(), names, sizes, strict=True):
        table = summarise_draws(draws, prob)
        table.insert(0, "params_b", size)
        table.insert(0, "target_model", name)
        table.insert(0, "term", term)
        table.insert(0, "feature", model_features(model))
        tables.append(table)
    return (pd.concat(tables, ignore_index=True)
            .sort_values(["feature", "term"], key=_term_order, kind="stable")
            .reset_index(drop=True))


def permutation_importance(model, runs: pd.DataFrame, features: pd.DataFrame, *,
                           n_permutations: int = 20, prob: float | None = None,
                           random_seed: int = 0) -> pd.DataFrame:
    """Posterior-predictive permutation importance of each feature on the training runs.

    For each feature and permutation, the feature's values are shuffled across the training
    datasets (distinct non-identity permutations) and the expected change of every whole-benchmark
    training run is recomputed per posterior draw; the importance is the increase of the mean
    squared error against the observed changes, averaged over permutations, per draw.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    runs, features : pandas.DataFrame
        Its training runs and features tables (validated); runs on one domain of a
        benchmark and runs without an untuned score are left out.
    n_permutations : int, default 20
        Shuffles per feature (all distinct ones when there are fewer).
    prob : float, optional
        Mass of the central interval.
    random_seed : int, default 0
        Seed of the shuffles and of the forecast draws.

    Returns
    -------
    pandas.DataFrame
        ``feature, estimate, lower, upper, prob_positive, prob_direction`` (MSE increase on
        the target scale; larger = the fit relies more on the feature), sorted by estimate.

    Raises
    ------
    InvalidParameterError
        When `n_permutations` is below 1.
    """
    prob = check_prob(prob)
    if n_permutations < 1:
        raise InvalidParameterError(f"n_permutations={n_permutations!r} must be at least 1")
    runs, observed, features = _whole_benchmark_runs(model, runs, features)
    rng = np.random.default_rng(random_seed)
    baseline = _run_errors(model, runs, observed, features, random_seed)
    tables = []
    for feature in model_features(model):
        increase = np.zeros_like(baseline)
        orders = _shuffles(len(features), n_permutations, rng)
        for order in orders:
            shuffled = features.assign(**{feature: features[feature].to_numpy()[order]})
            increase += _run_errors(model, runs, observed, shuffled, random_seed) - baseline
        table = summarise_draws(increase / len(orders), prob)
        table.insert(0, "feature", feature)
        tables.append(table)
    return (pd.concat(tables, ignore_index=True).sort_values("estimate", ascending=False)
            .reset_index(drop=True))


def _whole_benchmark_runs(model, runs: pd.DataFrame, features: pd.DataFrame
                          ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    from metaq.tables.targets import derive_target

    runs = runs.loc[(runs["domain"] == "") & runs["score_base"].notna()].reset_index(drop=True)
    observed = derive_target(runs, model.target).to_numpy(dtype=float)
    rows = features.loc[(features["domain"] == "")
                        & features["dataset_id"].isin(set(runs["dataset_id"]))]
    return runs, observed, rows.reset_index(drop=True)


def _run_errors(model, runs: pd.DataFrame, observed: np.ndarray, features: pd.DataFrame,
                random_seed: int) -> np.ndarray:
    """Per-draw mean squared error of the expected change over the training runs."""
    rows, draws = change_draws(model, features, runs["base_model"].unique().tolist(),
                               sorted(set(runs["benchmark"])), random_seed)
    position = {key: i for i, key in enumerate(zip(rows["dataset_id"], rows["target_model"],
                                                   rows["benchmark"], strict=True))}
    columns = [position[key] for key in zip(runs["dataset_id"], runs["base_model"],
                                            runs["benchmark"], strict=True)]
    return np.mean((draws[:, columns] - observed[None, :]) ** 2, axis=1)


def _shuffles(n: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Up to `count` distinct non-identity permutations of ``range(n)``."""
    identity = np.arange(n)
    found: dict[bytes, np.ndarray] = {}
    for _ in range(50 * count):
        order = rng.permutation(n)
        if not np.array_equal(order, identity):
            found.setdefault(order.tobytes(), order)
        if len(found) == count:
            break
    return list(found.values())


def _by_magnitude(table: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    order = table.assign(_size=-table["estimate"].abs())
    return (order.sort_values([*groups, "_size"], kind="stable").drop(columns="_size")
            .reset_index(drop=True))


def _term_order(column: pd.Series) -> pd.Series:
    if column.name == "term":
        return column.map({"small": 0, "large": 1, "large - small": 2})
    return column
