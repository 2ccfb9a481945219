"""Forecast new datasets end to end: features (extracted or given) -> predictor -> tables.

:func:`forecast_datasets` is what ``metaq forecast`` runs; its result feeds
:class:`metaq.report.report.Report` for the explanations and the report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, MetaqError
from metaq.modeling.query import TargetModels

logger = logging.getLogger(__name__)

MODEL_OPTIONS = ("tokenizer", "embedding_model", "lm", "judge_model")
"""Extractor options that name a model: a model-based extractor runs only when given one."""


def gather_features(datasets: Sequence[str | Path], needed: Sequence[str], *,
                    cache_dir: str | Path | None = None,
                    extractor_options: Mapping[str, Any] | None = None,
                    on_error: str = "stop", dataset_ids: Sequence[str] | None = None,
                    columns: Any = None) -> tuple[pd.DataFrame, list[str]]:
    """Extract the `needed` features of dataset files, skipping extractors that cannot run.

    Each extractor is run on its own (results are cached per example, so a rerun only reads
    the cache). Extractors that need a model (tokens, embedding, perplexity, judge: those
    whose constructor takes a model option) run only when `extractor_options` configures
    them (e.g. ``lm=...`` for perplexity), so a forecast never downloads a model it was not
    asked to use; the others (text metrics, language share) always run. An extractor that
    is not configured or cannot run here is skipped with a warning: its features are then
    missing and the forecast integrates over them. Features no registered extractor emits
    (e.g. a tokenizer-specific length of the training table) are missing too.

    Parameters
    ----------
    datasets : sequence of str or Path
        Dataset files; the dataset id is the file stem.
    needed : sequence of str
        Features the predictor uses.
    cache_dir : str or Path, optional
        Per-example cache of the extraction runner.
    extractor_options : mapping, optional
        Options for the extractors (``tokenizer``, ``lm``, ``embedding_model``, ...).
    on_error : {"stop", "skip"}, default "stop"
        Bad-record policy of the reader: stop with the file and line, or skip and count.
    dataset_ids : sequence of str, optional
        One id per dataset file; default the file name without its format suffixes.
    columns : ColumnMapping or str, or a sequence of them, optional
        Field mapping of the files (see :func:`metaq.extract_features`).

    Returns
    -------
    features : pandas.DataFrame
        One row per dataset with the features that could be extracted.
    not_extracted : list of str
        Needed features that could not be extracted (integrated over by the forecast).
    """
    from metaq.exceptions import DatasetReadError, UnknownNameError
    from metaq.features.registry import metric_owner
    from metaq.features.runner import extract_features
    from metaq.io.records import dataset_stem

    options = dict(extractor_options or {})

    by_extractor: dict[str, list[str]] = {}
    for name in needed:
        try:
            by_extractor.setdefault(metric_owner(name), []).append(name)
        except UnknownNameError:
            logger.info("no extractor emits feature %r; it is integrated over", name)
    ids = list(dataset_ids) if dataset_ids is not None else [dataset_stem(p) for p in datasets]
    table = pd.DataFrame({"dataset_id": ids})
    for extractor, metrics in by_extractor.items():
        if not _configured(extractor, options):
            logger.warning("extractor %r needs a model that was not given (see `metaq "
                           "metrics`); its features %s are integrated over", extractor, metrics)
            continue
        try:
            part = extract_features(list(datasets), metrics, cache_dir=cache_dir,
                                    extractor_options=options, on_error=on_error,
                                    dataset_ids=ids, columns=columns)
        except DatasetReadError:
            raise
        except MetaqError as err:  # a package, model or option this extractor needs
            logger.warning("extractor %r cannot run here, its features %s are integrated over: "
                           "%s", extractor, metrics, err)
            continue
        whole = part.loc[part["domain"] == ""] if "domain" in part.columns else part
        table = table.merge(whole.drop(columns=["domain"], errors="ignore"), on="dataset_id",
                            how="left", suffixes=("", "__dup"))
        table = table.loc[:, ~table.columns.str.endswith("__dup")]
    not_extracted = [n for n in needed if n not in table.columns]
    return table, not_extracted


def _configured(extractor: str, options: Mapping[str, Any]) -> bool:
    """Whether an extractor may run: it takes no model option, or is given a model it takes."""
    from metaq.features.registry import accepted_options, get_spec

    cls = get_spec(extractor).load()
    if not accepted_options(cls, dict.fromkeys(MODEL_OPTIONS, "")):
        return True
    models = {k: v for k, v in options.items() if k in MODEL_OPTIONS}
    return bool(accepted_options(cls, models))


def load_predictor(model=None):
    """Return a fitted predictor: `model` itself, loaded from a path, or the shipped default.

    Raises
    ------
    ModelNotFoundError
        When the file (or the shipped default) does not exist.
    IncompatibleModelError
        When it was saved by an incompatible metaq version or spec.
    """
    from metaq.datasets import default_predictor_path
    from metaq.modeling import HierarchicalDeltaModel

    if isinstance(model, HierarchicalDeltaModel):
        return model
    return HierarchicalDeltaModel.load(default_predictor_path() if model is None else model)


@dataclass
class DatasetForecast:
    """A forecast of new datasets with the features it used and where it was written.

    Attributes
    ----------
    forecast : Forecast
        Posterior draws (rows: dataset x target model x benchmark).
    summary : pandas.DataFrame
        ``forecast.summary(prob)``: the tidy FORECAST table.
    features : pandas.DataFrame
        The features the forecast used (extracted or given).
    not_extracted : list of str
        Features of the predictor that no extractor could produce here.
    prob : float
        Interval mass of `summary`.
    written : list of Path
        Files written by :meth:`write`.
    """

    forecast: Any
    summary: pd.DataFrame
    features: pd.DataFrame
    not_extracted: list[str]
    prob: float
    written: list[Path] = field(default_factory=list)

    def write(self, out: str | Path) -> list[Path]:
        """Write the forecast table to a ``.csv``/``.parquet`` file, or a folder of tables.

        A folder gets ``forecast.csv``, ``features.csv`` and ``ranking.csv`` (P(best) and
        expected regret per target model, averaged over benchmarks).
        """
        from metaq.explain.ranking import rank_candidates

        out = Path(out)
        if out.suffix.lower() in {".csv", ".parquet"}:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".csv":
                self.summary.to_csv(out, index=False)
            else:
                self.summary.to_parquet(out, index=False)
            self.written = [out]
            return self.written
        out.mkdir(parents=True, exist_ok=True)
        tables = {"forecast.csv": self.summary, "features.csv": self.features,
                  "ranking.csv": rank_candidates(self.forecast, prob=self.prob)}
        for name, table in tables.items():
            table.to_csv(out / name, index=False)
        self.written = [out / name for name in tables]
        return self.written

    def format_summary(self) -> str:
        """Format a compact text table: change, interval, P(gain), P(best), missing features."""
        table = self.summary
        pct = f"{100 * self.prob:g}%"
        lines = [f"forecast change ({table['target'].iloc[0]} scale), {pct} intervals, "
                 f"P(best) among the {table['dataset_id'].nunique()} given dataset(s)"]
        shown = pd.DataFrame({
            "dataset": table["dataset_id"], "target model": table["target_model"],
            "benchmark": np.where(table["domain"] == "", table["benchmark"],
                                  table["benchmark"] + "/" + table["domain"]),
            "mean": table["estimate"].map("{:+.3f}".format),
            "interval": [f"[{lo:+.3f}, {hi:+.3f}]"
                         for lo, hi in zip(table["lower"], table["upper"], strict=True)],
            "P(gain)": table["prob_gain"].map("{:.2f}".format),
            "P(best)": table["prob_best"].map("{:.2f}".format),
        })
        lines.append(shown.to_string(index=False))
        for dataset, missing in self.forecast.missing_features.items():
            if missing:
                lines.append(f"{dataset}: missing features integrated over their training "
                             f"distribution: {', '.join(missing)}")
        far = table.drop_duplicates("dataset_id")
        for _, row in far[far["extrapolated_features"].fillna("") != ""].iterrows():
            lines.append(f"{row['dataset_id']}: an extrapolation, up to "
                         f"{row['extrapolation_sd']:.1f} training sd beyond the training "
                         f"datasets on {row['extrapolated_features'].replace(',', ', ')}")
        for _, row in far[far["untrained_features"].fillna("") != ""].iterrows():
            lines.append(f"{row['dataset_id']}: an extrapolation: it differs on "
                         f"{row['untrained_features'].replace(',', ', ')}, which had one value "
                         f"in every training dataset, so the model cannot say what they do")
        unidentified = table[~table["change_identified"].astype(bool)]
        if len(unidentified):
            lines.append(
                f"{len(unidentified)} of {len(table)} rows: no untuned score informs the "
                f"level the change is measured from, so there the split between untuned level "
                f"and change is the prior's (the fine-tuned score itself is forecast); give "
                f"the untuned scores (--base-scores) for a change from the untuned model")
        return "\n".join(lines)


def forecast_datasets(datasets: Sequence[str | Path] = (), *,
                      features: pd.DataFrame | str | Path | None = None, model=None,
                      target_models: TargetModels = None,
                      benchmarks: Sequence[str] | None = None, prob: float = 0.9,
                      cache_dir: str | Path | None = None,
                      extractor_options: Mapping[str, Any] | None = None,
                      on_error: str = "stop", random_seed: int | None = 0,
                      base_scores: pd.DataFrame | str | Path | None = None,
                      item_noise: bool = False, dataset_ids: Sequence[str] | None = None,
                      columns: Any = None, study: str | None = None,
                      out: str | Path | None = None) -> DatasetForecast:
    """Forecast what fine-tuning on each dataset does, per target model and benchmark.

    Give dataset files (the features the predictor needs are extracted, cached per example;
    those no extractor can produce here are integrated over) or a features table (nothing
    is extracted; missing values are integrated over).

    Parameters
    ----------
    datasets : sequence of str or Path
        Dataset files (JSONL, Parquet, CSV, ...); the dataset id is the file stem.
    features : DataFrame or path, optional
        A features table instead of `datasets`.
    model : HierarchicalDeltaModel or path, optional
        The predictor; the shipped default (``models/study_default.nc``) when None.
    target_models : sequence or DataFrame, optional
        Names of models the predictor saw, or ``{"name", "params_b", "family"}`` for any
        other; every training base model when None.
    benchmarks : sequence of str, optional
        ``"benchmark"`` or ``"benchmark/domain"``; the predictor's whole benchmarks when None.
    prob : float, default 0.9
        Mass of the central interval ``lo..hi``.
    cache_dir : str or Path, optional
        Per-example cache of the extraction.
    extractor_options : mapping, optional
        Extractor options (``tokenizer``, ``lm``, ``embedding_model``, ...).
    on_error : {"stop", "skip"}, default "stop"
        What to do with a bad record of a dataset file (see :func:`gather_features`).
    random_seed : int, optional
        Seed of the forecast draws.
    base_scores : DataFrame or path, optional
        Untuned scores of the target models that you measured (``base_model, benchmark[,
        domain], score_base[, n_items]``): they replace the predictor's guess of the untuned
        level, which matters most for a model it never saw.
    item_noise : bool, default False
        Forecast the score the benchmark prints (with the binomial sampling of its items)
        rather than the fine-tuned model's accuracy.
    dataset_ids : sequence of str, optional
        One id per dataset file (default: the file name without its format suffixes).
    columns : ColumnMapping or str, or a sequence of them, optional
        Field mapping of the dataset files (see :func:`metaq.extract_features`).
    study : str, optional
        For a predictor fitted on runs of several studies: forecast within this training
        study (its evaluation protocol); None forecasts for a new study.
    out : str or Path, optional
        Also write the tables there (see :meth:`DatasetForecast.write`).

    Returns
    -------
    DatasetForecast

    Raises
    ------
    InvalidParameterError
        When both or neither of `datasets` and `features` are given, or a target model has
        no size; an interval mass outside (0, 1); a `study` the predictor was not trained on.
    UnknownNameError
        For an unknown benchmark (with a suggestion).

    Examples
    --------
    >>> result = forecast_datasets(features="data/study/features.csv",
    ...                            target_models=[{"name": "x", "params_b": 70}]
    ...                            )  # doctest: +SKIP
    >>> result.summary[["dataset_id", "estimate", "lower", "upper"]]  # doctest: +SKIP
    """
    from metaq.explain.extrapolation import extrapolation, extrapolation_summary
    from metaq.modeling.forecast import check_prob

    check_prob(prob)
    predictor = load_predictor(model)
    predictor.resolve_target_models(target_models)  # a bad target fails before extraction
    predictor.encoding_.study_index(study)  # so does a bad study
    table, not_extracted = _input_features(datasets, features, predictor.features_,
                                           cache_dir, extractor_options, on_error,
                                           dataset_ids=dataset_ids, columns=columns)
    forecast = predictor.predict(table, target_models, benchmarks, prob=prob,
                                 random_seed=random_seed, base_scores=base_scores,
                                 item_noise=item_noise, study=study)
    summary = forecast.summary(prob).merge(
        extrapolation_summary(extrapolation(predictor, table)), on="dataset_id", how="left")
    result = DatasetForecast(forecast, summary, table, not_extracted, prob)
    if out is not None:
        result.write(out)
    return result


def _input_features(datasets: Sequence[str | Path], features, needed: Sequence[str],
                    cache_dir, extractor_options, on_error: str, *,
                    dataset_ids: Sequence[str] | None, columns: Any
                    ) -> tuple[pd.DataFrame, list[str]]:
    from metaq.modeling.design import as_features_table

    if bool(len(datasets)) == (features is not None):
        raise InvalidParameterError(
            "give either dataset files or a features table (--features), not "
            f"{'both' if features is not None else 'neither'}. Fix: e.g. `metaq forecast "
            "data.jsonl ...` or `metaq forecast --features features.csv ...`.")
    if features is not None:
        table = as_features_table(features, allow_missing=True)
        return table, []
    table, not_extracted = gather_features(datasets, needed, cache_dir=cache_dir,
                                           extractor_options=extractor_options,
                                           on_error=on_error, dataset_ids=dataset_ids,
                                           columns=columns)
    if not_extracted:
        logger.warning("features %s could not be extracted here; the forecast integrates over "
                       "them (wider intervals)", not_extracted)
    return table, not_extracted
