"""Output paths: check that a file or folder can be written before any expensive work.

A fit of minutes or an extraction of hours must not end in "cannot write": every command
checks its output paths first (:func:`check_output_path`) and writes tables through
:func:`write_table`, which creates missing folders.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from metaq.exceptions import OutputPathError

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".parquet")


def check_output_path(path: str | Path, *, option: str, suffixes: Sequence[str] | None = None,
                      folder: bool = False) -> Path:
    """Raise unless `path` can be written (created with its folders, or overwritten).

    Parameters
    ----------
    path : str or Path
        The output file (or folder, with `folder`).
    option : str
        What the path was given as, for the message (``out`` or ``--out``).
    suffixes : sequence of str, optional
        Accepted file name endings (lower case, with the dot).
    folder : bool, default False
        The path is a folder to create or write into.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputPathError
        On a suffix not in `suffixes`, a folder given for a file (or a file for a folder), a
        path below a regular file, or a place where nothing can be created.

    Examples
    --------
    >>> import tempfile
    >>> check_output_path(f"{tempfile.mkdtemp()}/new/table.csv", option="out",
    ...                   suffixes=(".csv",)).name
    'table.csv'
    """
    path = Path(path)
    if suffixes and not folder and path.suffix.lower() not in suffixes:
        raise OutputPathError(f"{option} {path}: unknown format {path.suffix or '(none)'!r}. "
                              f"Fix: end the name in {' or '.join(suffixes)}.")
    if path.exists():
        _check_existing(path, option, folder)
        return path
    ancestor = next(p for p in path.parents if p.exists() or p == p.parent)
    if not ancestor.is_dir():
        raise OutputPathError(f"{option} {path}: {ancestor} is a file, so nothing can be "
                              f"created below it. Fix: choose a path in a folder.")
    _check_can_create_in(ancestor, path, option)
    return path


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write `table` as CSV or Parquet (by the suffix), creating missing folders.

    Examples
    --------
    >>> import tempfile
    >>> write_table(pd.DataFrame({"a": [1]}), f"{tempfile.mkdtemp()}/x/t.csv").name
    't.csv'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
    logger.info("wrote %s (%d rows)", path, len(table))
    return path


def _check_existing(path: Path, option: str, folder: bool) -> None:
    if folder and not path.is_dir():
        raise OutputPathError(f"{option} {path}: is a file, not a folder. Fix: give a folder "
                              f"(it is created when missing).")
    if folder:
        _check_can_create_in(path, path, option)
        return
    if path.is_dir():
        raise OutputPathError(f"{option} {path}: is a folder. Fix: give a file name (inside "
                              f"it, if you like).")
    try:
        with path.open("ab"):
            pass
    except OSError as err:
        raise OutputPathError(f"{option} {path}: cannot be written ({err.strerror or err}). "
                              f"Fix: choose a writable path.") from err


def _check_can_create_in(folder: Path, path: Path, option: str) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputPathError(f"{option} {path}: nothing can be created in {folder} "
                              f"({err.strerror or err}). Fix: choose a writable folder.") from err
