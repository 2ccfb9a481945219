"""The report's own figures (model checks) and the style every report figure is drawn in.

The forecast, slope, contribution and what-if figures are the explain layer's drawings of
the same tables (:mod:`metaq.explain.plots`); the posterior predictive check and the PSIS-LOO
figures are drawn here. Every function takes a tidy table and returns a
:class:`matplotlib.figure.Figure`; nothing is recomputed while drawing.
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
    ...     fig = plot_pareto_k(np.array([0.2, 0.9]))
    >>> fig.axes[0].get_xlabel() != ""
    True
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
