"""Correlation analysis of dataset metrics against fine-tuning outcomes.

Spearman or Pearson coefficients with exact permutation p-values, Benjamini-Hochberg FDR and
intervals where they are meaningful; heatmaps; the reference study's analysis reproduced.
"""

from metaq.stats.correlation import correlate
from metaq.stats.fdr import benjamini_hochberg
from metaq.stats.intervals import CorrelationInterval, correlation_interval
from metaq.stats.permutation import PermutationTest, correlation_permutation_test

__all__ = [
    "CorrelationInterval",
    "PermutationTest",
    "benjamini_hochberg",
    "correlate",
    "correlation_interval",
    "correlation_permutation_test",
]
