"""Shared checks for the table contracts; every failure names file, row, column and fix."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from metaq.exceptions import SchemaError


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
    """Read a CSV (``#`` comment lines allowed) or Parquet table.

    Raises
    ------
    SchemaError
        When the file does not exist or its format is not CSV/Parquet.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path), TableSource(str(path))
    if suffix in {".csv", ".tsv"}:
        with path.open(encoding="utf-8") as handle:
            leading = 0
            for line in handle:
                if line.startswith("#") or not line.strip():
                    leading += 1
                else:
                    break
        frame = pd.read_csv(
            path, comment="#", sep="\t" if suffix == ".tsv" else ",", keep_default_na=True
        )
        return frame, TableSource(str(path), first_data_line=leading + 2)
    raise SchemaError(f"{path}: unsupported table format {suffix!r}; use .csv or .parquet")


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
        raise SchemaError(
            f"{source.where(row)}, column {column!r}: {raw.iloc[row]!r} is not a number. "
            f"Fix: write a plain decimal number (e.g. 0.613)."
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
                "is an accuracy and must lie in [0, 1]; if it is a percentage, divide by 100")
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
