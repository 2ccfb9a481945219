"""Correlation analysis of dataset metrics against fine-tuning outcomes.

Spearman or Pearson coefficients with exact permutation p-values, Benjamini-Hochberg FDR and
intervals where they are meaningful; heatmaps; the reference study's analysis reproduced.
"""

from metaq.stats.correlation import correlate
from metaq.stats.fdr import benjamini_hochberg
from metaq.stats.heatmap import plot_correlation_heatmap
from metaq.stats.intervals import CorrelationInterval, correlation_interval
from metaq.stats.outputs import CorrelationOutputs, correlate_files, save_heatmaps, write_table
from metaq.stats.permutation import PermutationTest, correlation_permutation_test
from metaq.stats.reference_study import reference_study_report
from metaq.stats.summary import CorrelationSummary, summarize_correlations

__all__ = [
    "CorrelationInterval",
    "CorrelationOutputs",
    "CorrelationSummary",
    "PermutationTest",
    "benjamini_hochberg",
    "correlate",
    "correlate_files",
    "correlation_interval",
    "correlation_permutation_test",
    "plot_correlation_heatmap",
    "reference_study_report",
    "save_heatmaps",
    "summarize_correlations",
    "write_table",
]
