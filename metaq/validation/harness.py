"""Cross-validate forecasters on a runs table: every model on the same folds, side by side.

For each fold of a scheme (:mod:`metaq.validation.schemes`) every model is fitted on the
training runs (and the features of their datasets only) and forecasts the held-out runs:
their datasets, base models (unseen sizes as ``(name, params_b, family)``) and benchmarks.
Each held-out run is scored from its predictive draws (:mod:`metaq.validation.scores`).

The outcome is the change on the ``target`` scale when every run has an untuned score, else
the fine-tuned score itself (published tables often print no untuned score). The Bayesian
models forecast the score from their latent untuned level; the point baselines, which model
an observed change, then learn the fine-tuned score as the change from an untuned score of 0
(so ``no_feature`` is the mean score of the other datasets for that model and benchmark).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, MetaqError, UnknownNameError
from metaq.modeling.protocols import Forecaster, clone, param_names
from metaq.tables import (
    derive_target,
    read_features,
    read_runs,
    validate_features,
    validate_runs,
)
from metaq.tables.runs import KEY, STUDY, run_key
from metaq.validation import scores
from metaq.validation.schemes import MAX_PAIRS, Fold, held_out_unit, make_folds

logger = logging.getLogger(__name__)

#: Forecasters by name -> "module:class". Bayesian ones take sampler settings.
MODELS: dict[str, str] = {
    "hierarchical": "metaq.modeling.hierarchical:HierarchicalDeltaModel",
    "pooled": "metaq.modeling.hierarchical:PooledDeltaModel",
    "no_feature": "metaq.modeling.baselines:NoFeatureBaseline",
    "two_way": "metaq.modeling.baselines:TwoWayBaseline",
    "study_rank": "metaq.modeling.baselines:StudyRankBaseline",
    "ridge": "metaq.modeling.baselines:RidgeBaseline",
    "gradient_boosting": "metaq.modeling.baselines:GradientBoostingBaseline",
}
#: Small sampler settings: enough for intervals, fast enough for many folds on 2 cores.
VALIDATION_SAMPLER: dict[str, Any] = {"draws": 300, "tune": 500, "chains": 2}
INTERVALS = (0.5, 0.9)
#: Forecasts ranked against each other: one target model and benchmark, within one fit.
COMPARISON_SET = ["fold", "base_model", "benchmark", "domain"]
#: The held-out refits behind a point baseline's residuals, per scheme: what its forecasts face.
RESIDUAL_SCHEME = {"loo-dataset": "loo-dataset", "leave-pair-out": "loo-dataset",
                   "loo-size": "loo-size", "loo-study": "loo-study", "kfold": "kfold"}


@dataclass(frozen=True)
class ValidationResult:
    """Out-of-sample predictions and scores of several models on the same folds.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per (model, held-out run): fold, ``unit`` (the held-out unit it shares its
        surprise with, :func:`metaq.validation.schemes.held_out_unit`), run key (with
        ``study`` where the runs table has one),
        ``score_ft``, ``n_items``, ``observed`` (the outcome), ``mean``, ``sd``, ``crps``,
        ``log_density``, ``pit``, ``covered_50``, ``covered_90``.
    scores : pandas.DataFrame
        One row per model (see :func:`summarise`).
    differences : pandas.DataFrame
        Each model's CRPS minus the best model's with a paired bootstrap interval over
        held-out units (:func:`metaq.validation.scores.paired_differences`): ``table,
        scheme, model, crps, crps_diff, lo, hi, beyond_noise, n_runs, n_units``.
    folds : pandas.DataFrame
        One row per (model, fold): sizes, fit status and sampler diagnostics.
    scheme : str
        The cross-validation scheme.
    outcome : str
        ``"delta_<target>"`` or ``"score_ft"``.
    """

    predictions: pd.DataFrame
    scores: pd.DataFrame
    differences: pd.DataFrame
    folds: pd.DataFrame
    scheme: str
    outcome: str

    def save(self, folder: str | Path) -> Path:
        """Write ``predictions.csv``, ``scores.csv``, ``differences.csv``, ``folds.csv``, a plot.

        The plot is ``calibration.png``; ``differences.csv`` names the table by `folder`'s
        name where the result has no table label.
        """
        from metaq.validation.plots import plot_calibration

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.predictions.to_csv(folder / "predictions.csv", index=False)
        self.scores.to_csv(folder / "scores.csv", index=False)
        differences = self.differences.copy()
        differences["table"] = differences["table"].replace("", folder.name)
        differences.to_csv(folder / "differences.csv", index=False)
        self.folds.to_csv(folder / "folds.csv", index=False)
        figure = plot_calibration(self.predictions, title=f"{self.scheme}, {self.outcome}")
        figure.savefig(folder / "calibration.png", dpi=120, bbox_inches="tight")
        return folder


def cross_validate(runs: pd.DataFrame | str | Path, features: pd.DataFrame | str | Path, *,
                   models: Sequence[str] | Mapping[str, Forecaster] = tuple(MODELS),
                   scheme: Literal["loo-dataset", "loo-size", "loo-study", "leave-pair-out",
                                   "kfold"] = "loo-dataset",
                   k: int = 5, max_pairs: int | None = MAX_PAIRS,
                   target: Literal["logit", "abs", "rel"] = "abs",
                   sampler: Mapping[str, Any] | None = None,
                   random_seed: int | None = 0, item_noise: bool = True,
                   label: str = "") -> ValidationResult:
    """Fit every model on every fold's training runs and score its held-out forecasts.

    Parameters
    ----------
    runs : pandas.DataFrame or path
        Runs table (a path is read with :func:`metaq.read_runs`).
    features : pandas.DataFrame or path
        Features table with a row for each dataset of `runs` (missing values allowed).
    models : sequence of str, or mapping of str to Forecaster
        Names from :data:`MODELS` (built with `target` and, for the Bayesian ones, `sampler`),
        or configured forecasters by name (:class:`metaq.modeling.protocols.Forecaster`,
        e.g. ``{"mine": HierarchicalDeltaModel(priors={...})}``). Each fold fits an unfitted
        copy (:func:`metaq.modeling.protocols.clone`); a point baseline's residual refits
        are set to hold out what the scheme holds out.
    scheme : str, default "loo-dataset"
        ``"loo-dataset"``, ``"loo-size"``, ``"loo-study"``, ``"leave-pair-out"`` or
        ``"kfold"``: how runs are held out (:func:`metaq.validation.schemes.make_folds`).
        Rankings are scored within a fold only, so ``loo-dataset`` has none:
        ``leave-pair-out`` ranks two unseen datasets with one fit. ``loo-study`` needs a
        ``study`` column in `runs`; each held-out study is forecast as a new study
        (``predict(study=None)``), runs of a training study within it.
    k : int, default 5
        Folds of ``kfold``.
    max_pairs : int, optional
        Pairs of ``leave-pair-out`` at most (a random subset beyond it).
    target : {"logit", "abs", "rel"}, default "abs"
        Scale of the change every model forecasts (and is scored on when untuned scores are
        known); ``abs`` scores are in accuracy points (0-1 scale).
    sampler : mapping, optional
        Sampler settings of the Bayesian models; default :data:`VALIDATION_SAMPLER`.
    random_seed : int, optional
        Seed of folds, samplers and predictive draws.
    item_noise : bool, default True
        Let the Bayesian models forecast the recorded outcome, including the binomial
        sampling of the benchmark's items and the printed untuned score
        (``predict(item_noise=True)``): a held-out run is a printed score, and the point
        baselines' residual bootstrap carries that noise already, as their residuals are of
        recorded outcomes. ``False`` scores the forecast of the model's accuracy against the
        printed score (an ablation).
    label : str, optional
        Name of the table, carried into ``differences``.

    Returns
    -------
    ValidationResult

    Raises
    ------
    UnknownNameError
        For an unknown model or scheme name.
    InvalidParameterError
        For ``scheme="loo-study"`` on runs without a ``study`` column.
    SchemaError
        For invalid tables.

    Examples
    --------
    >>> from metaq.modeling.simulate import simulate_runs
    >>> sim = simulate_runs(n_datasets=6, random_seed=0)
    >>> result = cross_validate(sim.runs, sim.features, models=["hierarchical"],
    ...                         sampler={"draws": 100, "tune": 100})  # doctest: +SKIP
    >>> result.scores[["model", "crps", "coverage_90"]]  # doctest: +SKIP
    """
    templates = _templates(models, target=target,
                           sampler={**VALIDATION_SAMPLER, **(sampler or {})})
    runs = read_runs(runs) if isinstance(runs, str | Path) else validate_runs(runs)
    features = (read_features(features, allow_missing=True) if isinstance(features, str | Path)
                else validate_features(features, allow_missing=True))
    outcome = f"delta_{target}" if runs["score_base"].notna().all() else "score_ft"
    folds = make_folds(runs, scheme, k=k, max_pairs=max_pairs, random_seed=random_seed)
    predictions, fold_rows = [], []
    for fold in folds:
        for name, template in templates.items():
            result, status = _run_fold(name, template, fold, runs, features, outcome=outcome,
                                       scheme=scheme, random_seed=random_seed,
                                       item_noise=item_noise)
            fold_rows.append(status)
            if result is not None:
                predictions.append(result)
    table = pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame()
    if len(table):
        table.insert(2, "unit", held_out_unit(scheme, table["fold"], table["dataset_id"]))
    return ValidationResult(table, summarise(table, list(templates), random_seed=random_seed),
                            differences(table, label=label, scheme=scheme,
                                        random_seed=random_seed),
                            pd.DataFrame(fold_rows), scheme, outcome)


def summarise(predictions: pd.DataFrame, models: Sequence[str], *,
              random_seed: int | None = 0) -> pd.DataFrame:
    """One row per model: mean per-run scores, coverage and ranking scores.

    Returns
    -------
    pandas.DataFrame
        ``model, n_runs, crps, log_density, mae, coverage_50, coverage_90,
        coverage_90_lo, coverage_90_hi`` (95 % bootstrap interval of the 90 % coverage over
        held-out units, :func:`metaq.validation.scores.cluster_bootstrap_interval`), and the
        ranking scores of :func:`metaq.validation.scores.ranking_scores` within each fold's
        comparison sets (:data:`COMPARISON_SET`; NaN for a model without predictions, and
        for a scheme whose folds hold out one dataset each).
    """
    rows = []
    for name in models:
        own = predictions[predictions["model"] == name] if len(predictions) else predictions
        row: dict[str, Any] = {"model": name, "n_runs": len(own)}
        if len(own):
            row.update({
                "crps": own["crps"].mean(), "log_density": own["log_density"].mean(),
                "mae": (own["mean"] - own["observed"]).abs().mean(),
                "coverage_50": own["covered_50"].mean(), "coverage_90": own["covered_90"].mean(),
                **dict(zip(("coverage_90_lo", "coverage_90_hi"),
                           scores.cluster_bootstrap_interval(own["covered_90"].to_numpy(),
                                                             own["unit"],
                                                             random_seed=random_seed),
                           strict=True)),
                **scores.ranking_scores(own, group=COMPARISON_SET, random_seed=random_seed),
            })
        rows.append(row)
    return pd.DataFrame(rows)


def differences(predictions: pd.DataFrame, *, label: str, scheme: str,
                random_seed: int | None = 0) -> pd.DataFrame:
    """CRPS of each model minus the best one's, with a paired bootstrap over held-out units.

    Returns
    -------
    pandas.DataFrame
        ``table, scheme`` and the columns of
        :func:`metaq.validation.scores.paired_differences`.
    """
    columns = ["table", "scheme", "model", "n_runs", "n_units", "crps", "crps_diff", "lo",
               "hi", "beyond_noise"]
    if predictions.empty:
        return pd.DataFrame(columns=columns)
    table = scores.paired_differences(predictions, key=["fold", *run_key(predictions)],
                                      random_seed=random_seed)
    return table.assign(table=label, scheme=scheme)[columns]


def build_model(name: str, *, target: str, sampler: Mapping[str, Any]) -> Forecaster:
    """Return an unfitted forecaster of :data:`MODELS` forecasting the change on `target`.

    The Bayesian ones take `sampler`.
    """
    if name not in MODELS:
        raise UnknownNameError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    module, _, attr = MODELS[name].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if "sampler" in param_names(cls):
        return cls(target=target, sampler=dict(sampler))
    return cls(target=target)


def _templates(models: Sequence[str] | Mapping[str, Forecaster], *, target: str,
               sampler: Mapping[str, Any]) -> dict[str, Forecaster]:
    if isinstance(models, Mapping):
        wrong = [name for name, model in models.items() if not isinstance(model, Forecaster)]
        if wrong:
            raise InvalidParameterError(f"models {wrong} do not implement the Forecaster "
                                        f"interface (fit, predict, resolve_target_models, ...)")
        return dict(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UnknownNameError(f"unknown model(s) {unknown}; choose from {sorted(MODELS)}")
    return {name: build_model(name, target=target, sampler=sampler) for name in models}


def _run_fold(name: str, template: Forecaster, fold: Fold, runs: pd.DataFrame,
              features: pd.DataFrame, *, outcome: str, scheme: str, random_seed: int | None,
              item_noise: bool) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    train, test = runs.iloc[fold.train], runs.iloc[fold.test].reset_index(drop=True)
    status: dict[str, Any] = {"model": name, "fold": fold.name, "n_train": len(train),
                              "n_test": len(test), "error": ""}
    target = template.target
    score_as_change = outcome == "score_ft" and not template.learns_untuned_level
    overrides: dict[str, Any] = {}
    if "residual_scheme" in param_names(type(template)):
        overrides["residual_scheme"] = RESIDUAL_SCHEME[scheme]
    if score_as_change:  # the fine-tuned score is the change from an untuned score of 0
        train, overrides["target"], target = train.assign(score_base=0.0), "abs", "abs"
    use_scores = outcome == "score_ft" and not score_as_change
    try:
        model = clone(template, **overrides)
        model.fit(train, _features_of(features, train), random_seed=random_seed)
        draws = _forecast_held_out(model, features, train, test, random_seed=random_seed,
                                   item_noise=item_noise, use_scores=use_scores)
    except MetaqError as err:  # a model that cannot be fitted on this fold is reported
        logger.warning("%s failed on %s: %s", name, fold.name, err)
        return None, {**status, "error": str(err)}
    status.update(_diagnostics(model))
    observed = (derive_target(test, target) if outcome != "score_ft" else test["score_ft"])
    return _score_rows(name, fold, test, draws, observed.to_numpy(dtype=float)), status


def _forecast_held_out(model: Forecaster, features: pd.DataFrame, train: pd.DataFrame,
                       test: pd.DataFrame, *, random_seed: int | None, item_noise: bool,
                       use_scores: bool) -> np.ndarray:
    """Draws ``(sample, run)`` of the held-out runs, in `test` order.

    With a ``study`` column one forecast per held-out study: within it for a training
    study, for a new study otherwise.
    """
    if STUDY not in test.columns:
        groups: dict[Any, np.ndarray] = {None: np.arange(len(test))}
    else:
        groups = test.groupby(STUDY, sort=False).indices
    trained = _trained_studies(model, train)
    draws = None
    for study, rows in groups.items():
        part = test.iloc[rows].reset_index(drop=True)
        options = {} if study is None else {"study": study if study in trained else None}
        forecast = model.predict(_features_of(features, part), _target_models(part),
                                 _benchmarks(part), random_seed=random_seed,
                                 base_scores=_unseen_base_scores(train, part),
                                 item_noise=item_noise, **options)
        values = _held_out_draws(forecast, part, use_scores=use_scores)
        if draws is None:
            draws = np.empty((values.shape[0], len(test)))
        draws[:, rows] = values
    return draws


def _trained_studies(model: Forecaster, train: pd.DataFrame) -> set[str]:
    """Studies `model` learnt from: its encoding's, else every study of `train`.

    A model of the observed change drops runs without an untuned score, and with them a
    study that printed none: that study is new to it.
    """
    encoding = getattr(model, "encoding_", None)
    if encoding is not None:
        return set(encoding.studies)
    return set(train[STUDY]) if STUDY in train.columns else set()


def _unseen_base_scores(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame | None:
    """Untuned scores of held-out base models or studies not in training, where printed.

    A user forecasting for a new base model, or under a new evaluation protocol (a study
    not in training), can evaluate the base model untuned before fine-tuning, so a fold
    that holds out a model size or a study passes them in (``predict(base_scores=...)``);
    the fine-tuned score, the outcome, stays unseen. `test` holds the runs of one study.
    """
    new = ~test["base_model"].isin(set(train["base_model"]))
    if STUDY in test.columns:
        new |= ~test[STUDY].isin(set(train[STUDY]) if STUDY in train.columns else set())
    unseen = test[new & test["score_base"].notna()]
    if unseen.empty:
        return None
    return unseen[["base_model", "benchmark", "domain", "score_base", "n_items"]].drop_duplicates(
        ["base_model", "benchmark", "domain"]).reset_index(drop=True)


def _features_of(features: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    return features[features["dataset_id"].isin(set(runs["dataset_id"]))].reset_index(drop=True)


def _target_models(runs: pd.DataFrame) -> list[tuple[str, float, str]]:
    unique = runs[["base_model", "params_b", "family"]].drop_duplicates()
    return list(unique.itertuples(index=False, name=None))


def _benchmarks(runs: pd.DataFrame) -> list[tuple[str, str]]:
    return list(runs[["benchmark", "domain"]].drop_duplicates().itertuples(index=False,
                                                                             name=None))


def _held_out_draws(forecast: Any, test: pd.DataFrame, *, use_scores: bool) -> np.ndarray:
    """Draws of the held-out runs, in `test` order: fine-tuned scores or changes.

    Rows match on :data:`KEY` without the study: each forecast covers one study.
    """
    rows = forecast.rows.rename(columns={"target_model": "base_model"})
    position = pd.Series(np.arange(len(rows)), index=pd.MultiIndex.from_frame(
        rows[KEY].astype(str)))
    index = position.reindex(pd.MultiIndex.from_frame(test[KEY].astype(str)))
    if index.isna().any():
        raise MetaqError(f"the forecast lacks {int(index.isna().sum())} held-out run(s); it "
                         f"must cover every (dataset, model, benchmark) asked for")
    values = forecast.scores if use_scores else forecast.values
    return values[:, index.to_numpy(dtype=int)]


def _score_rows(name: str, fold: Fold, test: pd.DataFrame, draws: np.ndarray,
                observed: np.ndarray) -> pd.DataFrame:
    out = test[[*run_key(test), "params_b", "score_base", "score_ft", "n_items"]].copy()
    out.insert(0, "fold", fold.name)
    out.insert(0, "model", name)
    out["observed"] = observed
    out["mean"] = draws.mean(axis=0)
    out["sd"] = draws.std(axis=0, ddof=1)
    out["crps"] = scores.crps(draws, observed)
    out["log_density"] = scores.log_predictive_density(draws, observed)
    out["pit"] = scores.pit(draws, observed)
    for prob in INTERVALS:
        out[f"covered_{round(prob * 100)}"] = scores.interval_covers(draws, observed, prob)
    return out


def _diagnostics(model: Any) -> dict[str, Any]:
    found = getattr(model, "diagnostics_", None) or {}
    status = {key: found[key] for key in ("max_rhat", "min_ess_bulk", "divergences")
              if key in found}
    if hasattr(model, "residual_scheme_"):
        status["residual_scheme"] = model.residual_scheme_
    return status
