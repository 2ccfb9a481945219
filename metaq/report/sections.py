"""Pure section builders: the tables of a :class:`ReportData` in, one :class:`ReportSection` out.

A builder reads only its arguments, draws its figures in the report style and returns a frozen
section; :func:`build_sections` puts them in reading order, with the diagnostics first when a
check failed.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from metaq.explain.plots import (
    draw_contributions,
    draw_forecast,
    draw_importance,
    draw_ranking,
    draw_sweep,
)
from metaq.report.caveats import compute_caveats
from metaq.report.contracts import (
    ReportConfig,
    ReportData,
    ReportFigure,
    ReportSection,
    ReportTable,
)
from metaq.report.formatting import change_factor, change_unit, forecast_target, text_column
from metaq.report.plots import figure_png, plot_loo_pit, plot_pareto_k, plot_ppc, report_style
from metaq.report.recommend import recommendation
from metaq.tables.features import metric_columns

_CHANGE_COLUMNS = ("estimate", "sd", "lower", "upper")
_PARETO_K_THRESHOLD = 0.7
#: The figure of each report table that has one: the explain layer's drawing of that table.
FIGURES: dict[str, Callable[[pd.DataFrame], object]] = {
    "forecast": draw_forecast, "coefficients": lambda t: draw_importance(t, by="group"),
    "importance": draw_importance,
    "contributions": draw_contributions, "whatif": draw_sweep, "ranking": draw_ranking,
}


def _figure(title: str, draw: Callable[[], object], *, alt: str, caption: str) -> ReportFigure:
    with report_style():
        fig = draw()
        png = figure_png(fig)
    return ReportFigure(title=title, png=png, alt=alt, caption=caption)


def _forecast_display(forecast: pd.DataFrame, unit: str, factor: float) -> pd.DataFrame:
    columns = [c for c in ("dataset_id", "target_model", "params_b", "benchmark", "domain",
                           *_CHANGE_COLUMNS, "prob_gain", "prob_best") if c in forecast.columns]
    shown = forecast[columns].copy()
    if "domain" in shown.columns and (text_column(shown["domain"]) == "").all():
        shown = shown.drop(columns="domain")
    for column in _CHANGE_COLUMNS:
        if column in shown.columns:
            shown[column] = shown[column].astype(float) * factor
    return shown.rename(columns={c: f"{c} ({unit})" for c in _CHANGE_COLUMNS})


def summary_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """Build the summary: forecasts per dataset x model x benchmark and the recommendation.

    Parameters
    ----------
    data : ReportData
        Uses ``forecast``.
    config : ReportConfig
        Thresholds of the recommendation and table length.

    Returns
    -------
    ReportSection
        Recommendation paragraphs, the forecast table and a forest plot of the forecasts.
    """
    title = "Summary: forecast and recommendation"
    forecast = data.forecast
    if forecast is None or forecast.empty:
        return ReportSection("summary", title, "No forecast was given. Run `metaq forecast` "
                             "on candidate datasets and pass its table with --forecast.")
    target = forecast_target(forecast)
    unit, factor = change_unit(target), change_factor(target)
    interval = f"{data.prob:.0%} credible interval"
    table = ReportTable(
        "Forecast change per candidate", _forecast_display(forecast, unit, factor),
        f"Posterior mean, sd and {interval} (lo-hi) of the change in {unit}; P(gain) is the "
        f"posterior probability that the change is positive, P(best) that this dataset gives "
        f"the largest change among the candidates for that model and benchmark.")
    figure = _figure(
        "Forecast change by benchmark", lambda: draw_forecast(forecast),
        alt="Forecast change per candidate and benchmark with its interval, one panel per "
            "target model.",
        caption=f"Points are posterior means, bars the {interval} (on the forecast's own "
                f"scale, {target}); the dashed line is no change.")
    paragraphs = recommendation(forecast, prob=data.prob, best_threshold=config.best_threshold,
                                gain_threshold=config.gain_threshold)
    return ReportSection(
        "summary", title,
        f"What fine-tuning on each candidate is forecast to do, with {interval}s. The "
        f"recommendation below is derived from these numbers and states its uncertainty.",
        paragraphs=tuple(paragraphs), tables=(table,), figures=(figure,))


def drivers_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """Build what drives the forecasts per model scale: slopes, importance, contributions.

    Parameters
    ----------
    data : ReportData
        Uses ``coefficients``, ``importance`` and ``contributions``.
    config : ReportConfig
        Table length.

    Returns
    -------
    ReportSection
        Coefficient forest plots per scale group, the importance table and the contribution
        breakdown.
    """
    interval = f"{data.prob:.0%} credible interval"
    tables, figures = [], []
    if data.coefficients is not None:
        figures.append(_figure(
            "Slopes per scale group", lambda: draw_importance(data.coefficients, by="group"),
            alt="Each feature's slope with its interval, one panel per target model.",
            caption=f"Points are posterior means, bars the {interval}, per standard deviation "
                    f"of the feature; a bar crossing the dashed line means the sign is "
                    f"uncertain."))
    if data.importance is not None:
        tables.append(ReportTable(
            "Feature importance", data.importance,
            f"Estimate with {interval} (lower-upper); larger magnitude means the feature "
            f"moves the forecast more. Features of one `block` are near copies over the "
            f"training datasets: their sum is what the data identify."))
    if data.contributions is not None:
        figures.append(_figure(
            "Contribution breakdown", lambda: draw_contributions(data.contributions),
            alt="Each feature's contribution to each candidate's forecast with its interval.",
            caption=f"How much each feature pushes each candidate's forecast away from the "
                    f"average dataset ({interval}), for the first target model and benchmark; "
                    f"the table has them all."))
        tables.append(ReportTable("Contributions", data.contributions,
                                  f"Per-feature contribution with {interval}."))
    if not tables and not figures:
        return ReportSection("drivers", "What drives the forecast", "No fitted model was "
                             "given, so there are no slopes, importances or contributions.")
    return ReportSection(
        "drivers", "What drives the forecast",
        "How each data metric moves the forecast, separately for each model-scale group.",
        tables=tuple(tables), figures=tuple(figures))


def _top_features(data: ReportData, count: int) -> list[str]:
    available = list(dict.fromkeys(data.whatif["feature"].astype(str)))
    if data.importance is None:
        return available[:count]
    ranked = data.importance.assign(size=data.importance["estimate"].abs())
    order = ranked.sort_values("size", ascending=False)["feature"].astype(str)
    return [f for f in dict.fromkeys(order) if f in available][:count]


def whatif_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """What-if curves for the most important features, by target model, with bands.

    Parameters
    ----------
    data : ReportData
        Uses ``whatif`` (and ``importance`` to pick the features).
    config : ReportConfig
        ``whatif_features``: how many features to draw.

    Returns
    -------
    ReportSection
        One panel per feature.
    """
    title = "What if the data were different"
    if data.whatif is None or data.whatif.empty:
        return ReportSection("whatif", title, "No what-if sweep was given.")
    target = forecast_target(data.forecast)
    chosen = _top_features(data, config.whatif_features)
    shown = data.whatif[data.whatif["feature"].astype(str).isin(chosen)]
    figure = _figure(
        "What-if curves", lambda: draw_sweep(shown),
        alt="Forecast change against feature value, one line per target model with bands.",
        caption=f"Lines are posterior means, bands the {data.prob:.0%} credible interval, for "
                f"the first benchmark.")
    return ReportSection(
        "whatif", title,
        f"How the forecast would move if one feature changed and the others stayed put, for "
        f"the {len(chosen)} most important feature(s).",
        figures=(figure,),
        tables=(ReportTable("What-if sweep", data.whatif, f"Estimate, lower and upper in "
                            f"target units ({target or 'as given'})."),))


def _standard_errors(features: pd.DataFrame) -> pd.DataFrame | None:
    columns = [c for c in features.columns if str(c).endswith("__se")]
    return features[["dataset_id", *columns]] if columns else None


def _correlation_figures(correlations: pd.DataFrame) -> list[ReportFigure]:
    from metaq.stats import plot_correlation_heatmap

    figures = []
    has_domains = text_column(correlations["domain"]) != ""
    for model in dict.fromkeys(correlations["base_model"].astype(str)):
        mine = correlations["base_model"].astype(str) == model
        kinds = ["general"] + (["domain"] if (mine & has_domains).any() else [])
        for kind in kinds:
            figures.append(_figure(
                f"Correlations for {model}" + (" by domain" if kind == "domain" else ""),
                lambda model=model, kind=kind: plot_correlation_heatmap(correlations, model,
                                                                        kind=kind),
                alt=f"Heatmap of the correlation of each metric with the change in "
                    f"performance for {model}, {kind} benchmarks.",
                caption="Correlation of each metric with the change in performance across "
                        "datasets (colour fixed to -1..1); starred cells survive the false "
                        "discovery rate at 0.05. Exact p- and q-values are in the table below."))
    return figures


def data_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """Build the data section: runs, features, their standard errors and correlations.

    Parameters
    ----------
    data : ReportData
        Uses ``runs``, ``features`` and ``correlations``.
    config : ReportConfig
        Table length.

    Returns
    -------
    ReportSection
        Tables and the study-style correlation heatmaps.
    """
    tables, figures, paragraphs = [], [], []
    if data.runs is not None:
        tables.append(ReportTable("Fine-tuning runs", data.runs,
                                  "Scores are accuracies on a 0-1 scale."))
    if data.features is not None:
        metrics = metric_columns(data.features)
        tables.append(ReportTable("Dataset features",
                                  data.features[["dataset_id", *metrics]],
                                  "Dataset-level metrics, in each metric's own unit."))
        errors = _standard_errors(data.features)
        if errors is None:
            paragraphs.append("The features table has no standard errors (no `<metric>__se` "
                              "columns): each metric is treated as measured exactly.")
        else:
            tables.append(ReportTable("Feature standard errors", errors,
                                      "Standard error of each metric, in its unit."))
    if data.correlations is not None:
        figures += _correlation_figures(data.correlations)
        tables.append(ReportTable(
            "Correlation tests", data.correlations,
            "Exact permutation p-values where n is small, q-values after Benjamini-Hochberg "
            "false discovery rate control across all tests of the table."))
    return ReportSection("data", "The data behind it",
                         "What the model learned from, as given.", paragraphs=tuple(paragraphs),
                         tables=tuple(tables), figures=tuple(figures))


def failed_checks(data: ReportData) -> list[str]:
    """Sentences naming each failed diagnostic, empty when all passed or none were given.

    Examples
    --------
    >>> from metaq.report.contracts import ReportMetadata
    >>> d = pd.DataFrame({"check": ["max R-hat"], "value": [1.08], "threshold": [1.01],
    ...                   "passed": [False]})
    >>> failed_checks(ReportData(ReportMetadata.now(), diagnostics=d))
    ['max R-hat failed: 1.08 (threshold 1.01).']
    """
    if data.diagnostics is None:
        return []
    failed = data.diagnostics[~data.diagnostics["passed"].astype(bool)]
    sentences = []
    for _, row in failed.iterrows():
        detail = row.get("detail", "")
        detail = f"; {detail}" if isinstance(detail, str) and detail else ""
        sentences.append(f"{row['check']} failed: {row['value']:.4g} (threshold "
                         f"{row['threshold']:.4g}{detail}).")
    return sentences


def _runs_per_group(runs: pd.DataFrame) -> pd.DataFrame:
    return (runs.groupby(["base_model", "params_b"], sort=False)
            .agg(runs=("dataset_id", "size"), datasets=("dataset_id", "nunique"),
                 benchmarks=("benchmark", "nunique"))
            .reset_index())


def _ppc_figure(ppc: pd.DataFrame, target: str, prob: float) -> ReportFigure:
    unit, factor = change_unit(target), change_factor(target)
    scaled = ppc.assign(**{c: ppc[c].astype(float) * factor
                           for c in ("observed", "mean", "lower", "upper")})
    return _figure(
        "Posterior predictive check", lambda: plot_ppc(scaled, unit=unit),
        alt="Observed change of each training run against its posterior predictive interval.",
        caption=f"Bars are {prob:.0%} posterior predictive intervals; about {prob:.0%} of the "
                f"runs should fall inside.")


def _loo_figures(loo: pd.DataFrame) -> list[ReportFigure]:
    figures = []
    if "loo_pit" in loo.columns:
        figures.append(_figure(
            "LOO-PIT calibration", lambda: plot_loo_pit(loo["loo_pit"].to_numpy(float)),
            alt="Difference between the LOO-PIT ECDF and the uniform, with a 95% band.",
            caption="A calibrated model stays inside the band; an S shape means intervals "
                    "that are too narrow or too wide."))
    figures.append(_figure(
        "PSIS-LOO Pareto k", lambda: plot_pareto_k(loo["pareto_k"].to_numpy(float),
                                                   threshold=_PARETO_K_THRESHOLD),
        alt="Pareto k of each training observation.",
        caption=f"Observations above {_PARETO_K_THRESHOLD} are influential: the leave-one-out "
                f"estimate is unreliable for them."))
    return figures


def diagnostics_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """Sampler and model checks; failures become alerts.

    Parameters
    ----------
    data : ReportData
        Uses ``diagnostics``, ``prior_predictive``, ``units``, ``ppc``, ``loo`` and
        ``runs``.
    config : ReportConfig
        Table length.

    Returns
    -------
    ReportSection
        The checks table, runs per scale group and the predictive-check figures; always
        present, saying so when no model was given.
    """
    tables, figures, paragraphs = [], [], []
    if data.diagnostics is None:
        paragraphs.append("No fitted model was given, so there are no sampler diagnostics: "
                          "treat any forecast in this report as unchecked.")
    else:
        tables.append(ReportTable("Checks", data.diagnostics,
                                  "Each check with its value, its threshold and whether it "
                                  "passed: R-hat, divergences and Pareto k must stay at or "
                                  "below their threshold, ESS and coverage at or above."))
    if data.runs is not None:
        tables.append(ReportTable("Runs per scale group", _runs_per_group(data.runs),
                                  "How many runs, datasets and benchmarks inform each group."))
    if data.prior_predictive is not None:
        tables.append(ReportTable(
            "Prior predictive check", data.prior_predictive,
            "What the priors alone imply for the training runs (central 90 % prior interval "
            "and median) beside the same statistic of the observed runs. Observed values well "
            "inside the interval: the priors leave the answer to the data; near an edge: the "
            "priors shape it."))
    if data.units is not None:
        tables.append(ReportTable(
            "Feature units", data.units,
            "One standardised unit of each feature (slopes and importance are per unit): "
            "the training sd, or, where `floored`, 10 % of the feature's mean magnitude; "
            "features of one `block` are near copies over the training datasets and share "
            "one prior budget."))
    if data.ppc is not None:
        figures.append(_ppc_figure(data.ppc, forecast_target(data.forecast), data.prob))
    if data.loo is not None:
        figures += _loo_figures(data.loo)
    alerts = failed_checks(data)
    description = ("Whether the sampler converged and the model fits the runs it learned "
                   "from. Failed checks are listed first.")
    return ReportSection("diagnostics", "Diagnostics", description,
                         paragraphs=tuple(paragraphs), tables=tuple(tables),
                         figures=tuple(figures), alerts=tuple(alerts))


def caveats_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """Caveats computed from the data (see :func:`metaq.report.caveats.compute_caveats`).

    Parameters
    ----------
    data : ReportData
        All tables.
    config : ReportConfig
        Thresholds.

    Returns
    -------
    ReportSection
        A bulleted list.
    """
    caveats = compute_caveats(data, config)
    return ReportSection("caveats", "Caveats", "What limits these conclusions, computed from "
                         "the data." if caveats else "No caveat applies to these tables.",
                         bullets=tuple(caveats))


def reproducibility_section(data: ReportData, config: ReportConfig) -> ReportSection:
    """Versions, hashes, seeds and time, so the report can be traced and rebuilt.

    Parameters
    ----------
    data : ReportData
        Uses ``metadata``.
    config : ReportConfig
        Unused; every builder takes the same arguments.

    Returns
    -------
    ReportSection
        A key-value table.
    """
    meta = data.metadata
    rows = [("metaq version", meta.metaq_version), ("created (UTC)", meta.created_utc),
            ("model file", meta.model_file or "none"),
            ("model file SHA-256", meta.model_sha256 or "none"),
            ("interval mass", f"{data.prob:g}")]
    rows += [(f"data SHA-256: {name}", digest) for name, digest in meta.data_hashes.items()]
    rows += [(f"seed: {name}", str(seed)) for name, seed in meta.seeds.items()]
    rows += [(f"setting: {name}", str(value)) for name, value in meta.settings.items()]
    table = pd.DataFrame(rows, columns=["item", "value"])
    return ReportSection("reproducibility", "Reproducibility",
                         "What produced this report.",
                         tables=(ReportTable("Provenance", table, ""),))


_BUILDERS: dict[str, Callable[[ReportData, ReportConfig], ReportSection]] = {
    "summary": summary_section,
    "drivers": drivers_section,
    "whatif": whatif_section,
    "data": data_section,
    "diagnostics": diagnostics_section,
    "caveats": caveats_section,
    "reproducibility": reproducibility_section,
}


def build_sections(data: ReportData, config: ReportConfig | None = None
                   ) -> tuple[ReportSection, ...]:
    """All sections of a report in reading order; diagnostics go first when a check failed.

    Parameters
    ----------
    data : ReportData
        The report's tables.
    config : ReportConfig, optional
        Defaults to ``ReportConfig()``.

    Returns
    -------
    tuple of ReportSection
        One per key of ``config.sections``.

    Examples
    --------
    >>> from metaq.report.contracts import ReportMetadata
    >>> [s.key for s in build_sections(ReportData(ReportMetadata.now()))][:2]
    ['summary', 'drivers']
    """
    config = config or ReportConfig()
    keys = list(config.sections)
    if failed_checks(data):
        keys.remove("diagnostics")
        keys.insert(0, "diagnostics")
    return tuple(_BUILDERS[key](data, config) for key in keys)
