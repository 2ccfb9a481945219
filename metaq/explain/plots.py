"""Figures of the explain tables: each ``plot_*`` computes its table, then only draws.

Every ``plot_x(model, ...)`` is ``draw_x(x(model, ...))``: the ``draw_*`` functions take the
tidy table a compute function returned and draw it, nothing else, so a table written to CSV
and its figure always agree. Figures are built with :class:`matplotlib.figure.Figure` (no
pyplot state); save them with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from metaq.explain.contributions import feature_contributions
from metaq.explain.importance import feature_importance, permutation_importance, scale_contrast
from metaq.explain.next_run import rank_next_runs
from metaq.explain.ranking import rank_candidates
from metaq.explain.whatif import sweep, what_if

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANEL_WIDTH = 4.5
ROW_HEIGHT = 0.32


def _figure(n_panels: int, n_rows: int, *, sharey: bool = True):
    from matplotlib.figure import Figure

    height = max(2.5, 1.2 + ROW_HEIGHT * n_rows)
    fig = Figure(figsize=(PANEL_WIDTH * n_panels, height), layout="constrained")
    axes = fig.subplots(1, n_panels, sharey=sharey, squeeze=False)[0]
    return fig, axes


def _intervals(ax, labels: Sequence[str], table: pd.DataFrame, *, xlabel: str) -> None:
    """Point estimates with interval bars, one row per label, and a zero line."""
    y = np.arange(len(labels))[::-1]
    ax.errorbar(table["estimate"], y, xerr=[table["estimate"] - table["lower"],
                                            table["upper"] - table["estimate"]],
                fmt="o", color="tab:blue", ecolor="tab:blue", capsize=2)
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)


def _panels(table: pd.DataFrame, by: str | None) -> list[tuple[str, pd.DataFrame]]:
    if by is None or by not in table.columns:
        return [("", table)]
    return [(str(key), part) for key, part in table.groupby(by, sort=False)]


def _row_labels(table: pd.DataFrame) -> list[str]:
    return [f"{d} / {b}" for d, b in zip(table["dataset_id"], table["benchmark"], strict=True)]


def draw_importance(table: pd.DataFrame, *, by: str = "target_model"):
    """Standardised slopes with intervals, one panel per `by` value (target model, if present)."""
    panels = _panels(table, by)
    features = list(dict.fromkeys(panels[0][1]["feature"]))
    fig, axes = _figure(len(panels), len(features))
    for ax, (title, part) in zip(axes, panels, strict=True):
        part = part.set_index("feature").loc[features].reset_index()
        _intervals(ax, features, part, xlabel="slope per SD of the feature")
        ax.set_title(title or "all models", fontsize=10)
    return fig


def draw_scale_contrast(table: pd.DataFrame):
    """Slopes for the small and the large model and their per-draw difference."""
    titles = np.where(table["term"] == "large - small", "difference (large - small)",
                      table["term"] + ": " + table["target_model"])
    return draw_importance(table.assign(target_model=titles))


def draw_permutation_importance(table: pd.DataFrame):
    """Increase of the training error when each feature is shuffled."""
    fig, axes = _figure(1, len(table))
    _intervals(axes[0], table["feature"].tolist(), table,
               xlabel="increase of mean squared error")
    axes[0].set_title("permutation importance (training runs)")
    return fig


def draw_contributions(table: pd.DataFrame):
    """Per-feature contributions, one panel per dataset (first model and benchmark)."""
    first = table.iloc[0]
    keep = (table["target_model"] == first["target_model"]) & (
        table["benchmark"] == first["benchmark"])
    panels = _panels(table.loc[keep], "dataset_id")
    terms = list(dict.fromkeys(panels[0][1]["term"]))
    fig, axes = _figure(len(panels), len(terms))
    for ax, (title, part) in zip(axes, panels, strict=True):
        _intervals(ax, terms, part, xlabel="contribution to the change")
        ax.set_title(f"{title}\n{first['target_model']}, {first['benchmark']}", fontsize=9)
    return fig


def draw_what_if(table: pd.DataFrame):
    """Per-draw change of the forecast, one panel per target model."""
    panels = _panels(table, "target_model")
    rows = _row_labels(panels[0][1])
    fig, axes = _figure(len(panels), len(rows))
    for ax, (title, part) in zip(axes, panels, strict=True):
        _intervals(ax, rows, part.reset_index(drop=True), xlabel="change of the forecast")
        ax.set_title(f"{title}\n{part['change'].iloc[0]}", fontsize=9)
    return fig


def draw_sweep(table: pd.DataFrame):
    """Forecast curves with bands over the feature grid, one panel per benchmark.

    A table of several features' sweeps gets one panel per feature instead, on its first
    benchmark.
    """
    if table["feature"].nunique() > 1:
        table = table[table["benchmark"] == table["benchmark"].iloc[0]]
    panels = _panels(table, "feature" if table["feature"].nunique() > 1 else "benchmark")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(PANEL_WIDTH * len(panels), 3.5), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, part) in zip(axes, panels, strict=True):
        for target, curve in part.groupby("target_model", sort=False):
            line, = ax.plot(curve["value"], curve["estimate"], label=str(target))
            ax.fill_between(curve["value"], curve["lower"], curve["upper"], alpha=0.2,
                            color=line.get_color())
        ax.axhline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(str(part["feature"].iloc[0]))
        ax.set_ylabel("forecast change")
        ax.set_title(title if title != part["feature"].iloc[0] else part["benchmark"].iloc[0])
        ax.legend(fontsize=8)
    return fig


def draw_ranking(table: pd.DataFrame):
    """P(best) of each candidate, one panel per target model, regret in the labels."""
    panels = _panels(table, "target_model")
    n_rows = max(len(part) for _, part in panels)
    fig, axes = _figure(len(panels), n_rows, sharey=False)  # each model has its own order
    for ax, (title, part) in zip(axes, panels, strict=True):
        y = np.arange(len(part))[::-1]
        ax.barh(y, part["prob_best"], color="tab:green")
        labels = [f"{d} (regret {r:.3g})" for d, r in
                  zip(part["dataset_id"], part["expected_regret"], strict=True)]
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 1)
        ax.set_xlabel("P(best)")
        ax.set_title(title)
    return fig


def draw_next_runs(table: pd.DataFrame):
    """Draw the expected share of forecast variance each candidate run would remove."""
    fig, axes = _figure(1, len(table))
    y = np.arange(len(table))[::-1]
    axes[0].barh(y, table["reduction_share"], color="tab:purple")
    axes[0].set_yticks(y, [f"{d} @ {m}" for d, m in
                           zip(table["dataset_id"], table["target_model"], strict=True)])
    axes[0].set_xlabel("expected share of forecast variance removed")
    return fig


def draw_forecast(summary: pd.DataFrame):
    """Forecast mean and interval per dataset and benchmark, one panel per target model."""
    panels = _panels(summary, "target_model")
    rows = _row_labels(panels[0][1])
    fig, axes = _figure(len(panels), len(rows))
    for ax, (title, part) in zip(axes, panels, strict=True):
        _intervals(ax, rows, part.reset_index(drop=True),
                   xlabel=f"forecast change ({part['target'].iloc[0]})")
        ax.set_title(title)
    return fig


def plot_feature_importance(model, **kwargs) -> Figure:
    """Compute :func:`feature_importance` and draw it (:func:`draw_importance`).

    Parameters
    ----------
    model
        As for :func:`~metaq.explain.importance.feature_importance`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_importance(feature_importance(model, **kwargs))


def plot_scale_contrast(model, **kwargs) -> Figure:
    """Compute :func:`scale_contrast` and draw it (:func:`draw_scale_contrast`).

    Parameters
    ----------
    model
        As for :func:`~metaq.explain.importance.scale_contrast`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_scale_contrast(scale_contrast(model, **kwargs))


def plot_permutation_importance(model, runs, features, **kwargs) -> Figure:
    """Compute :func:`permutation_importance` and draw it (:func:`draw_permutation_importance`).

    Parameters
    ----------
    model, runs, features
        As for :func:`~metaq.explain.importance.permutation_importance`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_permutation_importance(permutation_importance(model, runs, features, **kwargs))


def plot_contributions(model, features, **kwargs) -> Figure:
    """Compute :func:`feature_contributions` and draw it (:func:`draw_contributions`).

    Parameters
    ----------
    model, features
        As for :func:`~metaq.explain.contributions.feature_contributions`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_contributions(feature_contributions(model, features, **kwargs))


def plot_what_if(model, baseline, changes, **kwargs) -> Figure:
    """Compute :func:`what_if` and draw it (:func:`draw_what_if`).

    Parameters
    ----------
    model, baseline, changes
        As for :func:`~metaq.explain.whatif.what_if`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_what_if(what_if(model, baseline, changes, **kwargs))


def plot_sweep(model, feature, grid=None, **kwargs) -> Figure:
    """Compute :func:`sweep` and draw it (:func:`draw_sweep`).

    Parameters
    ----------
    model, feature, grid
        As for :func:`~metaq.explain.whatif.sweep`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_sweep(sweep(model, feature, grid, **kwargs))


def plot_ranking(forecast, **kwargs) -> Figure:
    """Compute :func:`rank_candidates` and draw it (:func:`draw_ranking`).

    Parameters
    ----------
    forecast
        As for :func:`~metaq.explain.ranking.rank_candidates`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_ranking(rank_candidates(forecast, **kwargs))


def plot_next_runs(model, candidates, features, **kwargs) -> Figure:
    """Compute :func:`rank_next_runs` and draw it (:func:`draw_next_runs`).

    Parameters
    ----------
    model, candidates, features
        As for :func:`~metaq.explain.next_run.rank_next_runs`.
    **kwargs
        Its keyword options (``target_models``, ``benchmarks``, ``prob``, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return draw_next_runs(rank_next_runs(model, candidates, features, **kwargs))
