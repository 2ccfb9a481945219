"""Heatmaps of the correlation table: layout, annotations, FDR marks, colour scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import SchemaError, UnknownNameError
from metaq.stats import correlate, plot_correlation_heatmap, save_heatmaps
from metaq.tables import read_features, read_runs

BIELIK = "Bielik-11B-v2.6-Instruct"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return correlate(read_runs(study_path("runs")), read_features(study_path("features")))


def cell_texts(figure) -> dict[tuple[int, int], str]:
    ax = figure.axes[0]
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
            for t in ax.texts}


def test_general_heatmap_layout_and_values(table):
    figure = plot_correlation_heatmap(table, BIELIK)
    ax = figure.axes[0]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert columns[-1] == "avg" and len(columns) == 7
    assert rows == list(table["metric"].unique())
    image = ax.images[0]
    assert image.get_clim() == (-1, 1)
    assert image.get_cmap().name.startswith("RdBu_r")
    texts = cell_texts(figure)
    row, column = rows.index("redundancy_ratio"), columns.index("lightr1")
    assert texts[(row, column)] == "1.00"  # Table 7: Bielik, Redundancy Ratio, LightR1
    assert texts[(rows.index("perplexity"), columns.index("avg"))] == "-0.33"
    assert not any(t.endswith("*") for t in texts.values())  # nothing survives FDR
    assert ax.get_title().startswith(f"{BIELIK}: Spearman ρ with the relative change\n")


def test_cells_below_the_fdr_level_are_starred_and_framed(table):
    marked = table.copy()
    hit = (marked["base_model"] == BIELIK) & (marked["benchmark"] == "lightr1") & (
        marked["metric"] == "validity")
    marked.loc[hit, "q_value"] = 0.01
    figure = plot_correlation_heatmap(marked, BIELIK, alpha=0.05)
    texts = cell_texts(figure)
    starred = [key for key, text in texts.items() if text.endswith("*")]
    assert len(starred) == 1 and texts[starred[0]] == "0.80*"
    assert len(figure.axes[0].patches) == 1


def test_domain_heatmap_has_one_column_per_domain(table):
    figure = plot_correlation_heatmap(table, "PLLuM-8B-instruct", kind="domain")
    columns = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert sorted(columns) == ["mot_pl_eval: code", "mot_pl_eval: math", "mot_pl_eval: science"]


def test_missing_coefficients_are_drawn_as_not_available(table):
    blank = table.copy()
    blank.loc[blank["metric"] == "utility", "rho"] = np.nan
    texts = cell_texts(plot_correlation_heatmap(blank, BIELIK))
    assert sum(text == "n/a" for text in texts.values()) == 7


def test_table_with_only_the_interface_columns(table):
    minimal = table[["base_model", "benchmark", "domain", "metric", "rho", "p_value", "q_value"]]
    figure = plot_correlation_heatmap(minimal, BIELIK)
    assert figure.axes[0].get_title().startswith(f"{BIELIK}: ρ\n")


def test_draws_into_given_axes(table):
    from matplotlib.figure import Figure

    figure = Figure()
    ax = figure.subplots()
    assert plot_correlation_heatmap(table, BIELIK, ax=ax) is figure


def test_errors_name_the_choices(table):
    with pytest.raises(UnknownNameError, match=r"base model 'GPT' is not in the correlation "
                                               r"table; it has \['Bielik"):
        plot_correlation_heatmap(table, "GPT")
    with pytest.raises(UnknownNameError, match=r"unknown heatmap kind 'both'"):
        plot_correlation_heatmap(table, BIELIK, kind="both")
    with pytest.raises(SchemaError, match=r"no domain rows for 'Bielik"):
        plot_correlation_heatmap(table[table["domain"] == ""], BIELIK, kind="domain")


def test_save_heatmaps_writes_pngs_per_model_and_kind(table, tmp_path):
    paths = save_heatmaps(table[table["base_model"] == BIELIK], tmp_path / "figs")
    assert [p.name for p in paths] == ["heatmap_Bielik-11B-v2.6-Instruct_general.png",
                                       "heatmap_Bielik-11B-v2.6-Instruct_domain.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
