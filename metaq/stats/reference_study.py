"""The reference study's correlation analysis (arXiv 2605.13290, Tables 7 and 8) reproduced.

:func:`reference_study_report` recomputes every Spearman rho of the study from the shipped
runs and features tables, checks each against the published value, adds what the study left
out (Perplexity, the Table 1 lengths, exact p-values, FDR) and writes tables, heatmaps and a
markdown summary.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from metaq.datasets import data_path, study_path
from metaq.stats.correlation import AVERAGE_BENCHMARK, correlate
from metaq.stats.outputs import FDR_ALPHA, save_heatmaps, write_table
from metaq.stats.summary import CorrelationSummary, summarize_correlations
from metaq.tables.features import read_features
from metaq.tables.runs import read_runs

logger = logging.getLogger(__name__)

PAPER_DIR = data_path() / "study" / "paper"
PAPER_BENCHMARKS = ["bel_pl", "bel_en", "aya_pl", "aya_en", "mot_pl_eval", "lightr1"]
PAPER_DOMAIN_MODELS = {"pllum8b": "PLLuM-8B-instruct", "bielik11b": "Bielik-11B-v2.6-Instruct"}
PAPER_DOMAINS = ["math", "code", "science"]
MATCH_TOLERANCE = 0.005
"""A reproduced rho matches a published two-decimal value when within half a unit of it."""

KEY = ["base_model", "benchmark", "domain", "metric"]


def reference_study_report(out_dir: str | Path, *, runs: str | Path | None = None,
                           features: str | Path | None = None,
                           paper_dir: str | Path = PAPER_DIR) -> dict[str, Path]:
    """Reproduce the study's correlation tables and write them with p-values, FDR and heatmaps.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created if missing).
    runs, features : str or Path, optional
        The study's runs and features tables (the shipped ones by default).
    paper_dir : str or Path
        Folder with the published ``table7_spearman_general.csv`` and
        ``table8_spearman_domains.csv`` to compare against.

    Returns
    -------
    dict of str to Path
        ``correlations`` (tidy table with p- and q-values), ``table7`` and ``table8`` (the
        study's layout, two decimals, every metric), ``comparison`` (published vs reproduced
        rho per cell), ``summary`` (markdown) and one ``heatmap_<model>_<kind>`` per figure.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = reference_study_report(tmp)
    ...     sorted(paths)[:4]
    ['comparison', 'correlations', 'heatmap_Bielik-11B-v2.6-Instruct_domain', \
'heatmap_Bielik-11B-v2.6-Instruct_general']
    """
    out_dir = Path(out_dir)
    table = correlate(read_runs(runs or study_path("runs")),
                      read_features(features or study_path("features")), method="spearman",
                      target="rel")
    comparison = compare_with_paper(table, paper_dir)
    summary = summarize_correlations(table, alpha=FDR_ALPHA)
    paths = {
        "correlations": write_table(table, out_dir / "correlations.csv"),
        "table7": write_table(_table7_layout(table, comparison), out_dir / "table7_reproduced.csv"),
        "table8": write_table(_table8_layout(table, comparison), out_dir / "table8_reproduced.csv"),
        "comparison": write_table(comparison, out_dir / "comparison_with_paper.csv"),
    }
    for path in save_heatmaps(table, out_dir, alpha=FDR_ALPHA):
        paths[path.stem] = path
    paths["summary"] = out_dir / "summary.md"
    paths["summary"].write_text(_summary_markdown(table, comparison, summary), encoding="utf-8")
    logger.info("reference study report: %d files in %s", len(paths), out_dir)
    return paths


def paper_metric_name(name: str) -> str:
    """Return the snake_case metric column of a metric named as in the paper.

    Examples
    --------
    >>> paper_metric_name("Redundancy Ratio")
    'redundancy_ratio'
    """
    return name.strip().lower().replace(" ", "_")


def published_rho(paper_dir: str | Path = PAPER_DIR) -> pd.DataFrame:
    """Return the published rho of Tables 7 and 8 as a tidy table.

    Parameters
    ----------
    paper_dir : str or Path
        Folder with ``table7_spearman_general.csv`` and ``table8_spearman_domains.csv``.

    Returns
    -------
    pandas.DataFrame
        ``base_model, benchmark, domain, metric`` (snake_case) and ``rho_paper``; Table 7's
        Avg. column is benchmark ``"avg"``, Table 8's cells are ``mot_pl_eval`` domains.
    """
    paper_dir = Path(paper_dir)
    general = pd.read_csv(paper_dir / "table7_spearman_general.csv", comment="#").melt(
        id_vars=["model", "metric_group", "metric"], var_name="benchmark",
        value_name="rho_paper").rename(columns={"model": "base_model"}).assign(domain="")
    domains = pd.read_csv(paper_dir / "table8_spearman_domains.csv", comment="#").melt(
        id_vars=["metric_group", "metric"], var_name="column", value_name="rho_paper")
    model_and_domain = domains["column"].str.split("_", n=1, expand=True)
    domains = domains.assign(base_model=model_and_domain[0].map(PAPER_DOMAIN_MODELS),
                             domain=model_and_domain[1], benchmark="mot_pl_eval")
    published = pd.concat([general, domains], ignore_index=True)
    published["metric"] = published["metric"].map(paper_metric_name)
    return published[KEY + ["rho_paper"]]


def compare_with_paper(table: pd.DataFrame, paper_dir: str | Path = PAPER_DIR) -> pd.DataFrame:
    """Compare published and reproduced rho for every cell of Tables 7 and 8.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`metaq.stats.correlate` on the study's tables.
    paper_dir : str or Path
        Folder with the published tables (see :func:`published_rho`).

    Returns
    -------
    pandas.DataFrame
        KEY columns, ``rho_paper``, ``rho``, ``abs_diff`` and ``matches`` (``abs_diff`` within
        :data:`MATCH_TOLERANCE`, i.e. equal to two decimals up to the paper's rounding).
    """
    published = published_rho(paper_dir)
    merged = published.merge(table[KEY + ["rho"]], on=KEY, how="left", validate="one_to_one")
    merged["abs_diff"] = (merged["rho"] - merged["rho_paper"]).abs()
    merged["matches"] = merged["abs_diff"] <= MATCH_TOLERANCE + 1e-9
    return merged


def _table7_layout(table: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    """Table 7's layout: one row per (model, metric), the six benchmarks and ``avg``.

    Every metric of the features table appears; ``in_paper`` marks those the study reported.
    """
    wide = _wide(table[table["domain"] == ""], "benchmark", [*PAPER_BENCHMARKS, AVERAGE_BENCHMARK])
    return _mark_reported(wide, comparison[comparison["domain"] == ""])


def _table8_layout(table: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    """Table 8's content: one row per (model, metric), one column per MoT-PL-eval domain."""
    wide = _wide(table[table["domain"] != ""], "domain", PAPER_DOMAINS)
    return _mark_reported(wide, comparison[comparison["domain"] != ""])


def _wide(rows: pd.DataFrame, column: str, paper_columns: list[str]) -> pd.DataFrame:
    """Pivot rho to (model, metric) x `column`, in the paper's order where it has one."""
    models = _paper_first(rows["base_model"].unique(), list(PAPER_DOMAIN_MODELS.values()))
    index = pd.MultiIndex.from_product([models, rows["metric"].unique()],
                                       names=["base_model", "metric"])
    columns = _paper_first(rows[column].unique(), paper_columns)
    wide = rows.pivot(index=["base_model", "metric"], columns=column, values="rho")
    return wide.reindex(index=index, columns=columns).round(2).rename_axis(columns=None)


def _paper_first(values: np.ndarray, paper_order: list[str]) -> list[str]:
    """`values` with those the paper lists first, in its order, then the rest as given."""
    present = set(values)
    return [v for v in paper_order if v in present] + [v for v in values if v not in paper_order]


def _mark_reported(wide: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    reported = set(zip(comparison["base_model"], comparison["metric"], strict=True))
    in_paper = [key in reported for key in wide.index]
    return wide.assign(in_paper=in_paper).reset_index()


def _summary_markdown(table: pd.DataFrame, comparison: pd.DataFrame,
                     summary: CorrelationSummary) -> str:
    """Return the markdown summary of the reproduction and of what survives FDR correction."""
    tests = table[table["p_value"].notna()]
    sizes = sorted(tests["n"].unique())
    extra = sorted(set(table["metric"]) - set(comparison["metric"]))
    lines = [
        "# The reference study's correlation analysis, reproduced",
        "",
        "Langner et al., arXiv 2605.13290: Spearman rho between each dataset metric and the "
        "relative change of each benchmark score after fine-tuning, per base model, across the "
        f"fine-tuning datasets (n = {', '.join(str(n) for n in sizes)}).",
        "",
        "## Reproduction",
        "",
        *(_reproduction_line(comparison, domain) for domain in (False, True)),
        f"- Added (not in the paper): {', '.join(extra)}.",
        "",
        "## What survives multiple-testing correction",
        "",
        *_significance_lines(tests, summary),
        "",
        "## Strongest correlation per model",
        "",
        "| base model | metric | benchmark | rho | p | q | tests with this abs(rho) |",
        "|---|---|---|---|---|---|---|",
        *(f"| {r.base_model} | {r.metric} | {r.benchmark}{'/' + r.domain if r.domain else ''} "
          f"| {r.rho:+.2f} | {r.p_value:.3f} | {r.q_value:.3f} | {r.n_tied} |"
          for r in summary.strongest.itertuples(index=False)),
        "",
        "The `avg` rows (the paper's Avg. column) are means of rho, not tests: they have no "
        "p- or q-value. Intervals are not reported: with n = 4 neither a Fisher-z nor a "
        "bootstrap interval is meaningful (see docs/reference_study.md).",
        "",
    ]
    return "\n".join(lines)


def _reproduction_line(comparison: pd.DataFrame, domains: bool) -> str:
    cells = comparison[(comparison["domain"] != "") == domains]
    name = "Table 8 (MoT-PL-eval domains)" if domains else "Table 7 (general benchmarks, Avg.)"
    return (f"- {name}: {int(cells['matches'].sum())} of {len(cells)} published rho values "
            f"reproduced to two decimals (largest difference {cells['abs_diff'].max():.4f}).")


def _significance_lines(tests: pd.DataFrame, summary: CorrelationSummary) -> list[str]:
    n = int(tests["n"].min())
    orderings = math.factorial(n)
    extreme = tests[np.isclose(tests["rho"].abs(), 1.0)]
    verdict = ("Nothing survives" if summary.n_discoveries == 0
               else f"{summary.n_discoveries} test(s) survive")
    return [
        f"The family is all {summary.n_tests} tests (model x benchmark or domain x metric). "
        f"With n = {n} datasets a test has {orderings} orderings; rho = +-1 is reached by 2 "
        f"of them, so the smallest possible exact two-sided p-value is 2/{orderings} = "
        f"{2 / orderings:.4f}" + (" (> 0.05: no single test can reach 0.05, before any "
                                  "correction)." if 2 / orderings > FDR_ALPHA else "."),
        "",
        f"- Tests with abs(rho) = 1: {len(extreme)}"
        + (f" (p = {extreme['p_value'].max():.4f} each)." if len(extreme) else "."),
        f"- Smallest p-value: {summary.smallest_p:.4f}; smallest Benjamini-Hochberg q-value: "
        f"{summary.smallest_q:.4f}.",
        f"- **{verdict} at FDR {summary.alpha:g}: {summary.n_discoveries} of "
        f"{summary.n_tests} tests.** The study's correlations describe four datasets; they "
        "cannot tell a real association from chance ordering.",
    ]
