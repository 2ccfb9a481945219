"""Make a report from files: read the tables, fill a :class:`ReportData`, write HTML and PDF."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metaq.datasets import default_predictor_path, study_path
from metaq.exceptions import SchemaError
from metaq.report.contracts import ReportConfig, ReportMetadata, check_table
from metaq.report.formatting import text_column
from metaq.report.pdf import PdfEngine, html_to_pdf
from metaq.tables import read_features, read_runs
from metaq.tables._checks import TableSource, as_numeric, raise_first, read_table

logger = logging.getLogger(__name__)

_FORECAST_TEXT = ("dataset_id", "target_model", "family", "benchmark", "domain",
                  "missing_features", "target")


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`make_report` wrote.

    Parameters
    ----------
    html : pathlib.Path
        The self-contained HTML report.
    pdf : pathlib.Path or None
        The PDF, when one was asked for.
    failed_checks : tuple of str
        The diagnostics that failed (shown at the top of the report).
    """

    html: Path
    pdf: Path | None
    failed_checks: tuple[str, ...]


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes.

    Examples
    --------
    >>> from metaq.datasets import study_path
    >>> len(file_sha256(study_path("runs")))
    64
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_forecast(path: str | Path) -> pd.DataFrame:
    """Read a forecast summary table written by ``metaq forecast`` (CSV or Parquet).

    Parameters
    ----------
    path : str or Path
        The table.

    Returns
    -------
    pandas.DataFrame
        The table, its text columns with ``""`` for empty cells.

    Raises
    ------
    SchemaError
        When the file is missing, unreadable, not CSV/Parquet, lacks a required column, has
        a missing or infinite estimate or interval bound, an interval with ``lo > hi``, or a
        probability outside [0, 1].
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no such forecast file. Fix: write one with `metaq "
                          f"forecast ... --out {path.name}`.")
    frame, source = read_table(path)
    try:
        check_table("forecast", frame)
    except SchemaError as err:
        raise SchemaError(f"{path}: {err}") from err
    _check_forecast_numbers(frame, source)
    for column in _FORECAST_TEXT:
        if column in frame.columns:
            frame[column] = text_column(frame[column])
    return frame


def _check_forecast_numbers(frame: pd.DataFrame, source: TableSource) -> None:
    """Refuse missing or infinite estimates and probabilities outside [0, 1]."""
    for column in ("estimate", "lower", "upper", "sd"):
        if column in frame.columns:
            frame[column] = as_numeric(frame, column, source, allow_nan=False)
    raise_first(frame["lower"] > frame["upper"], frame["lower"], "lower", source,
                "lies above upper on the same row. Fix: write lower <= upper (a forecast from "
                "`metaq forecast` always has them in order)")
    for column in ("prob_gain", "prob_best", "prob"):
        if column in frame.columns:
            frame[column] = as_numeric(frame, column, source, allow_nan=column == "prob_best")
            raise_first((frame[column] < 0) | (frame[column] > 1), frame[column], column, source,
                        "is a probability and must lie in [0, 1]. Fix: correct it, or write the "
                        "table again with `metaq forecast`")


def _interval_mass(forecast: pd.DataFrame | None, prob: float | None) -> float:
    if prob is not None:
        return prob
    if forecast is not None and "prob" in forecast.columns and len(forecast):
        return float(forecast["prob"].iloc[0])
    return 0.9


def make_report(out: str | Path, *, model: str | Path | None = None,
                forecast: str | Path | None = None, candidates: str | Path | None = None,
                runs: str | Path | None = None,
                features: str | Path | None = None, use_default_model: bool = True,
                pdf: bool | str | Path = False, pdf_engine: PdfEngine = "chromium",
                prob: float | None = None, config: ReportConfig | None = None,
                random_seed: int = 0) -> ReportFiles:
    """Write the uncertainty report for a fitted predictor, its data and a forecast.

    Parameters
    ----------
    out : str or Path
        The ``.html`` file to write.
    model : str or Path, optional
        A fitted predictor (``.nc``); the shipped default
        (:func:`metaq.datasets.default_predictor_path`) when omitted, ``use_default_model`` is true
        and the file exists.
    forecast : str or Path, optional
        A forecast summary table (from ``metaq forecast``).
    candidates : str or Path, optional
        Features of the forecast's datasets (e.g. ``features.csv`` beside a ``metaq forecast``
        output folder), for their contribution breakdowns.
    runs, features : str or Path, optional
        The runs and features tables the predictor learned from; the reference study's when
        omitted.
    use_default_model : bool, default True
        Use the shipped predictor when `model` is omitted (a data-only report otherwise).
    pdf : bool or str or Path, default False
        Also print a PDF: ``True`` puts it beside the HTML, a path puts it there.
    pdf_engine : {"chromium", "weasyprint"}, default "chromium"
        The HTML engine that prints the PDF.
    prob : float, optional
        Interval mass; the forecast's own (its ``prob`` column) or 0.9 when omitted.
    config : ReportConfig, optional
        Title, thresholds and sections.
    random_seed : int, default 0
        Seed of the correlation permutation tests and the model's explanation draws.

    Returns
    -------
    ReportFiles
        The written paths and any failed diagnostics.

    Raises
    ------
    SchemaError
        For a bad runs, features or forecast table.
    MissingDependencyError
        When the PDF engine is not installed.

    Examples
    --------
    >>> files = make_report("report.html", use_default_model=False)  # doctest: +SKIP
    """
    from metaq.report.report import Report

    runs_path = Path(runs or study_path("runs"))
    features_path = Path(features or study_path("features"))
    forecast_table = read_forecast(forecast) if forecast is not None else None
    shipped = default_predictor_path()
    model_path = Path(model) if model is not None else (
        shipped if use_default_model and shipped.is_file() else None)
    if model_path is None:
        logger.info("no predictor given%s: writing a data-only report",
                    "" if not use_default_model else f" and none shipped at {shipped}")
    hashes = {"runs": file_sha256(runs_path), "features": file_sha256(features_path)}
    if forecast is not None:
        hashes["forecast"] = file_sha256(forecast)
    metadata = ReportMetadata.now(
        model_file=str(model_path or ""),
        model_sha256=file_sha256(model_path) if model_path else "",
        data_hashes=hashes, seeds={"report": random_seed})
    report = Report(model_path, runs=read_runs(runs_path),
                    features=read_features(features_path, allow_missing=True),
                    forecast=forecast_table,
                    candidates=(read_features(candidates, allow_missing=True)
                                if candidates is not None else None),
                    prob=_interval_mass(forecast_table, prob), config=config,
                    metadata=metadata, random_seed=random_seed)
    html_path = report.to_html(out)
    pdf_path = None
    if pdf:
        target = html_path.with_suffix(".pdf") if pdf is True else Path(pdf)
        pdf_path = html_to_pdf(html_path, target, engine=pdf_engine)
    return ReportFiles(html=html_path, pdf=pdf_path, failed_checks=tuple(report.failed_checks))
