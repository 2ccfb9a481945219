"""The predictor: a Bayesian hierarchical model of benchmark score changes after fine-tuning."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from metaq._outputs import check_output_path
from metaq.exceptions import InvalidParameterError, NotFittedError, SchemaError
from metaq.modeling import predictive
from metaq.modeling.design import (
    BaseScores,
    TrainingData,
    as_features_table,
    as_runs_table,
    build_training_data,
    choose_features,
    dataset_rows,
    known_base_scores,
)
from metaq.modeling.diagnostics import (
    convergence_summary,
    loo_summary,
    ppc_summary,
    run_correlation,
    warn_on_problems,
)
from metaq.modeling.forecast import Forecast, check_prob, forecast_rows
from metaq.modeling.persistence import load_fitted, save_fitted, table_hash
from metaq.modeling.prior_check import prior_predictive_table
from metaq.modeling.priors import resolve_priors
from metaq.modeling.protocols import param_names
from metaq.modeling.pymc_model import PREDICTIVE_VARS, build_pymc_model
from metaq.modeling.query import Benchmarks, TargetModels, resolve_target_models, resolve_tasks
from metaq.modeling.sampling import chosen_backend, resolve_sampler, sample_posterior
from metaq.modeling.state import FittedState
from metaq.tables.targets import TARGETS

logger = logging.getLogger(__name__)

LIKELIHOODS = ("auto", "binomial", "student_t")
CHECK_DRAWS = 1000  # posterior draws used by PSIS-LOO and the predictive check


class HierarchicalDeltaModel:
    r"""Forecast benchmark score changes from dataset features, partially pooled over model scale.

    Run :math:`i` fine-tunes base model :math:`m` on dataset :math:`d` and scores it on task
    :math:`t` (a benchmark, or one domain of it). With item counts (``n_items``) the
    likelihood is

    .. math::

        k^{ft}_i &\sim \mathrm{BetaBinomial}(n_i,\ p_i\phi,\ (1-p_i)\phi),\quad
        p_i = \mathrm{logit}^{-1}(\theta_{mt} + \delta_i),\quad \phi = 1/\sigma_{run}^2 \\
        k^{base}_{mt} &\sim \mathrm{Binomial}(n_{mt},\ \mathrm{logit}^{-1}(\theta_{mt}))

    so the untuned level :math:`\theta_{mt}` is latent (a missing untuned score is then
    informed by the pooled level :math:`\theta_{mt} = b_0 + b_m + b_t + c_{mt}`), and without
    item counts a Student-t on the chosen change (scaled by its sample sd). The change is

    .. math::

        \delta_i = \alpha + a_t + a_m + c_{mt} + e_d + \sum_k x_{dk}\,(\beta_k + \gamma_k z_m
        + u_{mk} + v_{tk}),\qquad a_m = \gamma_0 z_m + \tilde a_m

    with :math:`x` the standardised features (latent :math:`x \sim N(x^{obs}, se)` where the
    features table has ``<metric>__se``), :math:`z_m` the standardised log parameter count,
    :math:`a_t, \tilde a_m, c_{mt}, u, v` non-centred, partially pooled offsets (task, model,
    model x task, slopes per model and task) and :math:`e_d \sim N(0, \sigma_d)` the dataset
    effect the features leave unexplained. An unseen model or task draws its offsets from
    their population, and every forecast dataset draws a new :math:`e_d`, so intervals widen
    honestly.
    Runs of two or more studies (a ``study`` column) add studies as a level: a study x task
    protocol offset :math:`\pi_{st}` inside the logit of both scores, a study intercept
    :math:`a_s` of the change and study deviations :math:`w_{sk}` of the slopes, all
    zero-sum over studies; :meth:`predict` forecasts for a new study unless ``study=``
    names a training one.
    Priors and their reasons are in :mod:`metaq.modeling.priors` and docs/predictor.md.

    Parameters
    ----------
    features : sequence of str, optional
        Metric columns to use; default every metric column of the features table.
    target : {"logit", "abs", "rel"}, default "logit"
        Scale of forecasts (and of the Student-t likelihood's outcome).
    priors : mapping of str to float, optional
        Prior scales overriding :data:`metaq.modeling.priors.DEFAULT_PRIORS`.
    sampler : mapping, optional
        Overrides of :data:`metaq.modeling.sampling.DEFAULT_SAMPLER` (draws, tune, chains,
        target_accept, backend).
    likelihood : {"auto", "binomial", "student_t"}, default "auto"
        ``auto`` is binomial when every run has ``n_items``.
    scale_effects : bool, default True
        Include the size moderator and the scale-group terms (False gives the pooled model).

    Attributes
    ----------
    idata_ : arviz.InferenceData
        Posterior draws.
    features_ : list of str
        Features used (constant ones dropped).
    feature_scaler_ : FeatureScaler
        Means and sds of the raw features (for what-ifs in raw units).
    encoding_ : Encoding
        Training base models, tasks and the size axis.
    likelihood_ : str
        The likelihood used.
    diagnostics_ : dict
        Convergence, PSIS-LOO and posterior predictive summaries.

    Examples
    --------
    >>> from metaq.datasets import study_path
    >>> model = HierarchicalDeltaModel(target="abs").fit(study_path("runs"), study_path("features"),
    ...                                                  random_seed=1)  # doctest: +SKIP
    >>> model.predict(study_path("features"), ["PLLuM-8B-instruct"]).summary()  # doctest: +SKIP
    """

    _model_type = "hierarchical_delta"
    #: The untuned level is latent, so runs without an untuned score are learnt from too.
    learns_untuned_level: ClassVar[bool] = True

    def __init__(self, features: Sequence[str] | None = None,
                 target: Literal["logit", "abs", "rel"] = "logit",
                 priors: Mapping[str, float] | None = None,
                 sampler: Mapping[str, Any] | None = None,
                 likelihood: Literal["auto", "binomial", "student_t"] = "auto",
                 scale_effects: bool = True) -> None:
        self.features = features
        self.target = target
        self.priors = priors
        self.sampler = sampler
        self.likelihood = likelihood
        self.scale_effects = scale_effects

    # ------------------------------------------------------------------ fit
    def fit(self, runs: pd.DataFrame | str | Path, features: pd.DataFrame | str | Path, *,
            random_seed: int | None = None, prior_predictive: bool = False,
            **sampler_overrides: Any) -> Self:
        """Fit the model to past runs and the features of their datasets.

        Parameters
        ----------
        runs : pandas.DataFrame or path
            Runs table (validated with :func:`metaq.validate_runs`).
        features : pandas.DataFrame or path
            Features table with a row for every dataset of `runs`. A value missing for
            some training datasets (a property a study did not print) is latent in the
            fit; a feature with no training value at all is left out (logged).
        random_seed : int, optional
            Seed of the sampler and of the diagnostics' predictive draws.
        prior_predictive : bool, default False
            Also draw what the priors alone imply for the runs (fine-tuned scores, changes,
            the spread between datasets; :func:`metaq.modeling.prior_check.prior_predictive_table`)
            and keep it, beside the observed values, in ``diagnostics_["prior_predictive"]``.
        **sampler_overrides
            Sampler settings for this fit (``draws=200, chains=2`` ...).

        Returns
        -------
        HierarchicalDeltaModel
            self, fitted.

        Raises
        ------
        SchemaError
            For invalid tables, unknown features (the message lists the available ones),
            no feature that varies across the training datasets, or runs whose dataset has
            no features.
        InvalidParameterError
            For an unknown target, likelihood, prior or sampler setting.
        """
        self._check_options()
        runs = as_runs_table(runs)
        features = as_features_table(features, allow_missing=True)
        names = choose_features(features, self.features)
        likelihood = self._resolve_likelihood(runs)
        data, encoding, scaler = build_training_data(runs, features, names,
                                                     likelihood=likelihood, target=self.target)
        priors = resolve_priors(self.priors)
        settings = resolve_sampler(self.sampler, sampler_overrides)
        model, tensors = build_pymc_model(data, scaler.features,
                                          encoding.tasks["label"].tolist(),
                                          encoding.models["name"].tolist(), priors,
                                          scale_effects=self.scale_effects)
        prior_table = (prior_predictive_table(model, tensors, data, random_seed=random_seed)
                       if prior_predictive else None)
        idata = sample_posterior(model, settings, random_seed=random_seed)
        self.idata_ = idata
        FittedState(
            features=scaler.features, feature_scaler=scaler, encoding=encoding,
            likelihood=likelihood, priors=priors,
            sampler={**settings, "backend": chosen_backend(settings["backend"])},
            y_scale=data.y_scale, training_x=_completed_features(data, idata),
            feature_blocks=data.feature_blocks,
            constant_features=data.constant_features, run_correlation=0.0,
            data_hashes={"runs": table_hash(runs), "features": table_hash(features)},
            random_seed=random_seed, n_runs=len(data.run_row), diagnostics={},
        ).attach(self)
        self.diagnostics_ = self._diagnose(data, np.random.default_rng(random_seed))
        self.run_correlation_ = self.diagnostics_["run_correlation"]
        if prior_table is not None:
            self.diagnostics_["prior_predictive"] = prior_table.to_dict(orient="records")
        warn_on_problems(self.diagnostics_)
        logger.info("fitted %s on %d runs, %d features: max R-hat %.3f, %d divergences",
                    type(self).__name__, self.n_runs_, len(self.features_),
                    self.diagnostics_["max_rhat"], self.diagnostics_["divergences"])
        return self

    def _check_options(self) -> None:
        if self.target not in TARGETS:
            raise InvalidParameterError(f"unknown target {self.target!r}; choose one of "
                                        f"{sorted(TARGETS)}")
        if self.likelihood not in LIKELIHOODS:
            raise InvalidParameterError(f"unknown likelihood {self.likelihood!r}; choose one "
                                        f"of {LIKELIHOODS}")

    def _resolve_likelihood(self, runs: pd.DataFrame) -> str:
        has_counts = bool(runs["n_items"].notna().all())
        if self.likelihood == "binomial" and not has_counts:
            raise SchemaError("likelihood='binomial' needs n_items on every run; "
                              f"{int(runs['n_items'].isna().sum())} run(s) lack it. Fix: add "
                              "n_items or use likelihood='student_t'.")
        if self.likelihood == "auto":
            return "binomial" if has_counts else "student_t"
        return self.likelihood

    def _diagnose(self, data: TrainingData, rng: np.random.Generator) -> dict[str, Any]:
        summary = convergence_summary(self.idata_, list(self.idata_.posterior.data_vars))
        posterior = _thinned(self.idata_.posterior, CHECK_DRAWS)
        params = predictive.flatten_posterior(posterior, PREDICTIVE_VARS)
        terms = predictive.group_terms(params, self.encoding_, self.encoding_.models,
                                       self.encoding_.tasks, predictive.DrawStreams(0),
                                       study=None)
        n = len(params["slope"])
        x = (predictive.flatten_posterior(posterior, ["x_true"])["x_true"]
             if "x_true" in posterior else np.broadcast_to(data.x_obs, (n, *data.x_obs.shape)))
        mu = predictive.training_linear_predictor(params, terms, x, data.run_row,
                                                  data.run_model, data.run_task,
                                                  data.run_dataset, data.run_study)
        log_lik, observed, replicated = _pointwise(data, params, terms, mu, rng)
        shape = (posterior.sizes["chain"], posterior.sizes["draw"], -1)
        summary.update(loo_summary(log_lik.reshape(shape)))
        summary.update(ppc_summary(observed, replicated))
        summary["run_correlation"] = run_correlation(
            observed, replicated, data.run_dataset, data.run_model)
        return summary

    # ------------------------------------------------------------------ predict
    def predict(self, features: pd.DataFrame | str | Path, target_models: TargetModels,
                benchmarks: Benchmarks = None, *,
                prob: float = 0.9, include_run_noise: bool = True,
                random_seed: int | None = None,
                target: Literal["logit", "abs", "rel"] | None = None,
                base_scores: BaseScores = None, item_noise: bool = False,
                study: str | None = None) -> Forecast:
        """Forecast the change each dataset makes for each target model and benchmark.

        Parameters
        ----------
        features : pandas.DataFrame or path
            Features of the candidate datasets (missing metrics allowed: they are integrated
            over the training datasets and listed in the forecast).
        target_models : DataFrame or sequence
            Models to forecast for: names of training models, or ``(name, params_b, family)``
            tuples / mappings / a DataFrame with those columns. A training model uses its own
            offsets; an unseen one draws them from the population.
        benchmarks : sequence, optional
            Tasks as ``"benchmark"``, ``"benchmark/domain"`` or ``(benchmark, domain)``;
            default every training task.
        prob : float, default 0.9
            Validated here; the interval mass used by ``Forecast.summary`` by default.
        include_run_noise : bool, default True
            Forecast one fine-tuning run (with run-to-run variation) rather than its mean.
        random_seed : int, optional
            Seed of the new-group, missing-feature and run-noise draws.
        target : {"logit", "abs", "rel"}, optional
            Scale of the forecast; default the model's ``target``. With the binomial
            likelihood any scale works (it is computed per draw from the untuned level and
            the logit change); a Student-t model forecasts only the scale it was fitted on.
        base_scores : DataFrame or path, optional
            Untuned scores you measured (``base_model, benchmark[, domain], score_base[,
            n_items]``, :mod:`metaq.tables.base_scores`). Where given they replace the
            model's untuned level: an unseen base model is then placed by its own score
            rather than by its size and family, and its fine-tuned score is known on every
            scale. Rows for a training model or benchmark not requested are skipped; a name
            neither requested nor known to the model is an error.
        item_noise : bool, default False
            Forecast the score the benchmark *prints* for one run: add the binomial sampling
            of its items (count from the training runs; tasks without one are unchanged),
            and take the change from the printed untuned score where known. Off, the
            forecast is of the fine-tuned model's accuracy, which is what choosing between
            datasets needs; on, it is what a held-out recorded run is compared with
            (the validation harness turns it on).
        study : str, optional
            For a model fitted on runs of two or more studies: the study (evaluation
            protocol) the forecast is for. None (default) forecasts for a new study, drawing
            its protocol offsets, intercept and slope deviations from the population of
            studies; a training study's name forecasts within it (narrower). A model without
            a study level accepts None or its one training study. With a study level the
            forecast's rows say which (``study``; empty for a new study).

        Returns
        -------
        Forecast
            Rows = datasets x target models x benchmarks.

        Raises
        ------
        NotFittedError
            Before :meth:`fit` or :meth:`load`.
        SchemaError
            For an unseen model without ``params_b``, a bad features table, or an untuned
            score of a model or benchmark neither forecast nor known to the model.
        InvalidParameterError
            For a `study` that is not a training study (the message lists them).
        """
        check_prob(prob)
        target = self._forecast_target(target)
        prep = self._prepare(features, target_models, benchmarks, random_seed, base_scores,
                             study=study)
        trained = self.idata_.posterior.coords.get("dataset")
        trained = [] if trained is None else trained.values.tolist()
        offsets = predictive.dataset_offsets(prep.params, trained, prep.table["dataset_id"],
                                             prep.streams["dataset"])
        mu = predictive.linear_predictor(prep.terms, prep.x, offsets)
        delta, score = predictive.outcome_draws(
            mu, prep.terms, prep.params, target=target, y_scale=self.y_scale_,
            include_run_noise=include_run_noise, streams=prep.streams, item_noise=item_noise)
        rows = forecast_rows(prep.table["dataset_id"], prep.models, prep.tasks,
                             self._missing(prep.table), prep.terms.seen_model,
                             change_identified=prep.terms.change_identified,
                             untrained=self._untrained(prep.table))
        if self.encoding_.study_level:  # which protocol the forecast is for
            rows["study"] = study or ""
        n = delta.shape[0]
        return Forecast(delta.reshape(n, -1), score.reshape(n, -1), rows, target=target,
                        model_name=self._model_type)

    def _forecast_target(self, target: str | None) -> str:
        self._check_fitted()
        target = self.target if target is None else target
        if target not in TARGETS:
            raise InvalidParameterError(f"unknown target {target!r}; choose one of "
                                        f"{sorted(TARGETS)}")
        if self.likelihood_ != "binomial" and target != self.target:
            raise InvalidParameterError(
                f"this model was fitted on the {self.target!r} change without item counts, so "
                f"it forecasts only target={self.target!r}, not {target!r}. Fix: refit with "
                f"target={target!r} or give n_items in the runs table.")
        return target

    def slopes(self, target_models: TargetModels,
               benchmarks: Benchmarks = None, *,
               random_seed: int | None = None, study: str | None = None):
        r"""Per-draw coefficient of each standardised feature for models x tasks.

        The coefficient is :math:`\beta_k + \gamma_k z_m + u_{mk} + v_{tk}` in
        linear-predictor units (:attr:`linear_predictor_unit`) per standard deviation of the
        feature (:attr:`feature_scaler_`); unseen models or tasks draw their offsets. With a
        study level it adds the `study`'s slope deviations (a new study's drawn when None,
        as in :meth:`predict`).

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, target_model, task, feature)``.
        """
        self._check_fitted()
        models = self.resolve_target_models(target_models)
        tasks = self.resolve_benchmarks(benchmarks)
        terms = predictive.group_terms(self._params(), self.encoding_, models, tasks,
                                       predictive.DrawStreams(random_seed),
                                       study=self.encoding_.study_index(study))
        return self._as_draws(terms.slope * self._unit_scale(), {
            "target_model": models["name"].tolist(), "task": tasks["label"].tolist(),
            "feature": self.features_})

    def contributions(self, features: pd.DataFrame | str | Path, target_models: TargetModels,
                      benchmarks: Benchmarks = None, *,
                      random_seed: int | None = None, study: str | None = None):
        """Per-draw contribution ``x_k * slope_k`` of each feature to the linear predictor.

        Features are standardised with :attr:`feature_scaler_` (so 0 = training mean) and
        include their measurement error and missing-feature draws, and the slopes the
        `study`'s deviations, as in :meth:`predict`.
        Summed over features and added to the intercepts they give the linear predictor.

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, dataset_id, target_model, task, feature)`` in
            :attr:`linear_predictor_unit`.
        """
        prep = self._prepare(features, target_models, benchmarks, random_seed, study=study)
        parts = predictive.contributions(prep.terms, prep.x) * self._unit_scale()
        return self._as_draws(parts, {
            "dataset_id": prep.table["dataset_id"].tolist(),
            "target_model": prep.models["name"].tolist(), "task": prep.tasks["label"].tolist(),
            "feature": self.features_})

    def resolve_target_models(self, target_models: TargetModels = None) -> pd.DataFrame:
        """Read target models as :meth:`predict` does: ``name``, ``params_b``, ``family``.

        See :func:`metaq.modeling.query.resolve_target_models`; None gives the training
        base models.
        """
        self._check_fitted()
        return resolve_target_models(target_models, self.encoding_.models)

    def resolve_benchmarks(self, benchmarks: Benchmarks = None) -> pd.DataFrame:
        """Read benchmarks as :meth:`predict` does: ``benchmark``, ``domain``, ``label``.

        See :func:`metaq.modeling.query.resolve_tasks`; None gives the training whole
        benchmarks.
        """
        self._check_fitted()
        return resolve_tasks(benchmarks, self.encoding_.tasks)

    @property
    def linear_predictor_unit(self) -> str:
        """Unit of :meth:`slopes` and :meth:`contributions`."""
        self._check_fitted()
        return "logit change" if self.likelihood_ == "binomial" else \
            f"change on the {self.target!r} scale"

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, max_draws: int | None = None) -> Path:
        """Write the fitted model to `path` (netCDF) and its JSON card beside it.

        Parameters
        ----------
        path : str or Path
            The ``.nc`` file.
        max_draws : int, optional
            Keep at most this many draws in all (thinned evenly per chain) for a small file.

        Returns
        -------
        pathlib.Path
            The netCDF path.
        """
        import arviz as az

        self._check_fitted()
        posterior = self.idata_.posterior
        keep = [v for v in PREDICTIVE_VARS if v in posterior]
        posterior = _thinned(posterior[keep], max_draws) if max_draws else posterior[keep]
        diverging = self.idata_.sample_stats[["diverging"]]
        idata = az.InferenceData(posterior=posterior.copy(), sample_stats=diverging.copy())
        return save_fitted(path, idata, self._card())

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a model saved with :meth:`save`.

        Raises
        ------
        ModelNotFoundError
            When the file does not exist.
        IncompatibleModelError
            When the file was written by an incompatible metaq version, for another model
            type, or its spec was edited.
        """
        idata, card = load_fitted(path, cls._model_type)
        spec = card["spec"]
        params = {"features": spec["features_requested"], "target": spec["target"],
                  "priors": spec["priors"], "sampler": card["state"]["sampler"],
                  "likelihood": spec["likelihood"], "scale_effects": spec["scale_effects"]}
        model = cls(**{name: params[name] for name in param_names(cls)})
        model.idata_ = idata
        FittedState.from_dict(card["state"]).attach(model)
        return model

    def _card(self) -> dict[str, Any]:
        spec = {
            "model_type": self._model_type, "features": self.features_,
            "features_requested": list(self.features) if self.features is not None else None,
            "target": self.target, "likelihood": self.likelihood_,
            "scale_effects": self.scale_effects, "priors": self.priors_,
        }
        return {"model_type": self._model_type, "spec": spec,
                "state": FittedState.of(self).to_dict(),
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds")}

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call `.fit()` "
                                 f"first or `{type(self).__name__}.load(path)`")

    def _params(self) -> dict[str, np.ndarray]:
        return predictive.flatten_posterior(self.idata_.posterior, PREDICTIVE_VARS)

    def _unit_scale(self) -> float:
        return 1.0 if self.likelihood_ == "binomial" else self.y_scale_

    def _prepare(self, features, target_models, benchmarks, random_seed,
                 base_scores=None, *, study: str | None = None) -> _Prepared:
        self._check_fitted()
        study_index = self.encoding_.study_index(study)
        streams = predictive.DrawStreams(random_seed)
        full = as_features_table(features, allow_missing=True)
        table = dataset_rows(full)
        models = self.resolve_target_models(target_models)
        tasks = self.resolve_benchmarks(benchmarks)
        params = self._params()
        known = (None if base_scores is None
                 else known_base_scores(base_scores, models, tasks, self.encoding_))
        terms = predictive.group_terms(params, self.encoding_, models, tasks, streams, known,
                                       study=study_index)
        x = self._feature_draws(full, table, tasks, len(params["slope"]), streams)
        return _Prepared(terms, table, x, streams, models, tasks, params)

    def _feature_draws(self, full: pd.DataFrame, table: pd.DataFrame, tasks: pd.DataFrame,
                       n_samples: int, streams: predictive.DrawStreams) -> np.ndarray:
        """(sample, dataset, feature) draws; (sample, dataset, task, feature) per domain."""
        if self.encoding_.feature_level != "domain":
            rows, index = table, None
        else:  # a domain task uses the dataset's row for that domain where there is one
            known = set(zip(full["dataset_id"], full["domain"], strict=True))
            keys = [(d, t if (d, t) in known else "") for d in table["dataset_id"]
                    for t in tasks["domain"]]
            unique = list(dict.fromkeys(keys))
            rows = full.set_index(["dataset_id", "domain"]).loc[unique].reset_index()
            position = {key: i for i, key in enumerate(unique)}
            index = np.array([position[k] for k in keys]).reshape(len(table), len(tasks))
        scaler = self.feature_scaler_
        x = predictive.feature_draws(scaler.transform(rows), scaler.transform_se(rows),
                                     self.training_x_, n_samples, streams)
        return x if index is None else x[:, index]

    def _missing(self, table: pd.DataFrame) -> list[str]:
        values = self.feature_scaler_.transform(table)
        return [",".join(f for f, gap in zip(self.features_, row, strict=True) if gap)
                for row in np.isnan(values)]

    def _untrained(self, table: pd.DataFrame) -> list[str]:
        """Per dataset, the features left out as constant in training on which it differs."""
        return untrained_features(table, self.constant_features_)

    def _as_draws(self, values: np.ndarray, coords: dict[str, list]):
        import xarray as xr

        chains = self.idata_.posterior.sizes["chain"]
        values = values.reshape(chains, -1, *values.shape[1:])
        return xr.DataArray(values, dims=("chain", "draw", *coords),
                            coords={"chain": np.arange(chains),
                                    "draw": np.arange(values.shape[1]), **coords})

    def __repr__(self) -> str:
        fitted = f", fitted on {self.n_runs_} runs" if hasattr(self, "idata_") else ""
        return f"{type(self).__name__}(target={self.target!r}{fitted})"


@dataclass
class _Prepared:
    """What every forecast-like method draws from: group terms, features and their rows."""

    terms: predictive.GroupTerms
    table: pd.DataFrame
    x: np.ndarray
    streams: predictive.DrawStreams
    models: pd.DataFrame
    tasks: pd.DataFrame
    params: dict[str, np.ndarray]


def untrained_features(table: pd.DataFrame, constant: Mapping[str, float], *,
                       rtol: float = 1e-9) -> list[str]:
    """Per row of `table`, the `constant` features (training value) on which it differs.

    A feature that had one value across the training datasets was left out of the model:
    the training runs say nothing about what it does, so a candidate that differs on it is
    forecast as if it did not (an extrapolation the intervals cannot show). A feature no
    training dataset had a value of is recorded as NaN: any value differs. Missing values
    are not flagged (they are unknown, not different).

    Examples
    --------
    >>> t = pd.DataFrame({"long_cot": [1.0, 0.0, np.nan]})
    >>> untrained_features(t, {"long_cot": 1.0, "lora": 0.0})
    ['', 'long_cot', '']
    >>> untrained_features(t, {"long_cot": float("nan")})
    ['long_cot', 'long_cot', '']
    """
    flags = []
    for _, row in table.iterrows():
        differs = [name for name, value in constant.items()
                   if name in row.index and pd.notna(row[name])
                   and not np.isclose(float(row[name]), value, rtol=rtol, atol=rtol)]
        flags.append(",".join(differs))
    return flags


class PooledDeltaModel(HierarchicalDeltaModel):
    """The same model without scale effects: no size moderator, no scale-group offsets.

    A baseline that answers "does letting slopes depend on model size help?": identical code
    path with ``scale_effects=False``.

    Parameters
    ----------
    features, target, priors, sampler, likelihood
        As for :class:`HierarchicalDeltaModel`.
    """

    _model_type = "pooled_delta"

    def __init__(self, features: Sequence[str] | None = None,
                 target: Literal["logit", "abs", "rel"] = "logit",
                 priors: Mapping[str, float] | None = None,
                 sampler: Mapping[str, Any] | None = None,
                 likelihood: Literal["auto", "binomial", "student_t"] = "auto") -> None:
        super().__init__(features=features, target=target, priors=priors, sampler=sampler,
                         likelihood=likelihood, scale_effects=False)


def fit_predictor(runs: pd.DataFrame | str | Path, features: pd.DataFrame | str | Path, *,
                  out: str | Path, target: str = "logit", random_seed: int | None = None,
                  sampler: Mapping[str, Any] | None = None,
                  features_used: Sequence[str] | None = None,
                  max_draws: int | None = None,
                  prior_predictive: bool = False) -> HierarchicalDeltaModel:
    """Fit a :class:`HierarchicalDeltaModel` and save it (the ``metaq fit`` command).

    Parameters
    ----------
    runs, features : DataFrame or path
        Training tables.
    out : str or Path
        Model file (``.nc``); the JSON card is written beside it.
    target : {"logit", "abs", "rel"}
        Forecast scale.
    random_seed : int, optional
        Sampler seed.
    sampler : mapping, optional
        Sampler settings.
    features_used : sequence of str, optional
        Subset of metric columns.
    max_draws : int, optional
        Thin the saved draws to at most this many.
    prior_predictive : bool, default False
        Also keep a prior predictive check in the diagnostics
        (:meth:`HierarchicalDeltaModel.fit`).

    Returns
    -------
    HierarchicalDeltaModel
        The fitted model (already saved).

    Raises
    ------
    OutputPathError
        When `out` cannot be written (checked before sampling).
    """
    check_output_path(out, option="out", suffixes=(".nc",))  # before minutes of sampling
    model = HierarchicalDeltaModel(features=features_used, target=target, sampler=sampler)
    model.fit(runs, features, random_seed=random_seed, prior_predictive=prior_predictive)
    model.save(out, max_draws=max_draws)
    return model


def _completed_features(data: TrainingData, idata) -> np.ndarray:
    """Training features with each missing value replaced by its posterior mean."""
    if not data.has_missing_features:
        return data.x_obs
    fitted = idata.posterior["x_true"].mean(dim=("chain", "draw")).to_numpy()
    return np.where(np.isnan(data.x_obs), fitted, data.x_obs)


def _thinned(posterior, max_draws: int | None):
    if not max_draws:
        return posterior
    total = posterior.sizes["chain"] * posterior.sizes["draw"]
    step = max(1, int(np.ceil(total / max_draws)))
    return posterior.isel(draw=slice(None, None, step))


def _pointwise(data: TrainingData, params: dict[str, np.ndarray],
               terms: predictive.GroupTerms, mu: np.ndarray, rng: np.random.Generator):
    """Pointwise log-likelihood, observed outcomes and replicated outcomes of training runs."""
    from scipy import stats
    from scipy.special import expit

    if data.y is not None:
        nu, sigma = params["nu"][:, None], params["residual_sd"][:, None]
        log_lik = stats.t.logpdf(data.y[None], nu, mu, sigma)
        replicated = mu + sigma * rng.standard_t(np.broadcast_to(nu, mu.shape))
        return log_lik, data.y, replicated
    level = (terms.theta_base[:, data.run_model, data.run_task]
             + predictive.training_protocol(params, data.run_task, data.run_study))
    p = expit(level + mu)
    phi = 1.0 / np.square(params["run_sd"])[:, None]
    log_lik = stats.betabinom.logpmf(data.k_ft[None], data.n_ft[None], p * phi, (1 - p) * phi)
    replicated = rng.binomial(data.n_ft[None], rng.beta(p * phi, (1 - p) * phi)) / data.n_ft
    return log_lik, data.k_ft / data.n_ft, replicated
