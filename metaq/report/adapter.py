"""Fill a :class:`ReportData` from a fitted predictor through its public API and metaq.explain.

This is the only module of the report package that knows about the predictor; everything
downstream sees plain tables.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metaq.report.contracts import ReportData, ReportMetadata
from metaq.tables.runs import STUDY
from metaq.tables.targets import derive_target

logger = logging.getLogger(__name__)


def _training_models(runs: pd.DataFrame) -> pd.DataFrame:
    return (runs.drop_duplicates("base_model")[["base_model", "params_b", "family"]]
            .rename(columns={"base_model": "name"}).reset_index(drop=True))


def _report_models(runs: pd.DataFrame, forecast: pd.DataFrame | None) -> pd.DataFrame:
    """Training base models plus the forecast's target models (any size)."""
    models = _training_models(runs)
    if forecast is None or "params_b" not in forecast.columns:
        return models
    extra = forecast.drop_duplicates("target_model").rename(columns={"target_model": "name"})
    extra = extra[~extra["name"].isin(models["name"])]
    if "family" not in extra.columns:
        extra = extra.assign(family="")
    return pd.concat([models, extra[["name", "params_b", "family"]]], ignore_index=True)


def _size_label(frame: pd.DataFrame) -> pd.Series:
    return frame["target_model"].astype(str) + " (" + frame["params_b"].map("{:g}B".format) + ")"


def diagnostics_table(summary: dict[str, Any], *, thresholds: dict[str, float]) -> pd.DataFrame:
    """Turn a predictor's diagnostics summary into a table of checks.

    Parameters
    ----------
    summary : dict
        ``model.diagnostics_``: ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``,
        ``divergences``, ``chains``, ``max_pareto_k``, ``ppc_coverage``, ``ppc_prob``.
    thresholds : dict
        ``max_rhat``, ``min_ess_per_chain``, ``divergences``, ``pareto_k``,
        ``ppc_coverage_drop``.

    Returns
    -------
    pandas.DataFrame
        ``check, value, threshold, passed, detail``; a check whose value is absent is left out.

    Examples
    --------
    >>> t = diagnostics_table({"max_rhat": 1.002, "divergences": 3, "chains": 2},
    ...                       thresholds={"max_rhat": 1.01, "divergences": 0})
    >>> t[["check", "passed"]].values.tolist()
    [['max R-hat', True], ['divergent transitions', False]]
    """
    chains = summary.get("chains", 1)
    checks = [
        ("max R-hat", "max_rhat", thresholds.get("max_rhat"), np.less_equal,
         f"worst variable: {summary.get('worst_rhat_var', '')}"),
        ("min bulk ESS", "min_ess_bulk",
         thresholds.get("min_ess_per_chain", np.nan) * chains, np.greater_equal,
         f"{chains} chains x {summary.get('draws', '?')} draws"),
        ("min tail ESS", "min_ess_tail",
         thresholds.get("min_ess_per_chain", np.nan) * chains, np.greater_equal, ""),
        ("divergent transitions", "divergences", thresholds.get("divergences"),
         np.less_equal, ""),
        ("max PSIS-LOO Pareto k", "max_pareto_k", thresholds.get("pareto_k"), np.less_equal,
         f"{summary.get('n_pareto_k_high', 0)} observation(s) above the threshold"),
        ("posterior predictive coverage", "ppc_coverage",
         summary.get("ppc_prob", np.nan) - thresholds.get("ppc_coverage_drop", np.nan),
         np.greater_equal, f"nominal {summary.get('ppc_prob', np.nan):.0%}"
         if "ppc_prob" in summary else ""),
    ]
    rows = [{"check": name, "value": float(summary[key]), "threshold": float(limit),
             "passed": bool(compare(summary[key], limit)), "detail": detail}
            for name, key, limit, compare, detail in checks
            if key in summary and limit is not None and np.isfinite(limit)]
    return pd.DataFrame(rows, columns=["check", "value", "threshold", "passed", "detail"])


def feature_units(model: Any) -> pd.DataFrame:
    """Tabulate what one standardised unit of each feature of `model` is, and its block.

    Returns
    -------
    pandas.DataFrame
        ``feature, mean, sd, floored, block`` (block: the near-copy metrics sharing one
        prior budget, named by their features joined with ``+``).
    """
    scaler = model.feature_scaler_
    blocks = np.asarray(model.feature_blocks_, dtype=int)
    names = np.asarray(scaler.features, dtype=object)
    labels = {b: "+".join(names[blocks == b]) for b in np.unique(blocks)}
    return pd.DataFrame({"feature": scaler.features, "mean": scaler.means, "sd": scaler.sds,
                         "floored": scaler.floored,
                         "block": [labels[b] for b in blocks]})


def _posterior_predictive_check(model: Any, runs: pd.DataFrame, features: pd.DataFrame,
                                *, prob: float, random_seed: int) -> pd.DataFrame:
    """Each training run's observed change against its posterior predictive interval.

    A model with studies as a level forecasts each run within the study that printed it.
    """
    by_study = model.encoding_.study_level
    keys = ["dataset_id", "target_model", "benchmark", "domain", *([STUDY] if by_study else [])]
    groups = runs.groupby(STUDY, sort=False) if by_study else [(None, runs)]
    predicted = []
    for study, own in groups:
        training = features[features["dataset_id"].isin(own["dataset_id"])]
        predicted.append(model.predict(  # rows of a study model carry their study
            training, _training_models(own), model.encoding_.tasks["label"].tolist(),
            prob=prob, random_seed=random_seed, study=study).summary(prob))
    predicted = pd.concat(predicted, ignore_index=True)
    observed = runs.assign(observed=derive_target(runs, model.target),
                           target_model=runs["base_model"])
    joined = observed.merge(predicted[[*keys, "estimate", "lower", "upper"]], on=keys,
                            how="inner")
    joined = joined.dropna(subset=["observed"])
    return joined.rename(columns={"estimate": "mean"})[
        ["dataset_id", "base_model", "benchmark", "domain", "observed", "mean", "lower", "upper"]]


def _whatif(model: Any, features: list[str], models: pd.DataFrame, *, prob: float,
            random_seed: int) -> pd.DataFrame:
    from metaq.explain.whatif import sweep

    curves = [sweep(model, feature, target_models=models, prob=prob, random_seed=random_seed)
              for feature in features]
    return pd.concat(curves, ignore_index=True)


def report_data_from_model(model: Any, runs: pd.DataFrame, features: pd.DataFrame, *,
                           forecast: pd.DataFrame | None = None,
                           candidates: pd.DataFrame | None = None, prob: float = 0.9,
                           metadata: ReportMetadata | None = None,
                           correlations: pd.DataFrame | None = None, whatif_features: int = 3,
                           random_seed: int = 0) -> ReportData:
    """Build the report's tables from a fitted predictor, its data and a forecast.

    Parameters
    ----------
    model : HierarchicalDeltaModel or str or Path
        A fitted predictor, or the ``.nc`` file of a saved one.
    runs, features : pandas.DataFrame
        The validated runs and features tables it was fitted on.
    forecast : pandas.DataFrame, optional
        A forecast summary (``Forecast.summary``); its datasets get contribution breakdowns
        and its target models slopes and what-if curves.
    candidates : pandas.DataFrame, optional
        Features of the forecast's datasets when they are not training datasets; without
        them only forecast datasets found in `features` get contribution breakdowns.
    prob : float, default 0.9
        Interval mass of every table.
    metadata : ReportMetadata, optional
        Provenance; the model's seed, sampler settings and data hashes are added to it.
    correlations : pandas.DataFrame, optional
        :func:`metaq.stats.correlate` of the same runs and features.
    whatif_features : int, default 3
        What-if sweeps for this many of the most important features.
    random_seed : int, default 0
        Seed of the new-group and feature draws of the explanations.

    Returns
    -------
    ReportData
        Slopes per scale group, importance, contributions, what-if sweeps, diagnostics,
        posterior predictive check and PSIS-LOO, with the given data tables.
    """
    from metaq.explain.contributions import feature_contributions
    from metaq.explain.importance import feature_importance
    from metaq.modeling import HierarchicalDeltaModel
    from metaq.modeling.design import dataset_rows
    from metaq.modeling.diagnostics import THRESHOLDS

    if isinstance(model, str | Path):
        model = HierarchicalDeltaModel.load(model)
    models = _report_models(runs, forecast)
    slopes = feature_importance(model, by="model", target_models=models, prob=prob,
                                random_seed=random_seed)
    coefficients = slopes.assign(group=_size_label(slopes))
    importance = feature_importance(model, by="overall", prob=prob, random_seed=random_seed)
    explained = dataset_rows(features if candidates is None else candidates)  # not domains
    if forecast is not None:
        explained = explained[explained["dataset_id"].isin(forecast["dataset_id"])]
    contributions = None
    if len(explained):
        contributions = feature_contributions(model, explained, target_models=models,
                                              prob=prob, random_seed=random_seed)
    top = importance.reindex(importance["estimate"].abs().sort_values(ascending=False).index)
    whatif = _whatif(model, top["feature"].head(whatif_features).tolist(), models, prob=prob,
                     random_seed=random_seed)
    summary = model.diagnostics_
    metadata = metadata or ReportMetadata.now()
    metadata = dataclasses.replace(
        metadata, seeds={**metadata.seeds, "fit": model.random_seed_},
        settings={**metadata.settings, **{f"sampler {k}": v for k, v in model.sampler_.items()},
                  "target": model.target, "slope unit": model.linear_predictor_unit},
        data_hashes={**metadata.data_hashes,
                     **{f"fit {k}": v for k, v in model.data_hashes_.items()}})
    return ReportData(
        metadata=metadata, prob=prob, forecast=forecast, coefficients=coefficients,
        importance=importance, contributions=contributions, whatif=whatif,
        correlations=correlations, runs=runs, features=features,
        diagnostics=diagnostics_table(summary, thresholds=THRESHOLDS),
        ppc=_posterior_predictive_check(model, runs, features, prob=prob,
                                        random_seed=random_seed),
        units=feature_units(model),
        prior_predictive=(pd.DataFrame(summary["prior_predictive"])
                          if "prior_predictive" in summary else None),
        loo=pd.DataFrame({"pareto_k": summary["pareto_k"]}) if "pareto_k" in summary else None)
