"""Heatmap of a correlation table: metrics x benchmarks for one base model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from metaq.exceptions import SchemaError, UnknownNameError
from metaq.tables.targets import TARGETS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORMAP = "RdBu_r"
"""Diverging ColorBrewer map, safe for the common colour-vision deficiencies; red = positive."""


def plot_correlation_heatmap(table: pd.DataFrame, base_model: str, *,
                             kind: Literal["general", "domain"] = "general", alpha: float = 0.05,
                             ax: Axes | None = None) -> Figure:
    """Draw the correlations of one base model as an annotated metrics x benchmarks heatmap.

    Colours run over the fixed range [-1, 1] so figures of different models compare directly.
    A cell whose Benjamini-Hochberg q-value is below `alpha` gets a star and a black frame.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`metaq.stats.correlate`.
    base_model : str
        The model to draw.
    kind : {"general", "domain"}, default "general"
        ``"general"``: whole benchmarks plus the ``avg`` column; ``"domain"``: one column per
        (benchmark, domain), e.g. MoT-PL-eval's math, code and science.
    alpha : float, default 0.05
        FDR level of the marked cells.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the heatmap.

    Raises
    ------
    UnknownNameError
        When `base_model` is not in the table.
    SchemaError
        When the table has no rows of that `kind` for the model.

    Examples
    --------
    >>> from metaq.tables import read_features, read_runs
    >>> from metaq.datasets import study_path
    >>> from metaq.stats import correlate
    >>> table = correlate(read_runs(study_path("runs")), read_features(study_path("features")))
    >>> figure = plot_correlation_heatmap(table, "PLLuM-8B-instruct")
    >>> figure.axes[0].get_xticklabels()[-1].get_text()
    'avg'
    """
    from matplotlib import colormaps

    rho, q = _grids(table, base_model, kind)
    figure, ax = _figure_and_axes(ax, rho.shape)
    image = ax.imshow(rho.to_numpy(dtype=float), vmin=-1, vmax=1, aspect="auto",
                      cmap=colormaps[COLORMAP].with_extremes(bad="0.85"))
    _annotate(ax, rho, q, alpha)
    ax.set_xticks(range(rho.shape[1]), rho.columns, rotation=45, ha="right")
    ax.set_yticks(range(rho.shape[0]), rho.index)
    symbol = "r" if _first(table, "method") == "pearson" else "ρ"
    ax.set_title(_title(table, base_model, symbol, alpha), fontsize=10)
    figure.colorbar(image, ax=ax, label=symbol, shrink=0.8)
    return figure


def _first(table: pd.DataFrame, column: str) -> str | None:
    return str(table[column].iloc[0]) if column in table.columns and len(table) else None


def _title(table: pd.DataFrame, base_model: str, symbol: str, alpha: float) -> str:
    """Model, coefficient and change measure (when the table records them) and the FDR mark."""
    method, target = _first(table, "method"), _first(table, "target")
    what = f"{method.capitalize()} {symbol}" if method else symbol
    change = f" with the {TARGETS[target].label}" if target in TARGETS else ""
    return f"{base_model}: {what}{change}\n* = q < {alpha:g} (Benjamini-Hochberg over all tests)"


def _grids(table: pd.DataFrame, base_model: str, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the rho and q grids (metrics x columns) of one model, in table order."""
    if base_model not in set(table["base_model"]):
        raise UnknownNameError(f"base model {base_model!r} is not in the correlation table; it "
                               f"has {sorted(table['base_model'].unique())}")
    rows = table[table["base_model"] == base_model]
    if kind == "general":
        rows = rows[rows["domain"] == ""]
        column = rows["benchmark"]
    elif kind == "domain":
        rows = rows[rows["domain"] != ""]
        column = rows["benchmark"] + ": " + rows["domain"]
    else:
        raise UnknownNameError(f"unknown heatmap kind {kind!r}; choose 'general' or 'domain'")
    if rows.empty:
        raise SchemaError(f"the correlation table has no {kind} rows for {base_model!r}. Fix: "
                          f"use kind='general' or add runs with a domain.")
    cells = rows.assign(column=column)
    order = {"index": cells["metric"].unique(), "columns": column.unique()}
    rho = cells.pivot(index="metric", columns="column", values="rho").reindex(**order)
    q = cells.pivot(index="metric", columns="column", values="q_value").reindex(**order)
    return rho, q


def _figure_and_axes(ax: Axes | None, shape: tuple[int, int]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    n_rows, n_columns = shape
    figure = Figure(figsize=(2.5 + 0.9 * n_columns, 1.6 + 0.38 * n_rows), layout="constrained")
    return figure, figure.subplots()


def _annotate(ax: Axes, rho: pd.DataFrame, q: pd.DataFrame, alpha: float) -> None:
    from matplotlib.patches import Rectangle

    for i, j in np.ndindex(rho.shape):
        value, q_value = rho.iat[i, j], q.iat[i, j]
        significant = bool(q_value < alpha)  # NaN (avg column) is never significant
        text = "n/a" if np.isnan(value) else f"{value:.2f}" + ("*" if significant else "")
        colour = "white" if abs(value) > 0.65 else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour,
                fontweight="bold" if significant else "normal")
        if significant:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black",
                                   linewidth=2))
