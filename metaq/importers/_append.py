"""Append imported rows to a runs table, validating the result."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from metaq.tables._checks import read_table
from metaq.tables.runs import validate_runs

logger = logging.getLogger(__name__)


def append_runs(new: pd.DataFrame, existing: str | Path | None, *, source: str) -> pd.DataFrame:
    """Validate `new` runs, appended to the runs table at `existing` when given.

    A file `existing` that does not exist yet, or holds only a header, is started with the
    new rows.

    Raises
    ------
    SchemaError
        When the combined table breaks the runs contract (e.g. a run imported twice).
    """
    if existing is None:
        return validate_runs(new, source=source)
    if not Path(existing).exists():
        logger.info("%s does not exist yet; it will hold the %s", existing, source)
        return validate_runs(new, source=source)
    old, table_source = read_table(existing)
    if old.empty:
        return validate_runs(new, source=source)
    old = validate_runs(old, source=table_source)
    combined = pd.concat([old, new], ignore_index=True)
    return validate_runs(combined, source=f"{existing} with the {source} appended")
