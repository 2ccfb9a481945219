"""What a report is made of: its configuration, its input tables and its rendered sections.

The report layer never reaches into a fitted model. Everything it shows arrives as plain
tables in a frozen :class:`ReportData` (filled from a fitted model by
:func:`metaq.report.adapter.report_data_from_model`, or by hand), section builders turn those
tables into :class:`ReportSection` objects, and the exporters render the sections. Each
table's required columns are checked when the :class:`ReportData` is built, so a wrong table
fails early with the column it lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from metaq.exceptions import InvalidParameterError, SchemaError

#: Section keys in reading order (diagnostics moves to the top when a check fails).
SECTION_KEYS: tuple[str, ...] = (
    "summary", "drivers", "whatif", "data", "diagnostics", "caveats", "reproducibility",
)

#: Required columns of each table of :class:`ReportData` (other columns are kept and shown).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "forecast": ("dataset_id", "target_model", "benchmark", "estimate", "lower", "upper",
                 "prob_gain"),
    "coefficients": ("feature", "group", "estimate", "lower", "upper"),
    "importance": ("feature", "estimate", "lower", "upper"),
    "contributions": ("dataset_id", "target_model", "benchmark", "term", "estimate", "lower",
                      "upper"),
    "whatif": ("feature", "value", "target_model", "estimate", "lower", "upper"),
    "correlations": ("base_model", "benchmark", "metric", "n", "rho", "p_value", "q_value"),
    "runs": ("dataset_id", "base_model", "params_b", "benchmark", "score_base", "score_ft"),
    "features": ("dataset_id",),
    "diagnostics": ("check", "value", "threshold", "passed"),
    "ppc": ("observed", "mean", "lower", "upper"),
    "loo": ("pareto_k",),
    "units": ("feature", "mean", "sd", "floored"),
    "prior_predictive": ("quantity", "prior_lo", "prior_median", "prior_hi", "observed"),
}


def check_table(name: str, table: object) -> None:
    """Raise unless `table` is a DataFrame with the required columns of report table `name`.

    Parameters
    ----------
    name : str
        A key of :data:`TABLE_COLUMNS` (e.g. ``"forecast"``).
    table : object
        The candidate table.

    Raises
    ------
    SchemaError
        Naming the table, the missing columns, the columns it has and the fix.

    Examples
    --------
    >>> check_table("loo", pd.DataFrame({"pareto_k": [0.2]}))
    """
    if not isinstance(table, pd.DataFrame):
        raise SchemaError(f"ReportData.{name} must be a pandas DataFrame, got "
                          f"{type(table).__name__}")
    missing = [c for c in TABLE_COLUMNS[name] if c not in table.columns]
    if missing:
        raise SchemaError(
            f"ReportData.{name} is missing column(s) {missing}; it has {list(table.columns)}. "
            f"Fix: add them (see metaq.report.contracts.TABLE_COLUMNS[{name!r}]).")


@dataclass(frozen=True)
class ReportConfig:
    """How a report is written.

    Parameters
    ----------
    title : str
        Heading of the report.
    best_threshold : float, default 0.75
        P(best) a candidate needs before the recommendation names it as the better choice;
        below it the recommendation says the data do not separate the candidates.
    gain_threshold : float, default 0.8
        P(gain) above which a forecast change is called likely (below ``1 - gain_threshold``,
        a likely loss); in between the sign is called uncertain.
    min_runs_per_group : int, default 20
        Fewer runs than this for a base model raises a caveat.
    whatif_features : int, default 3
        How many of the most important features get what-if curves.
    max_table_rows : int, default 200
        Longer tables are cut in the HTML (the full table is in :meth:`ReportData.tables`).
    open_table_rows : int, default 15
        Longer tables start folded on screen (one click opens them; print shows them all).
    sections : tuple of str
        Which sections to include, from :data:`SECTION_KEYS`; diagnostics is always included.

    Raises
    ------
    InvalidParameterError
        When a threshold is outside (0, 1), a count is below 1 or a section name is unknown.

    Examples
    --------
    >>> ReportConfig(best_threshold=0.9).best_threshold
    0.9
    """

    title: str = "metaq forecast report"
    best_threshold: float = 0.75
    gain_threshold: float = 0.8
    min_runs_per_group: int = 20
    whatif_features: int = 3
    max_table_rows: int = 200
    open_table_rows: int = 15
    sections: tuple[str, ...] = SECTION_KEYS

    def __post_init__(self) -> None:
        for name in ("best_threshold", "gain_threshold"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise InvalidParameterError(
                    f"ReportConfig.{name}={value!r} must lie strictly between 0 and 1 "
                    f"(e.g. 0.75)")
        for name in ("min_runs_per_group", "whatif_features", "max_table_rows", "open_table_rows"):
            if getattr(self, name) < 1:
                raise InvalidParameterError(
                    f"ReportConfig.{name}={getattr(self, name)!r} must be >= 1")
        unknown = [s for s in self.sections if s not in SECTION_KEYS]
        if unknown:
            raise InvalidParameterError(f"ReportConfig.sections has unknown section(s) {unknown}; "
                             f"choose from {list(SECTION_KEYS)}")
        ordered = tuple(k for k in SECTION_KEYS if k in self.sections or k == "diagnostics")
        object.__setattr__(self, "sections", ordered)


@dataclass(frozen=True)
class ReportMetadata:
    """Reproducibility record printed at the end of a report.

    Parameters
    ----------
    metaq_version : str
        Version of metaq that wrote the report.
    created_utc : str
        ISO-8601 time (UTC) the report was made.
    model_file : str
        Path of the fitted model file, ``""`` when none.
    model_sha256 : str
        SHA-256 of that file, ``""`` when none.
    data_hashes : Mapping of str to str
        SHA-256 of each input table (name -> hex digest).
    seeds : Mapping of str to int
        Random seeds used (name -> seed).
    settings : Mapping of str to Any
        Other settings worth recording (sampler draws, chains, target, interval mass).
    """

    metaq_version: str
    created_utc: str
    model_file: str = ""
    model_sha256: str = ""
    data_hashes: Mapping[str, str] = field(default_factory=dict)
    seeds: Mapping[str, int] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def now(cls, **kwargs: Any) -> ReportMetadata:
        """Metadata stamped with the current metaq version and UTC time.

        Examples
        --------
        >>> ReportMetadata.now(seeds={"fit": 1}).seeds
        {'fit': 1}
        """
        from metaq import __version__

        stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
        return cls(metaq_version=__version__, created_utc=stamp, **kwargs)


@dataclass(frozen=True)
class ReportData:
    """Every table a report shows; each one optional, each one checked on construction.

    Parameters
    ----------
    metadata : ReportMetadata
        Versions, hashes, seeds and time.
    prob : float, default 0.9
        Mass of the credible intervals in the tables (``lo``/``hi``, ``lower``/``upper``).
    forecast : pandas.DataFrame, optional
        One row per dataset x target model x benchmark: ``dataset_id, target_model,
        benchmark, estimate, lower, upper, prob_gain`` and optionally ``params_b, domain, prob_best,
        target, sd, missing_features`` (comma-separated names).
    coefficients : pandas.DataFrame, optional
        Slopes per scale group on the standardised feature scale: ``feature, group,
        estimate, lower, upper``.
    importance : pandas.DataFrame, optional
        Feature importance: ``feature, estimate, lower, upper`` and optionally ``group``.
    contributions : pandas.DataFrame, optional
        Per-feature contributions to forecasts (:func:`metaq.explain.feature_contributions`):
        ``dataset_id, target_model, benchmark, term, estimate, lower, upper``, a term per
        feature and ``all features``, their per-draw sum.
    whatif : pandas.DataFrame, optional
        What-if sweeps: ``feature, value, target_model, estimate, lower, upper``.
    correlations : pandas.DataFrame, optional
        The output of :func:`metaq.stats.correlate`.
    runs, features : pandas.DataFrame, optional
        The runs and features tables the model learned from.
    diagnostics : pandas.DataFrame, optional
        ``check, value, threshold, passed`` (bool) and optionally ``detail``.
    ppc : pandas.DataFrame, optional
        Posterior predictive check per training run: ``observed, mean, lower, upper``
        (on the forecast's target scale) and optionally ``base_model``, ``benchmark``.
    loo : pandas.DataFrame, optional
        PSIS-LOO per training observation: ``pareto_k`` and optionally ``loo_pit``.
    units : pandas.DataFrame, optional
        What one standardised unit of each feature is: ``feature, mean, sd, floored`` (the
        unit was set by the floor on the scale, not by the training spread) and optionally
        ``block`` (features that are near copies share a block and one prior budget).
    prior_predictive : pandas.DataFrame, optional
        What the priors alone imply for the runs, beside the observed values:
        ``quantity, prior_lo, prior_median, prior_hi, observed`` and optionally ``unit``
        (:func:`metaq.modeling.prior_check.prior_predictive_table`).
    notes : tuple of str
        Extra caveats from whoever built the data (shown with the computed ones).

    Raises
    ------
    SchemaError
        When a table is not a DataFrame or lacks a required column.
    """

    metadata: ReportMetadata
    prob: float = 0.9
    forecast: pd.DataFrame | None = None
    coefficients: pd.DataFrame | None = None
    importance: pd.DataFrame | None = None
    contributions: pd.DataFrame | None = None
    whatif: pd.DataFrame | None = None
    correlations: pd.DataFrame | None = None
    runs: pd.DataFrame | None = None
    features: pd.DataFrame | None = None
    diagnostics: pd.DataFrame | None = None
    ppc: pd.DataFrame | None = None
    loo: pd.DataFrame | None = None
    units: pd.DataFrame | None = None
    prior_predictive: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.prob < 1:
            raise InvalidParameterError(
                f"ReportData.prob={self.prob!r} must lie strictly between 0 and 1 (e.g. 0.9)")
        for name in TABLE_COLUMNS:
            if getattr(self, name) is not None:
                check_table(name, getattr(self, name))
        object.__setattr__(self, "notes", tuple(self.notes))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables that are present, by name (full length, unformatted).

        Examples
        --------
        >>> data = ReportData(ReportMetadata.now())
        >>> data.tables()
        {}
        """
        names = [f.name for f in fields(self) if f.name in TABLE_COLUMNS]
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True)
class ReportTable:
    """A table as shown in a section.

    Parameters
    ----------
    title : str
        Caption heading.
    frame : pandas.DataFrame
        The values (formatted when rendered).
    caption : str
        One or two sentences saying what the table shows and its units.
    """

    title: str
    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class ReportFigure:
    """A rendered figure.

    Parameters
    ----------
    title : str
        Caption heading.
    png : bytes
        The image, PNG-encoded (embedded in the HTML as base64).
    alt : str
        Text alternative describing what the figure shows.
    caption : str
        What to read from it, with units.
    """

    title: str
    png: bytes
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class ReportSection:
    """One section of a report, ready to render.

    Parameters
    ----------
    key : str
        One of :data:`SECTION_KEYS` (used as the HTML anchor).
    title : str
        Heading.
    description : str
        What the section shows and how to read it.
    paragraphs : tuple of str
        Body text (e.g. the recommendation).
    bullets : tuple of str
        A bulleted list (e.g. caveats).
    tables : tuple of ReportTable
        Tables in display order.
    figures : tuple of ReportFigure
        Figures in display order.
    alerts : tuple of str
        Warnings shown prominently (failed diagnostics).
    """

    key: str
    title: str
    description: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    tables: tuple[ReportTable, ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    alerts: tuple[str, ...] = ()
