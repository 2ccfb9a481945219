"""Correlation analysis from table files to output files: the job behind ``metaq correlate``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metaq.datasets import study_path
from metaq.exceptions import SchemaError
from metaq.stats._coefficients import Method
from metaq.stats.correlation import correlate
from metaq.stats.heatmap import plot_correlation_heatmap
from metaq.stats.summary import CorrelationSummary, summarize_correlations
from metaq.tables.features import read_features
from metaq.tables.runs import read_runs
from metaq.tables.targets import TargetName

logger = logging.getLogger(__name__)

FDR_ALPHA = 0.05


@dataclass(frozen=True)
class CorrelationOutputs:
    """What :func:`correlate_files` computed and wrote.

    Attributes
    ----------
    table : pandas.DataFrame
        The correlation table (see :func:`metaq.stats.correlate`).
    table_path : Path
        Where it was written.
    figure_paths : tuple of Path
        The heatmaps written (empty when none were asked for).
    summary : CorrelationSummary
        Tests, discoveries at FDR 0.05 and the strongest test per model.
    """

    table: pd.DataFrame
    table_path: Path
    figure_paths: tuple[Path, ...]
    summary: CorrelationSummary


def correlate_files(out: str | Path, *, runs: str | Path | None = None,
                    features: str | Path | None = None, figures_dir: str | Path | None = None,
                    method: Method = "spearman", target: TargetName = "rel",
                    n_permutations: int = 9999, random_seed: int | None = 0,
                    ci: float = 0.95) -> CorrelationOutputs:
    """Read a runs and a features table, correlate them and write the table (and heatmaps).

    Parameters
    ----------
    out : str or Path
        The correlation table to write; ``.csv`` or ``.parquet``.
    runs, features : str or Path, optional
        The input tables (CSV or Parquet); the reference study's by default.
    figures_dir : str or Path, optional
        Where to save one heatmap PNG per model (and per model with domains, a domain one).
    method, target, n_permutations, random_seed, ci
        As in :func:`metaq.stats.correlate`.

    Returns
    -------
    CorrelationOutputs
        The table, the written paths and a summary.

    Raises
    ------
    SchemaError
        When an input breaks its contract or `out` has another suffix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     outputs = correlate_files(pathlib.Path(tmp) / "rho.csv")
    ...     outputs.summary.n_tests
    252
    """
    table = correlate(read_runs(runs or study_path("runs")),
                      read_features(features or study_path("features")), method=method,
                      target=target, n_permutations=n_permutations, random_seed=random_seed,
                      ci=ci)
    table_path = write_table(table, out)
    figure_paths = save_heatmaps(table, figures_dir) if figures_dir is not None else []
    return CorrelationOutputs(table, table_path, tuple(figure_paths),
                              summarize_correlations(table, alpha=FDR_ALPHA))


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV or Parquet, chosen by the suffix of `path`; returns the path.

    Raises
    ------
    SchemaError
        When the suffix is neither ``.csv`` nor ``.parquet``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise SchemaError(f"{path}: cannot write a table as {suffix or 'no suffix'!r}. Fix: end "
                          f"the file name in .csv or .parquet.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)
    logger.info("wrote %s (%d rows)", path, len(table))
    return path


def save_heatmaps(table: pd.DataFrame, directory: str | Path, *,
                  alpha: float = FDR_ALPHA) -> list[Path]:
    """Save the heatmaps of every model of a correlation table as PNG files.

    Each model gets ``heatmap_<model>_general.png`` and, when it has domain rows,
    ``heatmap_<model>_domain.png``.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`metaq.stats.correlate`.
    directory : str or Path
        Where to write (created if missing).
    alpha : float, default 0.05
        FDR level of the marked cells.

    Returns
    -------
    list of Path
        The files written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for model in table["base_model"].unique():
        rows = table[table["base_model"] == model]
        kinds = ["general"] if (rows["domain"] == "").any() else []
        kinds += ["domain"] if (rows["domain"] != "").any() else []
        for kind in kinds:
            path = directory / f"heatmap_{_file_stem(model)}_{kind}.png"
            plot_correlation_heatmap(table, model, kind=kind, alpha=alpha).savefig(path, dpi=120)
            paths.append(path)
    logger.info("wrote %d heatmap(s) to %s", len(paths), directory)
    return paths


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)
