"""Baselines with the predictor's interface, for honest comparison.

Each point baseline predicts a change with a simple regressor and turns it into predictive
draws by adding residuals resampled from held-out refits (so their spread is an out-of-sample
error, not the optimistic in-sample one). The refits hold out what the forecast will face
(``residual_scheme``): whole datasets for a new dataset, whole sizes for a new size, whole
studies for a new study, random
runs for runs of seen datasets and models. They return the same
:class:`~metaq.modeling.forecast.Forecast` as :class:`HierarchicalDeltaModel`, so CRPS,
coverage and decision accuracy compare like with like. The pooled Bayesian baseline is
:class:`metaq.modeling.hierarchical.PooledDeltaModel`.

Unlike the Bayesian model, point baselines fill a missing feature with its training mean, a
new dataset's (listed in the forecast's ``missing_features``) and a training dataset's alike:
they have no distribution to integrate over.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, NotFittedError
from metaq.modeling.design import (
    BaseScores,
    as_features_table,
    as_runs_table,
    build_training_data,
    choose_features,
    dataset_rows,
    known_base_scores,
)
from metaq.modeling.forecast import Forecast, check_prob, forecast_rows
from metaq.modeling.predictive import score_from_change
from metaq.modeling.query import Benchmarks, TargetModels, resolve_target_models, resolve_tasks
from metaq.tables.targets import TARGETS

logger = logging.getLogger(__name__)


@dataclass
class BaselineInputs:
    """Inputs of a point baseline, one row per (dataset, model, task) to predict.

    Attributes
    ----------
    x : numpy.ndarray
        ``(row, feature)`` standardised features.
    model, task : numpy.ndarray
        Training model / task index of each row, -1 when unseen.
    size_z : numpy.ndarray
        Standardised log size of each row's model.
    dataset : numpy.ndarray
        Dataset label of each row (groups for the held-out residuals).
    study : numpy.ndarray or None
        Study index of each training row, where the runs span two or more studies.
    """

    x: np.ndarray
    model: np.ndarray
    task: np.ndarray
    size_z: np.ndarray
    dataset: np.ndarray
    study: np.ndarray | None = None

    def subset(self, keep: np.ndarray) -> BaselineInputs:
        """Return the rows selected by the boolean mask `keep`."""
        return BaselineInputs(self.x[keep], self.model[keep], self.task[keep],
                              self.size_z[keep], self.dataset[keep],
                              None if self.study is None else self.study[keep])


#: What the held-out refits behind a point baseline's residuals leave out.
RESIDUAL_SCHEMES = ("loo-dataset", "loo-size", "loo-study", "kfold")
RESIDUAL_FOLDS = 5  # folds of the kfold residuals


def _residual_groups(inputs: BaselineInputs, scheme: str,
                     random_seed: int | None) -> tuple[np.ndarray, str]:
    """Held-out group of each training row for `scheme`, and the scheme used."""
    if scheme == "loo-study":
        if inputs.study is not None:
            return inputs.study, scheme
        logger.info("fewer than two training studies: loo-study residuals fall back to "
                    "loo-dataset")
        scheme = "loo-dataset"
    if scheme == "loo-size":
        sizes = np.round(inputs.size_z, 9)
        if len(np.unique(sizes)) >= 2:
            return sizes, scheme
        logger.info("one training size: loo-size residuals fall back to loo-dataset")
        scheme = "loo-dataset"
    if scheme == "kfold" and len(inputs.x) >= 2:
        order = np.random.default_rng(random_seed).permutation(len(inputs.x))
        groups = np.empty(len(order), dtype=int)
        for fold, part in enumerate(np.array_split(order, min(RESIDUAL_FOLDS, len(order)))):
            groups[part] = fold
        return groups, scheme
    return pd.factorize(inputs.dataset)[0], "loo-dataset"


class PointBaseline(ABC):
    """Shared fit/predict of the point baselines (subclasses define the point model).

    Parameters
    ----------
    features : sequence of str, optional
        Metric columns to use; default all.
    target : {"logit", "abs", "rel"}, default "logit"
        The change to predict.
    n_draws : int, default 1000
        Predictive draws per forecast row.
    residual_scheme : str, default "loo-dataset"
        ``"loo-dataset"``, ``"loo-size"``, ``"loo-study"`` or ``"kfold"``.
        What the refits behind the residuals hold out: match it to what the forecasts
        face (:data:`RESIDUAL_SCHEMES`). ``loo-size`` with a single training size, and
        ``loo-study`` with fewer than two training studies, fall back to ``loo-dataset``
        (logged; ``residual_scheme_`` says what was used).
    """

    _model_type = "point_baseline"
    #: A point baseline models the observed change; without untuned scores the validation
    #: harness gives it the fine-tuned score as the change from 0.
    learns_untuned_level: ClassVar[bool] = False

    def __init__(self, features: Sequence[str] | None = None,
                 target: Literal["logit", "abs", "rel"] = "logit", n_draws: int = 1000,
                 residual_scheme: Literal["loo-dataset", "loo-size", "loo-study",
                                          "kfold"] = "loo-dataset") -> None:
        self.features = features
        self.target = target
        self.n_draws = n_draws
        self.residual_scheme = residual_scheme

    def fit(self, runs: pd.DataFrame | str | Path, features: pd.DataFrame | str | Path, *,
            random_seed: int | None = None) -> Self:
        """Fit the point model and collect the residuals of its held-out refits.

        Parameters
        ----------
        runs, features : DataFrame or path
            Training tables (runs without ``score_base`` are dropped: the change is needed).
        random_seed : int, optional
            Seed of randomised estimators.

        Returns
        -------
        Self

        Raises
        ------
        InvalidParameterError
            For an unknown `target` or `residual_scheme`, or training runs of one dataset
            (one run for ``kfold``): no refit could hold one out.
        """
        if self.target not in TARGETS:
            raise InvalidParameterError(f"unknown target {self.target!r}; choose one of "
                                        f"{sorted(TARGETS)}")
        if self.residual_scheme not in RESIDUAL_SCHEMES:
            raise InvalidParameterError(f"unknown residual_scheme {self.residual_scheme!r}; "
                                        f"choose one of {RESIDUAL_SCHEMES}")
        runs = as_runs_table(runs)
        table = as_features_table(features, allow_missing=True)
        data, encoding, scaler = build_training_data(
            runs, table, choose_features(table, self.features), likelihood="student_t",
            target=self.target)
        inputs = BaselineInputs(
            np.nan_to_num(data.x_obs, nan=0.0)[data.run_row], data.run_model, data.run_task,
            data.size_z[data.run_model],
            data.feature_rows["dataset_id"].to_numpy(dtype=object)[data.run_row],
            data.run_study)
        y = data.y * data.y_scale
        self.random_seed_ = random_seed
        self.features_ = scaler.features
        self.feature_scaler_ = scaler
        self.encoding_ = encoding
        self.estimator_ = self._fit_point(inputs, y)
        self.residuals_ = self._held_out_residuals(inputs, y)
        return self

    def _held_out_residuals(self, inputs: BaselineInputs, y: np.ndarray) -> np.ndarray:
        groups, self.residual_scheme_ = _residual_groups(inputs, self.residual_scheme,
                                                         self.random_seed_)
        if len(np.unique(groups)) < 2:
            unit = "dataset" if self.residual_scheme_ == "loo-dataset" else "run"
            raise InvalidParameterError(
                f"{type(self).__name__} was given the runs of one training {unit}: no "
                f"held-out refit can tell how far a forecast falls (in-sample residuals would "
                f"give it no spread). Fix: fit it on runs of two or more {unit}s, or use "
                f"HierarchicalDeltaModel, whose priors carry the spread.")
        residuals = np.empty_like(y)
        for group in np.unique(groups):
            held = groups == group
            fitted = self._fit_point(inputs.subset(~held), y[~held])
            residuals[held] = y[held] - self._predict_point(fitted, inputs.subset(held))
        return residuals

    def predict(self, features: pd.DataFrame | str | Path, target_models: TargetModels = None,
                benchmarks: Benchmarks = None, *, prob: float = 0.9,
                random_seed: int | None = None, base_scores: BaseScores = None,
                item_noise: bool = False, study: str | None = None) -> Forecast:
        """Forecast datasets x target models x benchmarks, as the Bayesian model does.

        Parameters
        ----------
        features, target_models, benchmarks, prob, random_seed
            As for :meth:`HierarchicalDeltaModel.predict`.
        base_scores : DataFrame or path, optional
            Measured untuned scores: the change forecast does not use them (it has no
            untuned level), the fine-tuned score is computed from them where given.
        item_noise : bool, default False
            Accepted for the common interface; a point baseline's draws are its point
            forecast plus held-out residuals of *recorded* outcomes, so they carry the
            benchmark's item noise either way.
        study : str, optional
            Accepted for the common interface: a point baseline has no study level (with
            ``residual_scheme="loo-study"`` its spread is that of a new study's runs).

        Returns
        -------
        Forecast
        """
        check_prob(prob)
        models = self.resolve_target_models(target_models)
        tasks = self.resolve_benchmarks(benchmarks)
        table = dataset_rows(as_features_table(features, allow_missing=True))
        x = self.feature_scaler_.transform(table)
        missing = [",".join(f for f, gap in zip(self.features_, row, strict=True) if gap)
                   for row in np.isnan(x)]
        m_idx = self.encoding_.model_index(models["name"].tolist())
        t_idx = self.encoding_.task_index(tasks["benchmark"].tolist(), tasks["domain"].tolist())
        rows = forecast_rows(table["dataset_id"], models, tasks, missing, m_idx >= 0)
        n_d, n_m, n_t = len(table), len(models), len(tasks)
        d = np.repeat(np.arange(n_d), n_m * n_t)
        m = np.tile(np.repeat(np.arange(n_m), n_t), n_d)
        t = np.tile(np.arange(n_t), n_d * n_m)
        size_z = self.encoding_.size_z(models["params_b"].to_numpy(dtype=float))
        inputs = BaselineInputs(np.nan_to_num(x, nan=0.0)[d], m_idx[m], t_idx[t], size_z[m],
                                table["dataset_id"].to_numpy(dtype=object)[d])
        point = self._predict_point(self.estimator_, inputs)
        rng = np.random.default_rng(random_seed)
        draws = point[None] + rng.choice(self.residuals_, size=(self.n_draws, len(point)))
        base = np.full(len(point), np.nan)
        seen = (m_idx[m] >= 0) & (t_idx[t] >= 0)
        base[seen] = self.encoding_.base_scores[m_idx[m][seen], t_idx[t][seen]]
        given = known_base_scores(base_scores, models, tasks, self.encoding_).score[m, t]
        base = np.where(np.isnan(given), base, given)
        scores = score_from_change(draws, base[None], self.target)
        return Forecast(draws, scores, rows, target=self.target, model_name=self._model_type)

    def resolve_target_models(self, target_models: TargetModels = None) -> pd.DataFrame:
        """Read target models as :meth:`predict` does (:mod:`metaq.modeling.query`)."""
        self._check_fitted()
        return resolve_target_models(target_models, self.encoding_.models)

    def resolve_benchmarks(self, benchmarks: Benchmarks = None) -> pd.DataFrame:
        """Read benchmarks as :meth:`predict` does (:mod:`metaq.modeling.query`)."""
        self._check_fitted()
        return resolve_tasks(benchmarks, self.encoding_.tasks)

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call `.fit()` "
                                 f"first")

    @abstractmethod
    def _fit_point(self, inputs: BaselineInputs, y: np.ndarray) -> Any:
        """Fit the point model to `inputs` and changes `y`; return what predicting needs."""

    @abstractmethod
    def _predict_point(self, fitted: Any, inputs: BaselineInputs) -> np.ndarray:
        """Point predictions of the changes of `inputs` from a :meth:`_fit_point` result."""


class NoFeatureBaseline(PointBaseline):
    """The mean change per (base model, task), ignoring the dataset's features.

    An unseen model gets the task's mean over models, an unseen task the model's mean over
    tasks, and both unseen the overall mean.
    """

    _model_type = "no_feature"

    def _fit_point(self, inputs: BaselineInputs, y: np.ndarray) -> dict[str, Any]:
        frame = pd.DataFrame({"m": inputs.model, "t": inputs.task, "y": y})
        return {"cell": frame.groupby(["m", "t"])["y"].mean().to_dict(),
                "task": frame.groupby("t")["y"].mean().to_dict(),
                "model": frame.groupby("m")["y"].mean().to_dict(), "all": float(y.mean())}

    def _predict_point(self, fitted: dict[str, Any], inputs: BaselineInputs) -> np.ndarray:
        out = []
        for m, t in zip(inputs.model, inputs.task, strict=True):
            value = fitted["cell"].get((m, t))
            value = fitted["task"].get(t) if value is None and m < 0 else value
            value = fitted["model"].get(m) if value is None and t < 0 else value
            out.append(fitted["all"] if value is None else value)
        return np.asarray(out, dtype=float)


class TwoWayBaseline(NoFeatureBaseline):
    """The no-feature mean per (base model, task) plus the dataset's own effect, shrunk.

    A dataset with training runs (on other models or benchmarks) gets the mean of its
    residuals from the cell means, shrunk towards 0 by the empirical-Bayes factor
    ``n tau^2 / (n tau^2 + sigma^2)`` (``n`` its runs, ``tau^2`` the variance of dataset
    effects and ``sigma^2`` the residual variance within a dataset, both by the method of
    moments); a dataset without runs gets the cell mean alone. It is what a user with a few
    runs of a dataset can compute in a spreadsheet, and a forecaster that uses features has
    to beat it where a dataset has been seen.
    """

    _model_type = "two_way"

    def _fit_point(self, inputs: BaselineInputs, y: np.ndarray) -> dict[str, Any]:
        fitted = super()._fit_point(inputs, y)
        residual = y - super()._predict_point(fitted, inputs)
        frame = pd.DataFrame({"d": inputs.dataset, "r": residual})
        stats = frame.groupby("d")["r"].agg(["mean", "count", "var"])
        within = float(np.nansum(stats["var"] * (stats["count"] - 1))
                       / max((stats["count"] - 1).sum(), 1))
        between = max(float(stats["mean"].var(ddof=1)) - float(np.mean(within / stats["count"]))
                      if len(stats) > 1 else 0.0, 0.0)
        shrink = stats["count"] * between / (stats["count"] * between + within) \
            if within > 0 else pd.Series(1.0, index=stats.index)
        fitted["dataset"] = (shrink.fillna(0.0) * stats["mean"]).to_dict()
        return fitted

    def _predict_point(self, fitted: dict[str, Any], inputs: BaselineInputs) -> np.ndarray:
        cells = super()._predict_point(fitted, inputs)
        return cells + np.array([fitted["dataset"].get(d, 0.0) for d in inputs.dataset])


class StudyRankBaseline(PointBaseline):
    """The reference study's approach: one best-correlated metric per base model.

    For each training model, the metric with the largest mean absolute Spearman rho with the
    change (across datasets, averaged over tasks) is chosen; each (model, task) then maps it
    linearly to the change by least squares. An unseen model borrows the choice and maps of
    the training model nearest in log size; an unseen task the mean map over the model's tasks.
    """

    _model_type = "study_rank"

    def _fit_point(self, inputs: BaselineInputs, y: np.ndarray) -> dict[str, Any]:
        from scipy.stats import spearmanr

        fitted: dict[str, Any] = {"size_z": {}, "metric": {}, "maps": {}}
        for m in np.unique(inputs.model):
            rows = inputs.model == m
            fitted["size_z"][m] = float(inputs.size_z[rows][0])
            rho = np.zeros(inputs.x.shape[1])
            tasks = np.unique(inputs.task[rows])
            for t in tasks:
                cell = rows & (inputs.task == t)
                for k in range(inputs.x.shape[1]):
                    if np.ptp(inputs.x[cell, k]) > 0 and np.ptp(y[cell]) > 0:
                        rho[k] += abs(spearmanr(inputs.x[cell, k], y[cell]).statistic) / len(tasks)
            k_best = int(np.argmax(rho))
            fitted["metric"][m] = k_best
            for t in tasks:
                cell = rows & (inputs.task == t)
                fitted["maps"][m, t] = _line(inputs.x[cell, k_best], y[cell])
        return fitted

    def _predict_point(self, fitted: dict[str, Any], inputs: BaselineInputs) -> np.ndarray:
        seen = np.array(list(fitted["size_z"]))
        sizes = np.array(list(fitted["size_z"].values()))
        out = np.empty(len(inputs.x))
        for i, (m, t) in enumerate(zip(inputs.model, inputs.task, strict=True)):
            m = m if m in fitted["size_z"] else seen[np.argmin(np.abs(sizes - inputs.size_z[i]))]
            own = [v for (mm, _), v in fitted["maps"].items() if mm == m]
            a, b = fitted["maps"].get((m, t), tuple(np.mean(own, axis=0)))
            out[i] = a + b * inputs.x[i, fitted["metric"][m]]
        return out


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares intercept and slope (slope 0 when x is constant)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return float(np.mean(y)), 0.0
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


class _SklearnBaseline(PointBaseline):
    """Point baselines on a one-hot design: features, task, model, size and size x features."""

    def _design(self, inputs: BaselineInputs) -> np.ndarray:
        n_tasks = len(self.encoding_.tasks)
        n_models = len(self.encoding_.models)
        task_hot = (inputs.task[:, None] == np.arange(n_tasks)[None]).astype(float)
        model_hot = (inputs.model[:, None] == np.arange(n_models)[None]).astype(float)
        return np.column_stack([inputs.x, inputs.x * inputs.size_z[:, None], task_hot,
                                model_hot, inputs.size_z])

    def _predict_point(self, fitted: Any, inputs: BaselineInputs) -> np.ndarray:
        return fitted.predict(self._design(inputs))


class RidgeBaseline(_SklearnBaseline):
    """Ridge regression (penalty chosen by efficient leave-one-out CV, scikit-learn RidgeCV)."""

    _model_type = "ridge"

    def _fit_point(self, inputs: BaselineInputs, y: np.ndarray) -> Any:
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(self._design(inputs), y)


class GradientBoostingBaseline(_SklearnBaseline):
    """Gradient-boosted shallow trees (scikit-learn), seeded by ``fit(random_seed=...)``."""

    _model_type = "gradient_boosting"

    def _fit_point(self, inputs: BaselineInputs, y: np.ndarray) -> Any:
        from sklearn.ensemble import GradientBoostingRegressor

        # row subsampling needs rows to spare: a leave-one-dataset-out refit on a tiny table
        # (DEITA: 7 runs) would draw an empty subsample
        subsample = 0.8 if len(y) >= 10 else 1.0
        estimator = GradientBoostingRegressor(n_estimators=200, max_depth=2, learning_rate=0.05,
                                              subsample=subsample, random_state=self.random_seed_)
        return estimator.fit(self._design(inputs), y)
