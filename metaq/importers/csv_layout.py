"""Runs from tables in other layouts: a column mapping onto the runs contract.

Published and home-made result tables come in two shapes:

* long: one row per (dataset, model, benchmark) score. Map each runs column to a source
  column (``columns={"dataset_id": "data", "score_ft": "score", ...}``).
* wide: one row per (dataset, model) with one score column per benchmark. Name those
  columns in ``wide``; each becomes a ``benchmark`` with its cell as ``score_ft``.

The untuned model's score comes from a mapped column (``score_base``), or from rows of the
same table that hold the untuned model (``base_rows=("dataset", "Vanilla")``), matched on
base model, benchmark and domain; otherwise it stays missing. Columns the table lacks but
that are constant (``family``, ``params_b``, ``n_items``) are given in ``constants``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from metaq.exceptions import SchemaError
from metaq.importers._append import append_runs
from metaq.tables._checks import TableSource, as_numeric, read_table
from metaq.tables.runs import OPTIONAL, REQUIRED

logger = logging.getLogger(__name__)

RUNS_COLUMNS: tuple[str, ...] = (*REQUIRED, *OPTIONAL)
_PAIR_KEY = ["base_model", "benchmark", "domain"]


def import_csv(table: str | Path | pd.DataFrame, *, columns: Mapping[str, str],
               constants: Mapping[str, str | float] | None = None,
               wide: Sequence[str] | None = None,
               base_rows: tuple[str, str] | None = None,
               percent: bool = False,
               append: str | Path | None = None) -> pd.DataFrame:
    """Convert a long or wide results table into a validated runs table.

    Parameters
    ----------
    table : str, Path or pandas.DataFrame
        The source table (CSV with ``#`` comment lines, or Parquet) or a frame.
    columns : mapping of str to str
        Runs column -> source column, e.g. ``{"dataset_id": "dataset", "score_ft": "score"}``.
    constants : mapping of str to str or float, optional
        Runs column -> one value for every row, e.g. ``{"family": "llama", "n_items": 1319}``.
    wide : sequence of str, optional
        Source columns that each hold one benchmark's score (wide layout); their names become
        ``benchmark`` values. Then ``benchmark`` and ``score_ft`` must not be mapped.
    base_rows : (str, str), optional
        ``(source column, value)`` marking rows with the untuned model's scores; they fill
        ``score_base`` of the other rows with the same base model, benchmark and domain.
    percent : bool, default False
        Scores are percentages: divide ``score_base`` and ``score_ft`` by 100.
    append : str or Path, optional
        An existing runs table to which the rows are appended.

    Returns
    -------
    pandas.DataFrame
        The validated runs table (existing rows of `append` first).

    Raises
    ------
    SchemaError
        On an unknown runs column, a source column that does not exist, a runs column given
        twice or not at all, a score that is not a number (e.g. a decimal comma), `percent`
        on scores that are all fractions, or rows that break the runs contract.

    Examples
    --------
    >>> import pandas as pd
    >>> wide_table = pd.DataFrame({"data": ["Vanilla", "Alpaca"], "GSM": [14.5, 18.0],
    ...                            "BBH": [39.3, 38.5]})
    >>> runs = import_csv(wide_table, columns={"dataset_id": "data"}, wide=["GSM", "BBH"],
    ...                   constants={"base_model": "LLaMA-13B", "params_b": 13,
    ...                              "family": "llama"},
    ...                   base_rows=("data", "Vanilla"), percent=True)
    >>> runs[["dataset_id", "benchmark", "score_base", "score_ft"]]
      dataset_id benchmark  score_base  score_ft
    0     Alpaca       GSM       0.145     0.180
    1     Alpaca       BBH       0.393     0.385
    """
    frame, source = _read(table)
    name = source.name
    constants = dict(constants or {})
    _check_mapping(frame, name, columns, constants, wide, base_rows)
    _check_scores(frame, source, [columns[c] for c in ("score_base", "score_ft") if c in columns]
                  + list(wide or ()), percent)
    is_base = _base_mask(frame, base_rows)
    runs = _to_long(frame, columns, wide)
    for column, value in constants.items():
        runs[column] = value
    if base_rows is not None:
        runs = _pair_with_base_rows(runs, is_base, name, base_rows)
    if percent:
        for column in ("score_base", "score_ft"):
            runs[column] = pd.to_numeric(runs[column], errors="coerce") / 100.0
    runs = runs[[c for c in RUNS_COLUMNS if c in runs.columns]]
    logger.info("%s: %d run row(s) imported", name, len(runs))
    return append_runs(runs, append, source=f"rows imported from {name}")


def _read(table: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, TableSource]:
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True), TableSource("the given table")
    return read_table(table)


def _check_scores(frame: pd.DataFrame, source: TableSource, score_columns: list[str],
                  percent: bool) -> None:
    """Refuse non-numeric scores in the source table, and `percent` on fractions."""
    values = pd.concat([as_numeric(frame, c, source, allow_nan=True) for c in score_columns])
    if percent and values.notna().any() and (values.abs() <= 1).all():
        raise SchemaError(
            f"{source.name}: percent=True (--percent) divides the scores by 100, but every "
            f"score in {score_columns} is at most 1 (largest {values.abs().max():g}): they are "
            f"fractions already. Fix: drop percent (--percent).")


def _check_mapping(frame: pd.DataFrame, name: str, columns: Mapping[str, str],
                   constants: Mapping[str, object], wide: Sequence[str] | None,
                   base_rows: tuple[str, str] | None) -> None:
    given = [*columns, *constants]
    unknown = sorted(set(given) - set(RUNS_COLUMNS))
    if unknown:
        raise SchemaError(f"{name}: {unknown} are not runs-table columns; map onto "
                          f"{list(RUNS_COLUMNS)}.")
    twice = sorted({c for c in given if given.count(c) > 1})
    if twice:
        raise SchemaError(f"{name}: {twice} given both as a mapped column and as a constant. "
                          f"Fix: give each runs column once.")
    if base_rows and "score_base" in given:
        raise SchemaError(f"{name}: 'score_base' is mapped and also taken from the rows with "
                          f"{base_rows[0]}={base_rows[1]!r}. Fix: use one of the two.")
    if wide and {"benchmark", "score_ft"} & set(given):
        raise SchemaError(f"{name}: in the wide layout the benchmark names and scores come from "
                          f"the columns {list(wide)}. Fix: do not also map 'benchmark' or "
                          f"'score_ft'.")
    sources = [*columns.values(), *(wide or ()), *([base_rows[0]] if base_rows else [])]
    absent = [c for c in sources if c not in frame.columns]
    if absent:
        raise SchemaError(f"{name}: no column(s) {absent}; the table has {list(frame.columns)}. "
                          f"Fix: correct the mapping.")
    provided = set(given) | ({"benchmark", "score_ft"} if wide else set())
    provided |= {"score_base"} if base_rows else set()
    missing = [c for c in REQUIRED if c not in provided]
    if missing:
        raise SchemaError(f"{name}: nothing provides the runs column(s) {missing}. Fix: map "
                          f"them to a source column or give them as constants.")


def _base_mask(frame: pd.DataFrame, base_rows: tuple[str, str] | None) -> pd.Series:
    if base_rows is None:
        return pd.Series(False, index=frame.index)
    column, value = base_rows
    mask = frame[column].astype(str).str.strip() == str(value)
    if not mask.any():
        shown = sorted(frame[column].astype(str).unique())[:10]
        raise SchemaError(f"no row has {column}={value!r} to give the untuned scores (values "
                          f"include {shown}). Fix: correct the base-rows value.")
    return mask


def _to_long(frame: pd.DataFrame, columns: Mapping[str, str],
             wide: Sequence[str] | None) -> pd.DataFrame:
    renamed = pd.DataFrame({target: frame[src] for target, src in columns.items()},
                           index=frame.index)
    if not wide:
        return renamed
    parts = []
    for benchmark in wide:
        part = renamed.copy()
        part["benchmark"] = benchmark
        part["score_ft"] = frame[benchmark]
        parts.append(part)
    return pd.concat(parts).sort_index(kind="stable")


def _pair_with_base_rows(runs: pd.DataFrame, is_base: pd.Series, name: str,
                         base_rows: tuple[str, str]) -> pd.DataFrame:
    base_mask = is_base.reindex(runs.index).to_numpy()
    key = [c for c in _PAIR_KEY if c in runs.columns]
    base = runs.loc[base_mask, [*key, "score_ft"]].rename(columns={"score_ft": "score_base"})
    repeated = base.duplicated(subset=key)
    if repeated.any():
        first = base.loc[repeated, key].iloc[0].to_dict()
        raise SchemaError(f"{name}: several rows with {base_rows[0]}={base_rows[1]!r} give the "
                          f"untuned score of {first}. Fix: keep one per {key}.")
    tuned = runs.loc[~base_mask].reset_index(drop=True)
    return tuned.merge(base, on=key, how="left", validate="many_to_one")
