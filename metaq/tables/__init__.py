"""Table contracts: the runs table, the features table and the targets derived from runs."""

from metaq.tables.features import metric_columns, read_features, validate_features
from metaq.tables.runs import check_runs_have_features, read_runs, validate_runs
from metaq.tables.targets import TARGETS, derive_target

__all__ = [
    "TARGETS",
    "check_runs_have_features",
    "derive_target",
    "metric_columns",
    "read_features",
    "read_runs",
    "validate_features",
    "validate_runs",
]
