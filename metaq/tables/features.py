"""The features table: intrinsic metrics of each dataset (optionally per domain).

Columns
-------
dataset_id : str
    The dataset.
domain : str, optional
    A domain of the dataset; ``""`` for the whole dataset.
<metric> : float
    Any numeric column is a metric (e.g. ``redundancy_ratio``, ``factuality``).
<metric>__se : float, optional
    The standard error of ``<metric>`` (>= 0), e.g. from the judge's subsample.
n_<what> : int, optional
    Counts (``n_examples``, ``n_scored``, ``n_steps``, ...): bookkeeping, not metrics.
meta__<what> : str, optional
    Provenance (extractor versions, model ids): never used as metrics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from metaq.exceptions import SchemaError
from metaq.tables._checks import (
    TableSource,
    as_numeric,
    optional_text,
    read_table,
    reject_duplicates,
    reject_unnamed_columns,
    require_columns,
    require_rows,
    require_text,
)

SE_SUFFIX = "__se"
COUNT_PREFIX = "n_"
META_PREFIX = "meta__"
KEY = ["dataset_id", "domain"]


def metric_columns(features: pd.DataFrame) -> list[str]:
    """Names of the metric columns of a features table, in table order.

    A metric is any column that is not a key (``dataset_id``, ``domain``), a standard error
    (``*__se``), a count (``n_*``) or provenance (``meta__*``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame(columns=["dataset_id", "validity", "validity__se", "n_examples"])
    >>> metric_columns(t)
    ['validity']
    """
    return [c for c in features.columns if _is_metric_name(str(c))]


def _is_metric_name(column: str) -> bool:
    return not (column in KEY or column.endswith(SE_SUFFIX) or column.startswith(COUNT_PREFIX)
                or column.startswith(META_PREFIX))


def read_features(path: str | Path, *, allow_missing: bool = False) -> pd.DataFrame:
    """Read and validate a features table from CSV or Parquet.

    Parameters
    ----------
    path : str or Path
        The table file.
    allow_missing : bool, default False
        Accept missing metric values (NaN); forecasting integrates over them.

    Returns
    -------
    pandas.DataFrame
        The validated table (see :func:`validate_features`).

    Examples
    --------
    >>> from metaq.datasets import study_path
    >>> features = read_features(study_path("features"))
    >>> features.loc[features["dataset_id"] == "Detailed", "redundancy_ratio"].item()
    0.623
    """
    frame, source = read_table(path)
    return validate_features(frame, source=source, allow_missing=allow_missing)


def validate_features(frame: pd.DataFrame, *, source: TableSource | str = "features table",
                      allow_missing: bool = False) -> pd.DataFrame:
    """Validate a features table and return a normalised copy.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table.
    source : TableSource or str
        Name used in error messages.
    allow_missing : bool, default False
        Accept NaN metric values (they are then integrated over when forecasting).

    Returns
    -------
    pandas.DataFrame
        Keys as stripped text (``domain`` ``""`` for whole-dataset rows), metrics and
        standard errors as floats, counts as nullable integers, provenance as text.

    Raises
    ------
    SchemaError
        On a missing ``dataset_id``, no rows, a column without a name, a non-numeric or
        infinite metric, a NaN metric (unless allowed), a standard error without its metric
        or below zero, or a duplicate (dataset, domain).
    """
    source = source if isinstance(source, TableSource) else TableSource(source)
    reject_unnamed_columns(frame, source)
    require_columns(frame, ["dataset_id"], source, "features")
    require_rows(frame, source, "features")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    out["dataset_id"] = require_text(frame, "dataset_id", source)
    out["domain"] = optional_text(frame, "domain")
    metrics = metric_columns(frame)
    if not metrics:
        raise SchemaError(f"{source.name}: the features table has no metric column (columns: "
                          f"{list(frame.columns)}). Fix: add at least one numeric metric.")
    for column in frame.columns:
        name = str(column)
        if name in KEY:
            continue
        if name.startswith(META_PREFIX):
            out[name] = optional_text(frame, name)
        elif name.startswith(COUNT_PREFIX):
            out[name] = as_numeric(frame, name, source, allow_nan=True).astype("Int64")
        elif name.endswith(SE_SUFFIX):
            out[name] = _standard_error(frame, name, metrics, source)
        else:
            out[name] = _metric(frame, name, source, allow_missing)
    reject_duplicates(out, KEY, source, "features")
    return out


def _metric(frame: pd.DataFrame, column: str, source: TableSource,
            allow_missing: bool) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(frame[column]) and frame[column].notna().any():
        as_number = pd.to_numeric(frame[column], errors="coerce")
        if as_number.isna().all():
            raise SchemaError(
                f"{source.name}, column {column!r}: holds text ({frame[column].iloc[0]!r}), so "
                f"it cannot be a metric. Fix: make it numeric, or prefix it with "
                f"{META_PREFIX!r} if it is provenance."
            )
    values = as_numeric(frame, column, source, allow_nan=True)
    if not allow_missing and values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise SchemaError(
            f"{source.where(row)}, column {column!r}: metric value is missing (NaN). Fix: "
            f"extract it, drop the column, or forecast with missing features allowed."
        )
    return values


def _standard_error(frame: pd.DataFrame, column: str, metrics: list[str],
                    source: TableSource) -> pd.Series:
    metric = column[: -len(SE_SUFFIX)]
    if metric not in metrics:
        raise SchemaError(f"{source.name}, column {column!r}: a standard error without its "
                          f"metric column {metric!r}. Fix: add {metric!r} or drop {column!r}.")
    values = as_numeric(frame, column, source, allow_nan=True)
    negative = values < 0
    if negative.any():
        row = int(np.flatnonzero(negative.to_numpy())[0])
        raise SchemaError(f"{source.where(row)}, column {column!r}: standard error "
                          f"{float(values.iloc[row])!r} is negative. Fix: it must be >= 0.")
    return values
