from __future__ import annotations

import math

import numpy as np
import pytest

from metaq.report.plots import plot_loo_pit, plot_pareto_k


def test_loo_pit_band_is_the_dkw_half_width(rng):
    fig = plot_loo_pit(rng.uniform(size=48), alpha=0.05)
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(math.sqrt(math.log(2 / 0.05) / (2 * 48)))
    assert band.min() == pytest.approx(-band.max())


def test_pareto_k_counts_the_runs_above_the_threshold():
    fig = plot_pareto_k(np.array([0.1, 0.8, 0.5, 0.95]), threshold=0.7)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["k <= threshold", "k > 0.7 (2)"]


