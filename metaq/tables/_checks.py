"""Shared checks for the table contracts; every failure names file, row, column and fix."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from metaq.exceptions import SchemaError

_UNNAMED = re.compile(r"Unnamed: \d+(_level_\d+)?")
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")


class TableSource:
    """Where a table came from, to word error messages (file path and first data line)."""

    def __init__(self, name: str, first_data_line: int | None = None) -> None:
        self.name = name
        self.first_data_line = first_data_line

    def where(self, row: int) -> str:
        """Describe data row `row` (0-based position) for an error message."""
        text = f"{self.name}, row {row + 1}"
        if self.first_data_line is not None:
            text += f" (line {self.first_data_line + row})"
        return text


def read_table(path: str | Path) -> tuple[pd.DataFrame, TableSource]:
    """Read a CSV (``#`` comment lines allowed, UTF-8 with or without BOM) or Parquet table.

    Raises
    ------
    SchemaError
        When the file does not exist, is not a regular file, is empty, is not UTF-8 text, is
        malformed CSV or unreadable Parquet, its format is not CSV/Parquet, or a column has
        no name (an index column pandas wrote, ``Unnamed: 0``) or repeats another's name.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no such file" + (" (it is a folder)" if path.is_dir() else "")
                          + ". Fix: check the path.")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame, source = _read_parquet(path), TableSource(str(path))
    elif suffix in {".csv", ".tsv"}:
        frame, source = _read_csv(path, "\t" if suffix == ".tsv" else ",")
    else:
        raise SchemaError(f"{path}: unsupported table format {suffix!r}. Fix: use .csv or "
                          f".parquet.")
    reject_unnamed_columns(frame, source)
    return frame, source


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a corrupt or foreign file
        raise SchemaError(f"{path}: not a readable Parquet file ({type(err).__name__}: "
                          f"{_first_line(err)}). Fix: rewrite it (pandas `to_parquet`) or pass "
                          f"a CSV.") from err


def _read_csv(path: Path, sep: str) -> tuple[pd.DataFrame, TableSource]:
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SchemaError(f"{path}: is UTF-16 text. Fix: save it as UTF-8 CSV (e.g. "
                          f"`iconv -f UTF-16 -t UTF-8`).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise SchemaError(f"{path}:{line}: byte {err.start + 1} is not valid UTF-8 "
                          f"({err.reason}). Fix: save the table as UTF-8 CSV.") from err
    lines = text.splitlines()
    leading = next((i for i, line in enumerate(lines)
                    if line.strip() and not line.startswith("#")), None)
    if leading is None:
        raise SchemaError(f"{path}: is empty (no header line). Fix: write a header line and "
                          f"one row per record.")
    header = next(csv.reader([lines[leading]], delimiter=sep))
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        raise SchemaError(f"{path}: column name(s) {repeated} appear more than once in the "
                          f"header. Fix: give every column its own name.")
    try:
        with warnings.catch_warnings():  # more fields than the header: an error, not an index
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), comment="#", sep=sep, keep_default_na=True,
                                index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        raise SchemaError(f"{path}: malformed CSV ({_first_line(err)}). Fix: give every row "
                          f"as many fields as the header and quote fields that hold {sep!r} or "
                          f"newlines.") from err
    return frame, TableSource(str(path), first_data_line=leading + 2)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _shown(cell: object) -> str:
    """``repr`` of a cell as the user wrote it (numpy scalars as plain Python values)."""
    return repr(cell.item() if isinstance(cell, np.generic) else cell)


def reject_unnamed_columns(frame: pd.DataFrame, source: TableSource) -> None:
    """Raise on a column without a name (pandas reads it as ``Unnamed: <n>``)."""
    unnamed = [str(c) for c in frame.columns if _UNNAMED.fullmatch(str(c)) or not str(c).strip()]
    if unnamed:
        raise SchemaError(
            f"{source.name}: column(s) {unnamed} have no name in the header; usually the row "
            f"index that pandas `to_csv` writes, or a trailing delimiter. Fix: drop them, or "
            f"write the table with `to_csv(..., index=False)`.")


def require_rows(frame: pd.DataFrame, source: TableSource, kind: str) -> None:
    """Raise if the table has no data rows (a header alone)."""
    if frame.empty:
        raise SchemaError(f"{source.name}: the {kind} table has no rows (columns: "
                          f"{list(map(str, frame.columns))}). Fix: add at least one row.")


def require_columns(frame: pd.DataFrame, required: Iterable[str], source: TableSource,
                    kind: str) -> None:
    """Raise if any required column is missing, listing what is there."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{source.name}: the {kind} table is missing column(s) {missing}; it has "
            f"{list(frame.columns)}. Fix: add them (see data/README.md for the {kind} contract)."
        )


def as_numeric(frame: pd.DataFrame, column: str, source: TableSource, *,
               allow_nan: bool) -> pd.Series:
    """Coerce `column` to float, raising on the first non-numeric or (optionally) NaN cell."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        cell = raw.iloc[row]
        hint = ("it has a decimal comma; write a decimal point (e.g. 52.1)"
                if _DECIMAL_COMMA.fullmatch(str(cell).strip())
                else "write a plain decimal number (e.g. 0.613)")
        raise SchemaError(
            f"{source.where(row)}, column {column!r}: {_shown(cell)} is not a number. Fix: {hint}."
        )
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite.to_numpy())[0])
        raise SchemaError(
            f"{source.where(row)}, column {column!r}: {_shown(raw.iloc[row])} is infinite. "
            f"Fix: write a finite number, or leave the cell empty if it is unknown."
        )
    if not allow_nan and values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise SchemaError(
            f"{source.where(row)}, column {column!r}: value is missing (NaN). "
            f"Fix: fill it in or drop the row."
        )
    return values


def require_text(frame: pd.DataFrame, column: str, source: TableSource) -> pd.Series:
    """Return `column` as stripped strings, raising on the first empty cell."""
    values = frame[column]
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise SchemaError(
            f"{source.where(row)}, column {column!r}: value is missing. Fix: fill it in."
        )
    return values.astype(str).str.strip()


def optional_text(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return `column` as stripped strings with missing cells as ``""`` (column may be absent)."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    return values.where(values.notna(), "").astype(str).str.strip().astype(object)


def reject_duplicates(frame: pd.DataFrame, keys: list[str], source: TableSource,
                      kind: str) -> None:
    """Raise on the first row whose key columns repeat an earlier row."""
    dup = frame.duplicated(subset=keys, keep="first")
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        first = int(np.flatnonzero(
            (frame[keys] == frame[keys].iloc[row]).all(axis=1).to_numpy())[0])
        key = ", ".join(f"{k}={frame[k].iloc[row]!r}" for k in keys)
        raise SchemaError(
            f"{source.where(row)}: duplicate {kind} row ({key}) repeats {source.where(first)}. "
            f"Fix: keep one row per ({', '.join(keys)})."
        )


def positive_column(frame: pd.DataFrame, column: str, source: TableSource) -> pd.Series:
    """Return `column` as floats, raising on the first missing or non-positive cell."""
    values = as_numeric(frame, column, source, allow_nan=False)
    raise_first(values <= 0, values, column, source, "must be positive")
    return values


def accuracy_column(frame: pd.DataFrame, column: str, source: TableSource, *,
                    allow_nan: bool) -> pd.Series:
    """Return `column` as floats in [0, 1], raising on the first cell outside."""
    values = as_numeric(frame, column, source, allow_nan=allow_nan)
    outside = values.notna() & ((values < 0) | (values > 1))
    raise_first(outside, values, column, source,
                "is an accuracy and must lie in [0, 1]. Fix: if it is a percentage, divide by "
                "100 (import-csv: --percent)")
    return values


def item_counts(frame: pd.DataFrame, source: TableSource) -> pd.Series:
    """Return the optional ``n_items`` column as a nullable integer (all missing if absent)."""
    if "n_items" not in frame.columns:
        return pd.Series(pd.array([pd.NA] * len(frame), dtype="Int64"), index=frame.index)
    counts = as_numeric(frame, "n_items", source, allow_nan=True)
    bad = counts.notna() & ((counts <= 0) | (counts != np.round(counts)))
    raise_first(bad, counts, "n_items", source, "must be a positive whole number of items")
    return counts.astype("Int64")


def raise_first(mask: pd.Series, values: pd.Series, column: str, source: TableSource,
                problem: str) -> None:
    """Raise naming the first row where `mask` holds, its value and the `problem`."""
    if mask.any():
        row = int(np.flatnonzero(mask.to_numpy())[0])
        raise SchemaError(f"{source.where(row)}, column {column!r}: {float(values.iloc[row])!r} "
                          f"{problem}.")
