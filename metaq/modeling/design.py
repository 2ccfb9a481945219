"""Design of the predictor: feature standardisation and the encoding of models and tasks.

Everything here is stored with a fitted model (as plain JSON-able dictionaries), so a loaded
model standardises a new dataset's features and places a target model on the size axis exactly
as the fit did.
"""

from __future__ import annotations

import difflib
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, SchemaError
from metaq.modeling.query import task_label
from metaq.tables.features import SE_SUFFIX, metric_columns, read_features, validate_features
from metaq.tables.runs import STUDY, check_runs_have_features, read_runs, validate_runs

logger = logging.getLogger(__name__)

def as_runs_table(runs: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Return a validated runs table from a path or a DataFrame."""
    if isinstance(runs, (str, Path)):
        return read_runs(runs)
    return validate_runs(runs)


def as_features_table(features: pd.DataFrame | str | Path, *,
                      allow_missing: bool = False) -> pd.DataFrame:
    """Return a validated features table from a path or a DataFrame."""
    if isinstance(features, (str, Path)):
        return read_features(features, allow_missing=allow_missing)
    return validate_features(features, allow_missing=allow_missing)


#: Smallest feature scale, as a fraction of the feature's mean absolute training value.
MIN_RELATIVE_SCALE = 0.1
#: Smallest scale of log parameter count (1 = a factor e in size per standardised unit).
MIN_LOG_SIZE_SD = 1.0


@dataclass
class FeatureScaler:
    """Standardisation of the metric columns: ``z = (raw - mean) / scale``.

    Means and scales are taken over the distinct feature rows used in training (one per
    dataset, or per dataset and domain), not weighted by the number of runs. The scale is the
    sample standard deviation, floored at :data:`MIN_RELATIVE_SCALE` times the feature's mean
    absolute value: a few nearly identical training datasets (three variants of one corpus)
    have a tiny sd, which would put any other dataset tens of "sds" away and make the
    slopes' prior, set per standardised unit, license absurd extrapolations. With the floor a
    unit is at least a 10 % change of the feature's typical magnitude.

    Attributes
    ----------
    features : list of str
        Metric names, in model order.
    means, sds : numpy.ndarray
        Per-feature mean and scale (sample sd with ddof=1, floored as above).
    floored : numpy.ndarray
        Per feature, whether the floor (not the training sd) sets its unit: the slopes'
        prior per unit then rests on that choice rather than on the training spread.
    """

    features: list[str]
    means: np.ndarray
    sds: np.ndarray
    floored: np.ndarray

    @classmethod
    def fit(cls, table: pd.DataFrame, features: Sequence[str], *,
            min_relative_scale: float = MIN_RELATIVE_SCALE) -> FeatureScaler:
        """Learn means and (floored) scales of `features` from the rows of `table`."""
        values = table[list(features)].to_numpy(dtype=float)
        mean, raw, typical = _observed_stats(values)
        floor = min_relative_scale * typical
        sds = np.maximum(raw, floor)
        return cls(list(features), mean, np.where(sds > 0, sds, 1.0), floor > raw)

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        """Standardise the feature columns of `table` (NaN for absent columns or cells)."""
        raw = np.column_stack([
            table[name].to_numpy(dtype=float) if name in table.columns
            else np.full(len(table), np.nan) for name in self.features
        ]) if len(self.features) else np.empty((len(table), 0))
        return (raw - self.means) / self.sds

    def transform_se(self, table: pd.DataFrame) -> np.ndarray:
        """Return standard errors in standardised units (0 without a ``<metric>__se`` column)."""
        se = np.column_stack([
            table[f"{name}{SE_SUFFIX}"].to_numpy(dtype=float)
            if f"{name}{SE_SUFFIX}" in table.columns else np.zeros(len(table))
            for name in self.features
        ]) if len(self.features) else np.empty((len(table), 0))
        return np.nan_to_num(se, nan=0.0) / self.sds

    def inverse_transform(self, standardised: np.ndarray) -> np.ndarray:
        """Map standardised values back to raw metric units."""
        return np.asarray(standardised) * self.sds + self.means

    def to_frame(self) -> pd.DataFrame:
        """Means and standard deviations as a table indexed by feature."""
        return pd.DataFrame({"mean": self.means, "sd": self.sds},
                            index=pd.Index(self.features, name="feature"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"features": self.features, "means": self.means.tolist(),
                "sds": self.sds.tolist(), "floored": self.floored.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureScaler:
        """Inverse of :meth:`to_dict`."""
        return cls(list(data["features"]), np.asarray(data["means"], float),
                   np.asarray(data["sds"], float), np.asarray(data["floored"], bool))


def _observed_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: mean, sample sd (1 without two values) and mean |value|, NaN left out."""
    if not np.isnan(values).any():
        raw = values.std(axis=0, ddof=1) if len(values) > 1 else np.ones(values.shape[1])
        return values.mean(axis=0), raw, np.abs(values).mean(axis=0)
    counts = (~np.isnan(values)).sum(axis=0)
    with warnings.catch_warnings():  # a column with fewer than two values: sd 1
        warnings.simplefilter("ignore", RuntimeWarning)
        raw = np.where(counts > 1, np.nanstd(values, axis=0, ddof=1), 1.0)
        return np.nanmean(values, axis=0), raw, np.nanmean(np.abs(values), axis=0)


@dataclass
class Encoding:
    """Index of the training base models and tasks, and the size axis.

    Attributes
    ----------
    models : pandas.DataFrame
        One row per training base model: ``name``, ``params_b``, ``family``.
    tasks : pandas.DataFrame
        One row per training (benchmark, domain): ``benchmark``, ``domain``, ``label`` and
        ``n_items``, the benchmark's item count in training (median; NaN where unknown).
    log_size_mean, log_size_sd : float
        Standardisation of ``log(params_b)`` over the training models; the sd is floored at
        :data:`MIN_LOG_SIZE_SD`, so two training sizes 1 B apart do not turn a 70 B model
        into a 25-sd extrapolation of the size moderator.
    feature_level : {"dataset", "domain"}
        Whether runs were matched to whole-dataset or per-domain feature rows.
    base_scores : numpy.ndarray
        (model, task) mean untuned score seen in training, NaN where unknown.
    studies : list of str
        Training studies (the runs table's ``study`` column; empty without one).
    study_base_scores : numpy.ndarray or None
        (study, model, task) untuned score each study printed, NaN where it printed none;
        None unless the training runs span two or more studies (:attr:`study_level`).
    """

    models: pd.DataFrame
    tasks: pd.DataFrame
    log_size_mean: float
    log_size_sd: float
    feature_level: str
    base_scores: np.ndarray = field(repr=False)
    studies: list[str] = field(default_factory=list)
    study_base_scores: np.ndarray | None = field(default=None, repr=False)

    @property
    def study_level(self) -> bool:
        """Whether the model has studies as a level (two or more training studies)."""
        return len(self.studies) >= 2

    def study_index(self, study: str | None) -> int:
        """Position of `study` among the training studies; -1 for None (a new study).

        Raises
        ------
        InvalidParameterError
            For a name that is not a training study (with the closest one).
        """
        if study is None:
            return -1
        if study not in self.studies:
            close = difflib.get_close_matches(str(study), self.studies, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(
                f"study={study!r} is not a training study (known: {self.studies}){hint} "
                f"Fix: pass one of those to forecast within it, or study=None to forecast for "
                f"a new study.")
        return self.studies.index(study)

    def printed_base_scores(self, study: int) -> np.ndarray:
        """(model, task) untuned scores printed under study position `study`.

        Without a study level these are :attr:`base_scores`; for a new study (-1), whose
        protocol printed nothing in training, they are all NaN.
        """
        if not self.study_level:
            return self.base_scores
        if study < 0:
            return np.full(self.base_scores.shape, np.nan)
        return self.study_base_scores[study]

    def size_z(self, params_b: np.ndarray | Sequence[float]) -> np.ndarray:
        """Standardised log parameter count of model sizes in billions."""
        return (np.log(np.asarray(params_b, float)) - self.log_size_mean) / self.log_size_sd

    def model_index(self, names: Sequence[str]) -> np.ndarray:
        """Position of each model name among the training models, -1 for unseen ones."""
        lookup = {name: i for i, name in enumerate(self.models["name"])}
        return np.array([lookup.get(str(n), -1) for n in names], dtype=int)

    def task_index(self, benchmarks: Sequence[str], domains: Sequence[str]) -> np.ndarray:
        """Position of each (benchmark, domain) among the training tasks, -1 for unseen ones."""
        lookup = {label: i for i, label in enumerate(self.tasks["label"])}
        labels = [task_label(b, d) for b, d in zip(benchmarks, domains, strict=True)]
        return np.array([lookup.get(label, -1) for label in labels], dtype=int)

    def task_items(self, t_idx: np.ndarray) -> np.ndarray:
        """Item count of each task index (NaN for an unseen task or an unknown count)."""
        known = self.tasks["n_items"].to_numpy(dtype=float)
        return np.where(t_idx >= 0, known[np.clip(t_idx, 0, None)], np.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "models": self.models.to_dict(orient="list"),
            "tasks": self.tasks.astype(object).where(self.tasks.notna(), None)
                                .to_dict(orient="list"),
            "log_size_mean": self.log_size_mean,
            "log_size_sd": self.log_size_sd,
            "feature_level": self.feature_level,
            "base_scores": _nullable(self.base_scores),
            "studies": list(self.studies),
            "study_base_scores": (None if self.study_base_scores is None
                                  else _nullable(self.study_base_scores)),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Encoding:
        """Inverse of :meth:`to_dict`."""
        models = pd.DataFrame(data["models"]).astype({"name": object, "family": object})
        tasks = pd.DataFrame(data["tasks"]).astype(object)
        shape = (len(models), len(tasks))
        base = _from_nullable(data["base_scores"], shape)
        studies = [str(s) for s in data.get("studies", [])]
        by_study = data.get("study_base_scores")
        by_study = None if by_study is None else _from_nullable(by_study, (len(studies), *shape))
        return cls(models, tasks, float(data["log_size_mean"]), float(data["log_size_sd"]),
                   str(data["feature_level"]), base, studies, by_study)


def _nullable(values: np.ndarray) -> list:
    """Nested lists of `values` with NaN as None (JSON)."""
    return np.where(np.isnan(values), None, values).tolist()


def _from_nullable(values: list, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_nullable`."""
    flat = np.array(values, dtype=object).ravel()
    return np.array([np.nan if v is None else v for v in flat], dtype=float).reshape(shape)


@dataclass
class TrainingData:
    """Arrays the PyMC model is built from (standardised features, indices, counts)."""

    x_obs: np.ndarray          # (feature_row, feature) standardised, NaN where missing
    x_se: np.ndarray           # (feature_row, feature) standardised standard errors
    feature_rows: pd.DataFrame  # dataset_id, domain of each feature row
    run_row: np.ndarray        # (run,) feature row of each run
    run_model: np.ndarray      # (run,) model index
    run_task: np.ndarray       # (run,) task index
    size_z: np.ndarray         # (model,) standardised log size
    run_dataset: np.ndarray    # (run,) index into `datasets`
    datasets: list[str]        # training dataset ids
    k_ft: np.ndarray | None = None      # binomial likelihood: fine-tuned successes
    n_ft: np.ndarray | None = None
    base_cells: np.ndarray | None = None  # (cell, 2) model, task of observed untuned scores
    base_cell_study: np.ndarray | None = None  # (cell,) study of each, with a study level
    k_base: np.ndarray | None = None
    n_base: np.ndarray | None = None
    y: np.ndarray | None = None          # Student-t likelihood: delta / y_scale
    y_scale: float = 1.0
    feature_blocks: np.ndarray | None = None  # (feature,) block of near copies, metric_blocks
    constant_features: dict[str, float] = field(default_factory=dict)  # dropped, with value
    run_study: np.ndarray | None = None  # (run,) study index, with a study level
    studies: list[str] = field(default_factory=list)  # training studies (>= 2: a level)

    @property
    def has_study_level(self) -> bool:
        """Whether the runs span two or more studies (studies are then a model level)."""
        return len(self.studies) >= 2

    @property
    def has_measurement_error(self) -> bool:
        """Whether any training feature has a positive standard error."""
        return bool((self.x_se > 0).any())

    @property
    def has_missing_features(self) -> bool:
        """Whether any training feature value is missing (latent in the fit)."""
        return bool(np.isnan(self.x_obs).any())


def choose_features(features: pd.DataFrame, requested: Sequence[str] | None) -> list[str]:
    """Return the metric columns to model: `requested` (checked) or every metric column.

    Raises
    ------
    SchemaError
        When a requested feature is not a metric column; the message lists the available ones.
    """
    available = metric_columns(features)
    if requested is None:
        return available
    missing = [name for name in requested if name not in available]
    if missing:
        raise SchemaError(
            f"feature(s) {missing} are not metric columns of the features table; available: "
            f"{available}. Fix: pick names from that list or extract the missing metrics.")
    return list(requested)


def build_training_data(runs: pd.DataFrame, features: pd.DataFrame, feature_names: list[str],
                        *, likelihood: str, target: str) -> tuple[TrainingData, Encoding,
                                                                  FeatureScaler]:
    """Turn validated runs and features tables into model arrays, encoding and scaler.

    Parameters
    ----------
    runs, features : pandas.DataFrame
        Validated tables (see :func:`metaq.read_runs`, :func:`metaq.read_features`).
    feature_names : list of str
        Metric columns to use.
    likelihood : {"binomial", "student_t"}
        Which observation arrays to build.
    target : {"logit", "abs", "rel"}
        The change modelled by the Student-t likelihood.

    Returns
    -------
    TrainingData, Encoding, FeatureScaler

    Raises
    ------
    SchemaError
        When a run's dataset has no features, or no feature varies across the training
        datasets. A feature without any training value is left out like a constant one;
        values missing for some datasets are kept as NaN (latent in the fit).
    """
    from metaq.tables.targets import derive_target

    check_runs_have_features(runs, features)
    if likelihood == "student_t":
        runs = _drop_runs_without_base(runs)
    level = _feature_level(runs, features)
    frow_keys = _feature_row_keys(runs, features, level)
    table = _feature_rows(features, frow_keys)
    constant = _constant_values(table, feature_names)
    feature_names = [name for name in feature_names if name not in constant]
    _log_latent_values(table, feature_names)
    scaler = FeatureScaler.fit(table, feature_names)
    encoding, run_model, run_task = _encode(runs, level)
    keys = zip(table["dataset_id"], table["domain"], strict=True)
    lookup = {key: i for i, key in enumerate(keys)}
    datasets = list(pd.unique(runs["dataset_id"]))
    dataset_index = {name: i for i, name in enumerate(datasets)}
    data = TrainingData(
        x_obs=scaler.transform(table), x_se=scaler.transform_se(table),
        feature_rows=table[["dataset_id", "domain"]].reset_index(drop=True),
        run_row=np.array([lookup[k] for k in frow_keys], dtype=int),
        run_model=run_model, run_task=run_task,
        size_z=encoding.size_z(encoding.models["params_b"]),
        run_dataset=np.array([dataset_index[d] for d in runs["dataset_id"]], dtype=int),
        datasets=[str(d) for d in datasets],
        feature_blocks=metric_blocks(table, scaler.features), constant_features=constant)
    _add_studies(data, runs, encoding)
    if likelihood == "binomial":
        _add_binomial_counts(data, runs, encoding, run_model, run_task)
    else:
        delta = derive_target(runs, target).to_numpy(dtype=float)
        data.y_scale = float(np.std(delta, ddof=1)) if len(delta) > 1 else 1.0
        data.y_scale = data.y_scale if data.y_scale > 0 else 1.0
        data.y = delta / data.y_scale
    return data, encoding, scaler


def _drop_runs_without_base(runs: pd.DataFrame) -> pd.DataFrame:
    missing = runs["score_base"].isna()
    if missing.all():
        raise SchemaError(
            "no run has a score_base, so no change can be computed for a model of the change "
            "(Student-t likelihood, point baselines). Fix: add the untuned scores, or give "
            "n_items on every run so the binomial likelihood can treat them as unknown.")
    if missing.any():
        logger.warning("%d run(s) without score_base are dropped: the Student-t likelihood "
                       "needs the observed change (give n_items to use them)", int(missing.sum()))
    return runs.loc[~missing].reset_index(drop=True)


def _feature_level(runs: pd.DataFrame, features: pd.DataFrame) -> str:
    run_domains = set(runs["domain"]) - {""}
    feature_domains = set(features["domain"]) - {""}
    return "domain" if run_domains & feature_domains else "dataset"


def _feature_row_keys(runs: pd.DataFrame, features: pd.DataFrame,
                      level: str) -> list[tuple[str, str]]:
    known = set(zip(features["dataset_id"], features["domain"], strict=True))
    keys = []
    for dataset, domain in zip(runs["dataset_id"], runs["domain"], strict=True):
        key = (dataset, domain if level == "domain" else "")
        if key not in known:
            key = (dataset, "")
        if key not in known:
            raise SchemaError(
                f"runs table: dataset {dataset!r} has domain rows in the features table but no "
                f"whole-dataset row (domain empty) for its run on domain {domain!r}. Fix: add a "
                f"row with an empty domain for {dataset!r}.")
        keys.append(key)
    return keys


def _feature_rows(features: pd.DataFrame, keys: list[tuple[str, str]]) -> pd.DataFrame:
    used = list(dict.fromkeys(keys))
    index = pd.MultiIndex.from_tuples(used, names=["dataset_id", "domain"])
    return features.set_index(["dataset_id", "domain"]).loc[index].reset_index()


def _constant_values(table: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Features without information in training: name -> their one value (dropped).

    A feature with one value across the training rows, or with none (NaN: no training
    dataset has it), says nothing about what it does.
    """
    unobserved = [n for n in names if table[n].isna().all()]
    if unobserved:
        logger.warning("feature(s) %s have no value on any training dataset; they are left "
                       "out of the model (a candidate with a value is flagged)", unobserved)
    constant = {} if len(table) < 2 else {
        n: float(np.nanmean(table[n].to_numpy(dtype=float))) for n in names
        if n not in unobserved and np.nanstd(table[n].to_numpy(dtype=float)) == 0}
    if constant:
        logger.warning("feature(s) %s are constant across the training datasets and carry no "
                       "information; they are left out of the model (a candidate that differs "
                       "on one is flagged)", list(constant))
    constant.update({n: float("nan") for n in unobserved})
    if len(constant) == len(names):
        raise SchemaError(f"every feature {names} is constant across the training datasets "
                          f"or has no value on them. Fix: fit on runs of at least two "
                          f"datasets that differ, with their features.")
    return constant


#: Absolute correlation over the training datasets from which two metrics are near copies.
BLOCK_CORRELATION = 0.95


def metric_blocks(table: pd.DataFrame, features: Sequence[str], *,
                  threshold: float = BLOCK_CORRELATION) -> np.ndarray:
    """Group metrics that are near copies of each other over the training datasets.

    Two metrics are linked when ``|r| >= threshold`` across the training feature rows (the
    rows where both are known, at least three, when values are missing); a block is a
    connected set of linked metrics. With two training rows every pair of
    non-constant metrics is perfectly correlated, so all form one block: two datasets
    span a single direction, whatever the number of metrics.

    Returns
    -------
    numpy.ndarray
        ``(feature,)`` block index, numbered by first appearance.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8.1], "c": [1.0, -1, 1, -1]})
    >>> metric_blocks(t, ["a", "b", "c"]).tolist()
    [0, 0, 1]
    """
    from scipy.sparse.csgraph import connected_components

    names = list(features)
    if len(names) < 2 or len(table) < 2:
        return np.arange(len(names))
    values = table[names].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (np.corrcoef(values, rowvar=False) if not np.isnan(values).any()
                else table[names].astype(float).corr(min_periods=3).to_numpy())
        linked = np.abs(corr) >= threshold
    _, labels = connected_components(np.nan_to_num(linked).astype(int), directed=False)
    _, first = np.unique(labels, return_index=True)
    renumber = {label: i for i, label in enumerate(labels[np.sort(first)])}
    return np.array([renumber[label] for label in labels], dtype=int)


def _log_latent_values(table: pd.DataFrame, names: list[str]) -> None:
    missing = {name: table.loc[table[name].isna(), "dataset_id"].tolist() for name in names}
    missing = {name: datasets for name, datasets in missing.items() if datasets}
    if missing:
        logger.warning("training feature values missing (feature: datasets) %s are latent in "
                       "the fit: each is drawn with the slopes, from N(0, 1) in standardised "
                       "units and what the dataset's runs say", missing)


def _encode(runs: pd.DataFrame, level: str) -> tuple[Encoding, np.ndarray, np.ndarray]:
    models = (runs[["base_model", "params_b", "family"]].drop_duplicates("base_model")
              .rename(columns={"base_model": "name"}).reset_index(drop=True))
    models = models.astype({"name": object, "family": object, "params_b": float})
    tasks = runs[["benchmark", "domain"]].drop_duplicates().reset_index(drop=True).astype(object)
    tasks["label"] = [task_label(b, d)
                      for b, d in zip(tasks["benchmark"], tasks["domain"], strict=True)]
    log_size = np.log(models["params_b"].to_numpy(dtype=float))
    sd = float(np.std(log_size, ddof=1)) if len(log_size) > 1 else 0.0
    encoding = Encoding(models, tasks, float(log_size.mean()), max(sd, MIN_LOG_SIZE_SD), level,
                        np.full((len(models), len(tasks)), np.nan))
    run_model = encoding.model_index(runs["base_model"].tolist())
    run_task = encoding.task_index(runs["benchmark"].tolist(), runs["domain"].tolist())
    base = runs.assign(_m=run_model, _t=run_task).groupby(["_m", "_t"])["score_base"].mean()
    for (m, t), value in base.items():
        encoding.base_scores[m, t] = value
    items = runs["n_items"].astype(float).groupby(run_task).median()
    encoding.tasks["n_items"] = items.reindex(range(len(tasks))).to_numpy(dtype=float)
    return encoding, run_model, run_task


def _add_studies(data: TrainingData, runs: pd.DataFrame, encoding: Encoding) -> None:
    """Record the training studies; with two or more, each run's study and printed scores."""
    if STUDY not in runs.columns:
        return
    studies = [str(s) for s in pd.unique(runs[STUDY])]
    encoding.studies = data.studies = studies
    if len(studies) < 2:
        return
    data.run_study = pd.Index(studies).get_indexer(runs[STUDY].astype(str))
    printed = (runs.assign(_s=data.run_study, _m=data.run_model, _t=data.run_task)
               .groupby(["_s", "_m", "_t"])["score_base"].mean())
    encoding.study_base_scores = np.full((len(studies), *encoding.base_scores.shape), np.nan)
    for (s, m, t), value in printed.items():
        encoding.study_base_scores[s, m, t] = value


def _add_binomial_counts(data: TrainingData, runs: pd.DataFrame, encoding: Encoding,
                         run_model: np.ndarray, run_task: np.ndarray) -> None:
    """Fine-tuned counts per run; untuned counts once per (study,) model and task."""
    n = runs["n_items"].astype(float).to_numpy()
    data.n_ft = n.astype(int)
    data.k_ft = np.rint(runs["score_ft"].to_numpy(dtype=float) * n).astype(int)
    study = data.run_study if data.has_study_level else np.zeros(len(runs), dtype=int)
    keyed = runs.assign(_s=study, _m=run_model, _t=run_task, _n=n)
    cells = (keyed.dropna(subset=["score_base"]).groupby(["_s", "_m", "_t"])
             .agg(score=("score_base", "mean"), n=("_n", "max")).reset_index())
    clash = keyed.groupby(["_s", "_m", "_t"])["score_base"].nunique()
    if (clash > 1).any():
        _, m, t = clash[clash > 1].index[0]
        logger.warning("model %r on %r has several score_base values; their mean is used as the "
                       "untuned score", encoding.models["name"][m], encoding.tasks["label"][t])
    data.base_cells = cells[["_m", "_t"]].to_numpy(dtype=int)
    if data.has_study_level:
        data.base_cell_study = cells["_s"].to_numpy(dtype=int)
    data.n_base = cells["n"].to_numpy(dtype=int)
    data.k_base = np.rint(cells["score"].to_numpy() * cells["n"].to_numpy()).astype(int)


@dataclass
class KnownBaseScores:
    """User-supplied untuned scores of the requested ``(model, task)`` cells.

    Attributes
    ----------
    score : numpy.ndarray
        ``(model, task)`` untuned accuracy, NaN where none was given.
    n_items : numpy.ndarray
        ``(model, task)`` number of items behind it, NaN where unknown (the score is exact).
    """

    score: np.ndarray
    n_items: np.ndarray


BaseScores = pd.DataFrame | str | Path | None


def known_base_scores(base_scores: BaseScores, models: pd.DataFrame, tasks: pd.DataFrame,
                      encoding: Encoding) -> KnownBaseScores:
    """Place an untuned-scores table on the requested models x tasks grid.

    Parameters
    ----------
    base_scores : DataFrame, path or None
        An untuned-scores table (:mod:`metaq.tables.base_scores`); None gives no scores.
    models : pandas.DataFrame
        Requested target models (:func:`metaq.modeling.query.resolve_target_models`).
    tasks : pandas.DataFrame
        Requested tasks (:func:`metaq.modeling.query.resolve_tasks`).
    encoding : Encoding
        The fitted encoding: a row for a training model or benchmark that is not requested
        is skipped (one table of scores serves forecasts of a subset).

    Returns
    -------
    KnownBaseScores

    Raises
    ------
    SchemaError
        For a row whose model or benchmark is neither requested nor known to the predictor
        (a misspelt name would otherwise be ignored silently).
    """
    from metaq.tables.base_scores import read_base_scores, validate_base_scores

    score = np.full((len(models), len(tasks)), np.nan)
    n_items = np.full_like(score, np.nan)
    if base_scores is None:
        return KnownBaseScores(score, n_items)
    table = (validate_base_scores(base_scores) if isinstance(base_scores, pd.DataFrame)
             else read_base_scores(base_scores))
    model_pos = {name: i for i, name in enumerate(models["name"])}
    task_pos = {task_label(b, d): i
                for i, (b, d) in enumerate(zip(tasks["benchmark"], tasks["domain"], strict=True))}
    known_models, known_tasks = set(encoding.models["name"]), set(encoding.tasks["label"])
    for row in table.itertuples(index=False):
        label = task_label(row.benchmark, row.domain)
        unknown = [name for name, requested, trained in (
            (row.base_model, model_pos, known_models), (label, task_pos, known_tasks))
            if name not in requested and name not in trained]
        if unknown:
            raise SchemaError(
                f"untuned score given for ({row.base_model!r}, {label!r}): {unknown} is "
                f"neither forecast (target models {list(model_pos)}, tasks {list(task_pos)}) "
                f"nor known to the predictor. Fix: correct the name or add it to the forecast.")
        if row.base_model not in model_pos or label not in task_pos:
            continue  # a training model or benchmark this forecast does not ask for
        cell = model_pos[row.base_model], task_pos[label]
        score[cell] = row.score_base
        n_items[cell] = np.nan if pd.isna(row.n_items) else float(row.n_items)
    return KnownBaseScores(score, n_items)


def dataset_rows(features: pd.DataFrame) -> pd.DataFrame:
    """One feature row per dataset (the whole-dataset row, domain empty, where there is one)."""
    ordered = features.assign(_whole=features["domain"] == "").sort_values(
        "_whole", ascending=False, kind="stable")
    first = ordered.drop_duplicates("dataset_id").drop(columns="_whole")
    order = pd.unique(features["dataset_id"])
    return first.set_index("dataset_id").loc[order].reset_index()
