"""Caveats a careful statistician would add, each computed from the report's tables."""

from __future__ import annotations

import math

import pandas as pd

from metaq.report.contracts import ReportConfig, ReportData
from metaq.tables.features import metric_columns


def _few_runs(runs: pd.DataFrame, minimum: int) -> list[str]:
    counts = runs.groupby("base_model", sort=False).size()
    small = counts[counts < minimum]
    return [f"Only {int(n)} runs inform the scale group of {name} (fewer than {minimum}); "
            f"its group-specific slopes lean on the pooled estimate and the prior."
            for name, n in small.items()]


def _datasets_versus_metrics(runs: pd.DataFrame, features: pd.DataFrame | None) -> list[str]:
    n_datasets = runs["dataset_id"].nunique()
    if features is None:
        return []
    n_metrics = len(metric_columns(features))
    if n_datasets > n_metrics:
        return []
    return [f"The model learned from {n_datasets} distinct datasets but {n_metrics} metrics: "
            f"with no more datasets than metrics the data cannot tell the metrics' effects "
            f"apart, so the slopes are identified mostly by the shrinkage prior."]


def _unseen_models(runs: pd.DataFrame, forecast: pd.DataFrame) -> list[str]:
    seen = set(runs["base_model"].astype(str))
    low, high = float(runs["params_b"].min()), float(runs["params_b"].max())
    notes = []
    targets = forecast.drop_duplicates("target_model")
    for _, row in targets.iterrows():
        name = str(row["target_model"])
        if name in seen:
            continue
        size = float(row["params_b"]) if "params_b" in row and pd.notna(row["params_b"]) else None
        if size is None:
            notes.append(f"{name} was not among the fine-tuned models; its forecast uses the "
                         f"population of scale groups, so its intervals are wider.")
        elif low <= size <= high:
            notes.append(f"{name} ({size:g}B) was not among the fine-tuned models; its "
                         f"forecast interpolates between the sizes seen ({low:g}B-{high:g}B) "
                         f"and draws its group offset from the population.")
        else:
            notes.append(f"{name} ({size:g}B) lies outside the sizes seen ({low:g}B-{high:g}B): "
                         f"its forecast extrapolates the log-size trend and should be read "
                         f"as a rough guide.")
    return notes


def _missing_features(forecast: pd.DataFrame) -> list[str]:
    if "missing_features" not in forecast.columns:
        return []
    per_dataset = forecast.drop_duplicates("dataset_id")
    notes = []
    for _, row in per_dataset.iterrows():
        missing = row["missing_features"]
        names = (list(missing) if isinstance(missing, list | tuple)
                 else [m.strip() for m in str(missing if pd.notna(missing) else "").split(",")
                       if m.strip()])
        if names:
            notes.append(f"Dataset {row['dataset_id']} lacks {', '.join(names)}; the forecast "
                         f"integrates over their training distribution, widening its intervals.")
    return notes


def _flagged(forecast: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per dataset whose comma-separated `column` is not empty."""
    if column not in forecast.columns:
        return forecast.iloc[0:0]
    per_dataset = forecast.drop_duplicates("dataset_id")
    return per_dataset[per_dataset[column].fillna("").astype(str) != ""]


def _extrapolated(forecast: pd.DataFrame) -> list[str]:
    return [f"{row['dataset_id']} lies up to {float(row['extrapolation_sd']):.1f} training "
            f"standard deviations beyond the datasets the model learned from (on "
            f"{str(row['extrapolated_features']).replace(',', ', ')}): its forecast extends a "
            f"trend fitted elsewhere, which the training data cannot check."
            for _, row in _flagged(forecast, "extrapolated_features").iterrows()]


def _unidentified_change(forecast: pd.DataFrame) -> list[str]:
    if "change_identified" not in forecast.columns:
        return []
    blind = forecast[~forecast["change_identified"].astype(bool)]
    if blind.empty:
        return []
    return [f"{len(blind)} of {len(forecast)} forecasts have no untuned score behind the level "
            f"the change is measured from (the runs the model learned from printed only "
            f"fine-tuned scores for those models or benchmarks): fine-tuned scores identify "
            f"the untuned level plus the change, not each, so there the split between them "
            f"comes from the prior (for a predictor that saw no untuned score at all, the "
            f"'change' is the difference from the average training dataset's fine-tuned "
            f"score). The fine-tuned score is the forecast to read; measured untuned scores "
            f"(--base-scores) turn it into a change from the untuned model."]


def _untrained(forecast: pd.DataFrame) -> list[str]:
    return [f"{row['dataset_id']} differs on {str(row['untrained_features']).replace(',', ', ')},"
            f" which had one value in every dataset the model learned from: the model has "
            f"no information on what they do, so its forecast ignores them (an extrapolation "
            f"the intervals cannot show)."
            for _, row in _flagged(forecast, "untrained_features").iterrows()]


def _floored_units(units: pd.DataFrame) -> list[str]:
    floored = units.loc[units["floored"].astype(bool), "feature"].tolist()
    if not floored:
        return []
    return [f"The unit of {', '.join(floored)} is set by a floor (10 % of the feature's mean "
            f"magnitude) because the training datasets barely differ on them: their slopes, "
            f"importance and what-ifs are per that unit, and a statement such as 'P(the "
            f"paper's sign)' for them rests on this choice as much as on the data."]


def _judge_subsample(features: pd.DataFrame) -> list[str]:
    scored = next((c for c in ("n_judged", "n_scored") if c in features.columns), None)
    if scored is None or "n_examples" not in features.columns:
        return []
    sub = features[features[scored] < features["n_examples"]]
    if sub.empty:
        return []
    with_se = [c[: -len("__se")] for c in features.columns if str(c).endswith("__se")]
    se_text = (f"their standard errors are given for {', '.join(with_se)}" if with_se else
               "the features table records no standard errors for them, so that sampling "
               "noise is not propagated")
    share = (sub[scored] / sub["n_examples"]).astype(float)
    counts = _span(sub[scored].astype(float), "{:.0f}")
    return [f"For {len(sub)} dataset(s) the judge scored a subsample ({counts} examples, "
            f"{_span(share, '{:.1%}')} of each dataset); judge-based metrics carry sampling "
            f"error: {se_text}."]


def _span(values: pd.Series, template: str) -> str:
    low, high = template.format(values.min()), template.format(values.max())
    return low if low == high else f"{low}-{high}"


def _correlation_power(correlations: pd.DataFrame) -> list[str]:
    tests = correlations.dropna(subset=["p_value"])
    if tests.empty:
        return []
    n = int(tests["n"].min())
    smallest = float(tests["p_value"].min())
    survivors = int((tests["q_value"] < 0.05).sum())
    text = (f"The correlation table holds {len(tests)} tests on as few as {n} datasets; the "
            f"smallest p-value is {smallest:.3g} and {survivors} survive the false discovery "
            f"rate at 0.05.")
    if n <= 8:
        text += (f" With n = {n} no Spearman test can reach p below 2/{n}! = "
                 f"{2 / math.factorial(n):.3g}.")
    return [text]


def compute_caveats(data: ReportData, config: ReportConfig) -> list[str]:
    """List the caveats that apply to a report's data, in plain language.

    Parameters
    ----------
    data : ReportData
        The report's tables.
    config : ReportConfig
        Thresholds (``min_runs_per_group``).

    Returns
    -------
    list of str
        One sentence (or two) per caveat; the data's own ``notes`` come last.

    Examples
    --------
    >>> from metaq.report.contracts import ReportMetadata
    >>> runs = pd.DataFrame({"dataset_id": ["a", "b"], "base_model": ["m", "m"],
    ...                      "params_b": [8.0, 8.0], "benchmark": ["x", "x"],
    ...                      "score_base": [0.5, 0.5], "score_ft": [0.6, 0.4]})
    >>> compute_caveats(ReportData(ReportMetadata.now(), runs=runs),
    ...                 ReportConfig(min_runs_per_group=5))[0][:26]
    'Only 2 runs inform the sca'
    """
    caveats: list[str] = []
    if data.runs is not None:
        caveats += _few_runs(data.runs, config.min_runs_per_group)
        caveats += _datasets_versus_metrics(data.runs, data.features)
        if data.forecast is not None:
            caveats += _unseen_models(data.runs, data.forecast)
    if data.forecast is not None:
        caveats += _unidentified_change(data.forecast)
        caveats += _missing_features(data.forecast)
        caveats += _extrapolated(data.forecast)
        caveats += _untrained(data.forecast)
    if data.units is not None:
        caveats += _floored_units(data.units)
    if data.features is not None:
        caveats += _judge_subsample(data.features)
    if data.correlations is not None:
        caveats += _correlation_power(data.correlations)
    return caveats + list(data.notes)
