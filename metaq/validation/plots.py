"""Calibration plot of out-of-sample forecasts (coverage of central intervals per model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metaq.validation.scores import coverage_curve

LEVELS = np.linspace(0.05, 0.95, 19)


def plot_calibration(predictions: pd.DataFrame, *, title: str = ""):
    """Empirical vs nominal coverage of central predictive intervals, one line per model.

    A calibrated forecaster lies on the diagonal; below it, intervals are too narrow
    (overconfident); above it, too wide.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``ValidationResult.predictions`` (columns ``model`` and ``pit``).
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    groups = predictions.groupby("model", sort=False) if len(predictions) else []
    for name, own in groups:
        axes.plot(LEVELS, coverage_curve(own["pit"].to_numpy(), LEVELS), marker="o",
                  markersize=3, label=f"{name} (n={len(own)})")
    axes.set_xlabel("nominal central interval")
    axes.set_ylabel("share of held-out outcomes inside")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=8, loc="upper left")
    plt.close(figure)
    return figure
