"""Append imported rows to an existing runs table, validating the result."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metaq.tables.runs import read_runs, validate_runs


def append_runs(new: pd.DataFrame, existing: str | Path | None, *, source: str) -> pd.DataFrame:
    """Validate `new` runs, appended to the runs table at `existing` when given.

    Raises
    ------
    SchemaError
        When the combined table breaks the runs contract (e.g. a run imported twice).
    """
    if existing is None:
        return validate_runs(new, source=source)
    old = read_runs(existing)
    combined = pd.concat([old, new], ignore_index=True)
    return validate_runs(combined, source=f"{existing} with the {source} appended")
