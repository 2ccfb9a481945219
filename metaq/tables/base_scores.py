"""The untuned-scores table: a base model's own benchmark scores, known before fine-tuning.

A forecast for a base model outside the predictor's training runs has to guess the model's
untuned level from its size and family. Evaluating the untuned model is cheap, so a user
usually knows it; this table passes it in (``metaq forecast --base-scores``).

Columns
-------
base_model : str
    The target model (``target_model`` is accepted as its name).
benchmark : str
    The benchmark.
domain : str, optional
    A sub-domain of the benchmark; empty for the whole benchmark.
score_base : float
    Accuracy of the untuned model in [0, 1].
n_items : int, optional
    Number of benchmark items behind the score; with it the score's binomial uncertainty is
    carried into the forecast, without it the score is taken as exact.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metaq.tables._checks import (
    TableSource,
    accuracy_column,
    item_counts,
    optional_text,
    read_table,
    reject_duplicates,
    reject_unnamed_columns,
    require_columns,
    require_rows,
    require_text,
)

REQUIRED = ("base_model", "benchmark", "score_base")
KEY = ["base_model", "benchmark", "domain"]


def read_base_scores(path: str | Path) -> pd.DataFrame:
    """Read and validate an untuned-scores table from CSV or Parquet.

    Parameters
    ----------
    path : str or Path
        The table file.

    Returns
    -------
    pandas.DataFrame
        See :func:`validate_base_scores`.

    Raises
    ------
    SchemaError
        With the file, row, column and fix of the first problem found.
    """
    frame, source = read_table(path)
    return validate_base_scores(frame, source=source)


def validate_base_scores(frame: pd.DataFrame, *,
                         source: TableSource | str = "untuned-scores table") -> pd.DataFrame:
    """Validate an untuned-scores table and return a normalised copy.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table (extra columns are ignored).
    source : TableSource or str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        ``base_model, benchmark, domain, score_base, n_items``, one row per (base_model,
        benchmark, domain); ``n_items`` is a nullable integer.

    Raises
    ------
    SchemaError
        On a missing column, a missing or out-of-range score, a bad item count, or two
        rows for one model and benchmark.

    Examples
    --------
    >>> validate_base_scores(pd.DataFrame({"target_model": ["my-3b"], "benchmark": ["gsm8k"],
    ...                                    "score_base": [0.41], "n_items": [1319]}))
      base_model benchmark domain  score_base  n_items
    0      my-3b     gsm8k               0.41     1319
    """
    source = source if isinstance(source, TableSource) else TableSource(source)
    if "base_model" not in frame.columns and "target_model" in frame.columns:
        frame = frame.rename(columns={"target_model": "base_model"})
    reject_unnamed_columns(frame, source)
    require_columns(frame, REQUIRED, source, "untuned-scores")
    require_rows(frame, source, "untuned-scores")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column in ("base_model", "benchmark"):
        out[column] = require_text(frame, column, source)
    out["domain"] = optional_text(frame, "domain")
    out["score_base"] = accuracy_column(frame, "score_base", source, allow_nan=False)
    out["n_items"] = item_counts(frame, source)
    reject_duplicates(out, KEY, source, "untuned-score")
    return out
