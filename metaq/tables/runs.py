"""The runs table: past fine-tuning results, one row per (dataset, base model, benchmark[, domain]).

Columns
-------
dataset_id : str
    The fine-tuning dataset (must have a row in the features table).
base_model : str
    The model that was fine-tuned.
params_b : float
    Its size in billions of parameters (> 0).
family : str
    Its architecture family (e.g. ``llama``, ``mistral``, ``qwen``).
benchmark : str
    The benchmark, e.g. ``mot_pl_eval``.
domain : str, optional
    A sub-domain of the benchmark; empty for the whole benchmark.
score_base : float
    Accuracy of the untuned base model in [0, 1]; may be missing (NaN).
score_ft : float
    Accuracy after fine-tuning, in [0, 1].
n_items : int, optional
    Number of benchmark items behind each score (gives its binomial noise).
study : str, optional
    The publication (or evaluation campaign) that printed the run. Where present it is part
    of the run key: the same dataset, base model and benchmark printed by two studies are two
    runs, and the predictor gives each study its own evaluation protocol.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from metaq.exceptions import SchemaError
from metaq.tables._checks import (
    TableSource,
    accuracy_column,
    item_counts,
    optional_text,
    positive_column,
    raise_first,
    read_table,
    reject_duplicates,
    reject_unnamed_columns,
    require_columns,
    require_rows,
    require_text,
)

logger = logging.getLogger(__name__)

REQUIRED = ("dataset_id", "base_model", "params_b", "family", "benchmark", "score_base",
            "score_ft")
OPTIONAL = ("domain", "n_items", "study")
KEY = ["dataset_id", "base_model", "benchmark", "domain"]
#: The optional column naming the study that printed a run (part of the key where present).
STUDY = "study"
#: Largest plausible model size in billions of parameters (10 trillion parameters).
MAX_PARAMS_B = 1e4


def read_runs(path: str | Path) -> pd.DataFrame:
    """Read and validate a runs table from CSV or Parquet.

    Parameters
    ----------
    path : str or Path
        The table file.

    Returns
    -------
    pandas.DataFrame
        The validated table (see :func:`validate_runs`).

    Raises
    ------
    SchemaError
        With the file, row, column and fix of the first problem found.

    Examples
    --------
    >>> from metaq.datasets import study_path
    >>> runs = read_runs(study_path("runs"))
    >>> sorted(runs["base_model"].unique())
    ['Bielik-11B-v2.6-Instruct', 'PLLuM-8B-instruct']
    """
    frame, source = read_table(path)
    return validate_runs(frame, source=source)


def validate_runs(frame: pd.DataFrame, *, source: TableSource | str = "runs table"
                  ) -> pd.DataFrame:
    """Validate a runs table and return a normalised copy.

    Text columns are stripped, ``domain`` is ``""`` for whole-benchmark rows, scores and
    ``params_b`` are floats and ``n_items`` is a nullable integer. An optional ``study``
    column holds non-empty text labels and joins the run key.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table.
    source : TableSource or str
        Name used in error messages (a file path when read from disk).

    Returns
    -------
    pandas.DataFrame
        The normalised table, with columns in contract order followed by any extra columns.

    Raises
    ------
    SchemaError
        On a missing column, no rows, a column without a name, a non-numeric, infinite or
        missing score, an accuracy outside [0, 1], a size that is not a positive number of
        billions, a bad item count, an empty text cell (``study`` included), or a
        duplicate key.
    """
    source = source if isinstance(source, TableSource) else TableSource(source)
    reject_unnamed_columns(frame, source)
    require_columns(frame, REQUIRED, source, "runs")
    require_rows(frame, source, "runs")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column in ("dataset_id", "base_model", "family", "benchmark"):
        out[column] = require_text(frame, column, source)
    out["domain"] = optional_text(frame, "domain")
    out["params_b"] = positive_column(frame, "params_b", source)
    raise_first(out["params_b"] > MAX_PARAMS_B, out["params_b"], "params_b", source,
                f"is not a size in billions of parameters (above {MAX_PARAMS_B:g}). Fix: give "
                f"billions, e.g. 7 for a 7B model (a raw count divided by 1e9)")
    for column in ("score_base", "score_ft"):
        out[column] = accuracy_column(frame, column, source, allow_nan=column == "score_base")
    out["n_items"] = item_counts(frame, source)
    if STUDY in frame.columns:
        out[STUDY] = require_text(frame, STUDY, source).astype(object)
    reject_duplicates(out, run_key(out), source, "run")
    _check_consistent_model_attributes(out, source)
    missing_base = int(out["score_base"].isna().sum())
    if missing_base:
        logger.info("%s: %d run(s) have no score_base; the untuned level is then unknown",
                    source.name, missing_base)
    extra = [c for c in frame.columns if c not in out.columns]
    return pd.concat([out, frame[extra]], axis=1)


def run_key(runs: pd.DataFrame) -> list[str]:
    """Columns identifying a run: :data:`KEY`, plus ``study`` where the table has one.

    Examples
    --------
    >>> run_key(pd.DataFrame(columns=["dataset_id", "study"]))[-1]
    'study'
    """
    return [*KEY, STUDY] if STUDY in runs.columns else list(KEY)


def check_runs_have_features(runs: pd.DataFrame, features: pd.DataFrame, *,
                             runs_name: str = "runs table",
                             features_name: str = "features table") -> None:
    """Raise if a dataset of the runs table has no row in the features table.

    Raises
    ------
    SchemaError
        Naming the datasets without features and those the features table has.
    """
    known = set(features["dataset_id"].astype(str))
    missing = sorted(set(runs["dataset_id"]) - known)
    if missing:
        raise SchemaError(
            f"{runs_name}: dataset(s) {missing} have runs but no row in {features_name} "
            f"(it has {sorted(known)}). Fix: extract their features (`metaq extract`) or "
            f"correct the dataset_id."
        )


def _check_consistent_model_attributes(out: pd.DataFrame, source: TableSource) -> None:
    for column in ("params_b", "family"):
        per_model = out.groupby("base_model")[column].nunique()
        clash = per_model[per_model > 1]
        if not clash.empty:
            model = clash.index[0]
            values = sorted(out.loc[out["base_model"] == model, column].astype(str).unique())
            raise SchemaError(
                f"{source.name}: base_model {model!r} has several values of {column!r}: "
                f"{values}. Fix: one model has one {column}; rename the models if they differ."
            )
