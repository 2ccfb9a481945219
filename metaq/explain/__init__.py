"""Explain a fitted predictor's forecasts: importance, contributions, what-if, ranking, next run.

Every function computes its quantity per posterior draw, then summarises it in a tidy table
with ``estimate``, ``lower``, ``upper`` and the probability of the direction; every one has a
``plot_*`` twin in :mod:`metaq.explain.plots` that computes the table and only draws it.
"""

from metaq.explain.changes import FeatureChange, apply_changes, as_changes, parse_change
from metaq.explain.contributions import feature_contributions
from metaq.explain.importance import feature_importance, permutation_importance, scale_contrast
from metaq.explain.next_run import rank_next_runs
from metaq.explain.plots import (
    plot_contributions,
    plot_feature_importance,
    plot_next_runs,
    plot_permutation_importance,
    plot_ranking,
    plot_scale_contrast,
    plot_sweep,
    plot_what_if,
)
from metaq.explain.ranges import ValidRange, valid_range
from metaq.explain.ranking import benchmark_effects, rank_candidates
from metaq.explain.whatif import sweep, what_if

__all__ = [
    "FeatureChange",
    "ValidRange",
    "apply_changes",
    "as_changes",
    "benchmark_effects",
    "feature_contributions",
    "feature_importance",
    "parse_change",
    "permutation_importance",
    "plot_contributions",
    "plot_feature_importance",
    "plot_next_runs",
    "plot_permutation_importance",
    "plot_ranking",
    "plot_scale_contrast",
    "plot_sweep",
    "plot_what_if",
    "rank_candidates",
    "rank_next_runs",
    "scale_contrast",
    "sweep",
    "valid_range",
    "what_if",
]
