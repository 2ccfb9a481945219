"""The report's figures, drawn from plain tables in one consistent, colour-blind-safe style.

Every function takes a tidy table (the ones of :class:`metaq.report.contracts.ReportData`)
and returns a :class:`matplotlib.figure.Figure`; nothing is recomputed while drawing.
Figures are built without pyplot, so drawing leaves no global state behind.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Okabe & Ito (2008) colours, distinguishable under the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
)
_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.dpi": 100,
}
_PANEL_WIDTH = 3.6
_MAX_COLUMNS = 3
_SINGLE_WIDTH = 5.6


@contextmanager
def report_style() -> Iterator[None]:
    """Apply the report's matplotlib style inside a ``with`` block.

    Examples
    --------
    >>> with report_style():
    ...     fig = plot_forest(pd.DataFrame({"feature": ["a"], "estimate": [0.1],
    ...                                     "lower": [0.0], "upper": [0.2]}), y="feature")
    """
    import matplotlib as mpl
    from cycler import cycler

    with mpl.rc_context({**_STYLE, "axes.prop_cycle": cycler(color=PALETTE)}):
        yield


def figure_png(fig: Figure, *, dpi: int = 144) -> bytes:
    """Encode a figure as PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int, default 144
        Resolution (144 is sharp on laptop screens and in print at the report's widths).

    Returns
    -------
    bytes
        The PNG file content.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _panels(n: int, *, height: float) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    columns = min(n, _MAX_COLUMNS)
    rows = math.ceil(n / columns)
    width = _PANEL_WIDTH * columns + 1.0 if n > 1 else _SINGLE_WIDTH
    fig = Figure(figsize=(width, height * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel().tolist()
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, axes[:n]


def _groups(frame: pd.DataFrame, column: str | None) -> list[tuple[str, pd.DataFrame]]:
    if column is None:
        return [("", frame)]
    return [(str(key), part) for key, part in frame.groupby(column, sort=False)]


def plot_forest(frame: pd.DataFrame, *, y: str, panel: str | None = None,
                colour: str | None = None, estimate: str = "estimate", lower: str = "lower",
                upper: str = "upper", xlabel: str = "estimate", reference: float = 0.0
                ) -> Figure:
    """Point estimates with interval bars, one row per ``y`` level, one panel per ``panel``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy table with the ``y``, ``estimate``, ``lower`` and ``upper`` columns.
    y : str
        Column giving the rows (e.g. ``feature`` or ``benchmark``).
    panel : str, optional
        Column splitting the table into panels (e.g. the scale group).
    colour : str, optional
        Column drawn as dodged, coloured series within a row (e.g. ``dataset_id``).
    estimate, lower, upper : str
        Columns of the point estimate and the interval ends.
    xlabel : str
        Label of the x axis, with its unit.
    reference : float, default 0.0
        Where a dashed reference line is drawn (no effect).

    Returns
    -------
    matplotlib.figure.Figure
        The forest plot.
    """
    groups = _groups(frame, panel)
    levels = list(dict.fromkeys(frame[y].astype(str)))
    series = list(dict.fromkeys(frame[colour].astype(str))) if colour else [""]
    fig, axes = _panels(len(groups), height=1.2 + 0.35 * len(levels) * max(1, len(series) / 2))
    step = 0.8 / len(series)
    for ax, (name, part) in zip(axes, groups, strict=True):
        for k, label in enumerate(series):
            rows = part if not colour else part[part[colour].astype(str) == label]
            position = np.array([levels.index(v) for v in rows[y].astype(str)], dtype=float)
            position += (k - (len(series) - 1) / 2) * step
            centre = rows[estimate].to_numpy(float)
            ax.errorbar(centre, position, fmt="o", markersize=4, capsize=2, linewidth=1.2,
                        xerr=[centre - rows[lower].to_numpy(float),
                              rows[upper].to_numpy(float) - centre],
                        color=PALETTE[k % len(PALETTE)], label=label or None)
        ax.axvline(reference, color="#555555", linestyle="--", linewidth=0.8)
        ax.set_yticks(range(len(levels)), levels)
        ax.set_ylim(len(levels) - 0.5, -0.5)
        ax.set_xlabel(xlabel)
        ax.set_title(name)
    if colour:
        axes[0].figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                              ncols=min(len(series), 4), title=colour)
    return fig


def plot_whatif(whatif: pd.DataFrame, *, ylabel: str) -> Figure:
    """What-if curves: forecast change against a feature's value, one line per target model.

    Parameters
    ----------
    whatif : pandas.DataFrame
        ``feature, value, target_model, estimate, lower, upper``; one panel per feature.
    ylabel : str
        Label of the y axis, with its unit.

    Returns
    -------
    matplotlib.figure.Figure
        Lines with shaded credible bands.
    """
    groups = _groups(whatif, "feature")
    fig, axes = _panels(len(groups), height=2.8)
    models = list(dict.fromkeys(whatif["target_model"].astype(str)))
    for ax, (feature, part) in zip(axes, groups, strict=True):
        for k, model in enumerate(models):
            rows = part[part["target_model"].astype(str) == model].sort_values("value")
            colour = PALETTE[k % len(PALETTE)]
            x = rows["value"].to_numpy(float)
            ax.fill_between(x, rows["lower"].to_numpy(float), rows["upper"].to_numpy(float),
                            color=colour, alpha=0.2, linewidth=0)
            ax.plot(x, rows["estimate"].to_numpy(float), color=colour, label=model)
        ax.axhline(0.0, color="#555555", linestyle="--", linewidth=0.8)
        ax.set_xlabel(f"{feature} (feature units)")
        ax.set_ylabel(ylabel)
        ax.set_title(feature)
    axes[0].figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                          ncols=min(len(models), 4), title="target model")
    return fig


def plot_ppc(ppc: pd.DataFrame, *, unit: str) -> Figure:
    """Posterior predictive check: each training run's observed change against its forecast.

    Parameters
    ----------
    ppc : pandas.DataFrame
        ``observed, mean, lower, upper`` per run.
    unit : str
        Unit of the change, for the axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        Predicted mean with interval bars against the observed value, and the identity line.
    """
    fig, (ax,) = _panels(1, height=3.4)
    observed = ppc["observed"].to_numpy(float)
    centre = ppc["mean"].to_numpy(float)
    inside = (observed >= ppc["lower"].to_numpy(float)) & (observed <= ppc["upper"].to_numpy(float))
    for mask, colour, label in ((inside, PALETTE[0], "inside interval"),
                                (~inside, PALETTE[5], "outside interval")):
        ax.errorbar(observed[mask], centre[mask], fmt="o", markersize=3, linewidth=0.8,
                    yerr=[centre[mask] - ppc["lower"].to_numpy(float)[mask],
                          ppc["upper"].to_numpy(float)[mask] - centre[mask]],
                    color=colour, label=f"{label} ({int(mask.sum())})")
    span = [np.nanmin([observed.min(), ppc["lower"].min()]),
            np.nanmax([observed.max(), ppc["upper"].max()])]
    ax.plot(span, span, color="#555555", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"observed change ({unit})")
    ax.set_ylabel(f"predicted change ({unit})")
    ax.legend(loc="upper left")
    return fig


def plot_loo_pit(loo_pit: np.ndarray, *, alpha: float = 0.05) -> Figure:
    """ECDF of LOO-PIT values against the uniform, with a simultaneous DKW band.

    Parameters
    ----------
    loo_pit : numpy.ndarray
        Leave-one-out probability integral transform of each run (uniform when calibrated).
    alpha : float, default 0.05
        The band covers the whole uniform ECDF with probability ``1 - alpha``
        (Dvoretzky-Kiefer-Wolfowitz inequality).

    Returns
    -------
    matplotlib.figure.Figure
        ECDF minus uniform; excursions outside the band signal miscalibration.
    """
    values = np.sort(np.asarray(loo_pit, dtype=float))
    n = values.size
    half_width = math.sqrt(math.log(2 / alpha) / (2 * n))
    fig, (ax,) = _panels(1, height=3.0)
    grid = np.linspace(0, 1, 201)
    ecdf = np.searchsorted(values, grid, side="right") / n
    ax.fill_between(grid, -half_width, half_width, color=PALETTE[4], alpha=0.25,
                    label=f"{1 - alpha:.0%} band if calibrated")
    ax.step(grid, ecdf - grid, where="post", color=PALETTE[0], label="LOO-PIT ECDF - uniform")
    ax.axhline(0.0, color="#555555", linestyle="--", linewidth=0.8)
    ax.set_xlabel("LOO-PIT value (probability)")
    ax.set_ylabel("ECDF difference")
    ax.legend(loc="lower right")
    return fig


def plot_pareto_k(pareto_k: np.ndarray, *, threshold: float = 0.7) -> Figure:
    """PSIS-LOO Pareto k of each training run, with the reliability threshold.

    Parameters
    ----------
    pareto_k : numpy.ndarray
        Pareto shape estimate per run.
    threshold : float, default 0.7
        Above it the leave-one-out estimate for that run is unreliable.

    Returns
    -------
    matplotlib.figure.Figure
        Scatter of k by run index.
    """
    k = np.asarray(pareto_k, dtype=float)
    fig, (ax,) = _panels(1, height=2.6)
    high = k > threshold
    ax.scatter(np.flatnonzero(~high), k[~high], s=12, color=PALETTE[0], label="k <= threshold")
    ax.scatter(np.flatnonzero(high), k[high], s=14, color=PALETTE[5], marker="x",
               label=f"k > {threshold} ({int(high.sum())})")
    ax.axhline(threshold, color=PALETTE[5], linestyle="--", linewidth=0.8)
    ax.set_xlabel("training run (index)")
    ax.set_ylabel("Pareto k (dimensionless)")
    ax.legend(loc="upper right")
    return fig
