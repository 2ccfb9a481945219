"""The report of a forecast as one object: its tables computed once, everything drawn from them.

:class:`Report` takes a fitted predictor (or none, for a data-only report), the runs and
features it learned from and a forecast; :attr:`Report.data` computes every table once
(:func:`metaq.report.adapter.report_data_from_model`), and the HTML, the PDF and the folder of
CSV tables with their figures are all written from those same tables.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from metaq.report.contracts import ReportConfig, ReportData, ReportMetadata

logger = logging.getLogger(__name__)


class Report:
    """The uncertainty report of a predictor, its data and a forecast.

    Parameters
    ----------
    model : HierarchicalDeltaModel, path or None
        A fitted predictor, its ``.nc`` file, or None for a data-only report (the
        correlation analysis and the data).
    runs, features : pandas.DataFrame, optional
        The runs and features tables the predictor learned from; the reference study's by
        default.
    forecast : Forecast, DatasetForecast or pandas.DataFrame, optional
        A forecast (its draws rank the candidates: P(best), expected regret), the result of
        :func:`metaq.forecast_datasets`, or a forecast summary table (as ``metaq forecast``
        writes it).
    candidates : pandas.DataFrame, optional
        Features of the forecast's datasets, for their contribution breakdowns.
    correlations : pandas.DataFrame, optional
        :func:`metaq.stats.correlate` of `runs` and `features`; computed when omitted.
    prob : float, default 0.9
        Interval mass of every table.
    config : ReportConfig, optional
        Title, thresholds and sections.
    metadata : ReportMetadata, optional
        Provenance (file hashes); the model's seed and sampler are added.
    random_seed : int, default 0
        Seed of the correlation tests and the explanation draws.

    Examples
    --------
    >>> report = Report(None)  # a data-only report of the reference study
    >>> sorted(report.tables())[:2]  # doctest: +SKIP
    ['correlations', 'features']
    """

    def __init__(self, model: Any = None, *, runs: pd.DataFrame | None = None,
                 features: pd.DataFrame | None = None, forecast: Any = None,
                 candidates: pd.DataFrame | None = None,
                 correlations: pd.DataFrame | None = None, prob: float = 0.9,
                 config: ReportConfig | None = None, metadata: ReportMetadata | None = None,
                 random_seed: int = 0) -> None:
        self.model = model
        self.runs = runs
        self.features = features
        self.forecast = forecast
        self.candidates = candidates
        self.correlations = correlations
        self.prob = prob
        self.config = config
        self.metadata = metadata
        self.random_seed = random_seed

    @cached_property
    def data(self) -> ReportData:
        """Every table of the report, computed once."""
        from metaq.datasets import load_study
        from metaq.modeling.persistence import table_hash
        from metaq.stats import correlate
        from metaq.tables import validate_features, validate_runs

        runs, features = self.runs, self.features
        if runs is None or features is None:
            study_runs, study_features = load_study()
            runs = study_runs if runs is None else runs
            features = study_features if features is None else features
        runs, features = validate_runs(runs), validate_features(features, allow_missing=True)
        candidates = (None if self.candidates is None
                      else validate_features(self.candidates, allow_missing=True))
        correlations = (self.correlations if self.correlations is not None
                        else correlate(runs, features, random_seed=self.random_seed))
        metadata = self.metadata or ReportMetadata.now(
            data_hashes={"runs": table_hash(runs), "features": table_hash(features)},
            seeds={"report": self.random_seed})
        summary = self._forecast_summary()
        if self.model is None:
            return ReportData(metadata=metadata, prob=self.prob, forecast=summary,
                              correlations=correlations, runs=runs, features=features)
        from metaq.report.adapter import report_data_from_model

        return report_data_from_model(
            self.model, runs, features, forecast=summary, candidates=candidates,
            prob=self.prob, metadata=metadata, correlations=correlations,
            random_seed=self.random_seed)

    def _forecast_summary(self) -> pd.DataFrame | None:
        if self.forecast is None or isinstance(self.forecast, pd.DataFrame):
            return self.forecast
        if isinstance(getattr(self.forecast, "summary", None), pd.DataFrame):
            return self.forecast.summary  # a DatasetForecast: with its extrapolation columns
        return self.forecast.summary(self.prob)

    def _forecast_draws(self) -> Any:
        """Return the forecast's draws (a Forecast), None for a summary table."""
        if self.forecast is None or isinstance(self.forecast, pd.DataFrame):
            return None
        return getattr(self.forecast, "forecast", self.forecast)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name (full length), with the candidates' ranking when the draws are known.

        Returns
        -------
        dict of str to pandas.DataFrame
            :meth:`ReportData.tables`, plus ``ranking`` and ``benchmark_effects``
            (:func:`metaq.explain.ranking.rank_candidates`,
            :func:`metaq.explain.ranking.benchmark_effects`) for a :class:`Forecast`.
        """
        tables = dict(self.data.tables())
        draws = self._forecast_draws()
        if draws is not None:
            from metaq.explain.ranking import benchmark_effects, rank_candidates

            tables["ranking"] = rank_candidates(draws, prob=self.prob)
            tables["benchmark_effects"] = benchmark_effects(draws, prob=self.prob)
        return tables

    def write_tables(self, folder: str | Path, *, figures: bool = True) -> dict[str, Path]:
        """Write every table as CSV and, where the explain layer draws it, its figure as PNG.

        Parameters
        ----------
        folder : str or Path
            Created if missing.
        figures : bool, default True
            Also draw the figures (``<name>.png`` beside ``<name>.csv``).

        Returns
        -------
        dict of str to Path
            Table name -> CSV, and ``<name>_figure`` -> PNG.
        """
        from metaq.report.sections import FIGURES

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for name, table in self.tables().items():
            paths[name] = folder / f"{name}.csv"
            table.to_csv(paths[name], index=False)
            if figures and name in FIGURES and len(table):
                paths[f"{name}_figure"] = folder / f"{name}.png"
                FIGURES[name](table).savefig(paths[f"{name}_figure"], dpi=110)
        logger.info("wrote %d report tables and figures to %s", len(paths), folder)
        return paths

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report and return its path."""
        from metaq.report.html import write_html

        return write_html(self.data, path, self.config)

    def to_pdf(self, path: str | Path, *, engine: str = "chromium") -> Path:
        """Print the report to PDF (writes the HTML beside it first) and return the PDF path."""
        from metaq.report.pdf import html_to_pdf

        html = self.to_html(Path(path).with_suffix(".html"))
        return html_to_pdf(html, path, engine=engine)

    @property
    def failed_checks(self) -> list[str]:
        """The diagnostics that failed (they open the report)."""
        from metaq.report.sections import failed_checks

        return failed_checks(self.data)
