"""The per-example result cache: one SQLite file, append-only, crash-safe.

Each row holds the scores one extractor configuration gave one example, keyed by
``(extractor cache key, example content hash)``. The cache key names the extractor, its version
and a hash of its config (:meth:`metaq.features.base.Extractor.cache_key`), so changing one
extractor's model or options recomputes only that extractor, and equal texts in different
files share their results.

Durability: the database runs in WAL mode and every batch is written in one transaction, so
a process killed at any point (even ``kill -9``) leaves every committed batch intact and no
half-written batch; a restarted run scores exactly the examples that are not yet stored.
Rows are inserted with ``INSERT OR IGNORE``, so an example is never stored twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metaq.exceptions import MetaqError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    extractor TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (extractor, content_hash)
) WITHOUT ROWID
"""
# SQLite caps the number of host parameters of one statement; stay well below it.
_MAX_PARAMS = 900


class ScoreStore:
    """Cache of per-example scores in ``<cache_dir>/scores.sqlite`` (or in memory).

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder of the cache (created if needed). ``None`` keeps results in memory only.

    Examples
    --------
    >>> store = ScoreStore(None)
    >>> store.put_many("redundancy@1-abc", {"h1": {"redundancy_ratio": 0.5}})
    >>> store.get_many("redundancy@1-abc", ["h1", "h2"])
    {'h1': {'redundancy_ratio': 0.5}}
    """

    FILENAME = "scores.sqlite"

    def __init__(self, cache_dir: str | Path | None) -> None:
        self.path = None if cache_dir is None else Path(cache_dir) / self.FILENAME
        self._connection: sqlite3.Connection | None = None

    @property
    def connection(self) -> sqlite3.Connection:
        """The open database connection (opened on first use)."""
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            connection = sqlite3.connect(":memory:")
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=60)
                connection.execute("PRAGMA journal_mode=WAL")
            except (OSError, sqlite3.Error) as err:
                raise MetaqError(f"cannot open the result cache {self.path}: {err}. Fix: pass "
                                 f"a writable --cache folder.") from err
            connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(_SCHEMA)
        connection.commit()
        return connection

    def get_many(self, extractor: str, hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Return the stored scores of `extractor` for those of `hashes` that are cached.

        Parameters
        ----------
        extractor : str
            The extractor's cache key.
        hashes : sequence of str
            Example content hashes.

        Returns
        -------
        dict
            Content hash -> scores, only for the hashes found.
        """
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), _MAX_PARAMS):
            chunk = unique[start:start + _MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                f"SELECT content_hash, payload FROM scores WHERE extractor = ? "  # noqa: S608
                f"AND content_hash IN ({marks})", (extractor, *chunk))
            found.update((h, decode_scores(p)) for h, p in rows)
        return found

    def put_many(self, extractor: str, scores: Mapping[str, Mapping[str, Any]]) -> None:
        """Store the scores of a batch in one transaction (existing rows are kept).

        Parameters
        ----------
        extractor : str
            The extractor's cache key.
        scores : mapping
            Content hash -> that example's scores.
        """
        with self.connection:
            self.connection.executemany(
                "INSERT OR IGNORE INTO scores (extractor, content_hash, payload) VALUES (?, ?, ?)",
                ((extractor, h, encode_scores(s)) for h, s in scores.items()))

    def count(self, extractor: str | None = None) -> int:
        """Count the stored rows, for one extractor key or in total."""
        if extractor is None:
            return self.connection.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        return self.connection.execute(
            "SELECT COUNT(*) FROM scores WHERE extractor = ?", (extractor,)).fetchone()[0]

    def keys(self) -> list[str]:
        """Return the extractor cache keys that have stored rows."""
        rows = self.connection.execute("SELECT DISTINCT extractor FROM scores ORDER BY 1")
        return [r[0] for r in rows]

    def close(self) -> None:
        """Close the connection (reopened on next use)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def encode_scores(scores: Mapping[str, Any]) -> str:
    """One example's scores as JSON (NaN and infinity round-trip exactly)."""
    return json.dumps(dict(scores), separators=(",", ":"), sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    # numpy scalars (float32, int64, bool_) -> the Python number they hold
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"score value {value!r} of type {type(value).__name__} is not a number "
                    f"or string; extractors must return plain scalars")


def decode_scores(payload: str) -> dict[str, Any]:
    """Inverse of :func:`encode_scores`."""
    return json.loads(payload)
