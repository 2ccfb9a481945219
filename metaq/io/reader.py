"""Read a dataset as a stream of :class:`~metaq.features.base.Example` batches.

Bad records are never dropped silently. With ``on_error="stop"`` (the default) the first one
raises :class:`~metaq.exceptions.DatasetReadError` naming the file, line, problem and fix.
With ``on_error="skip"`` reading goes on and every skipped record is counted per reason in a
:class:`ReadStats` (the runner writes the counts as ``n_skipped`` and ``n_skipped_<reason>``
columns) and logged at warning level.

Reasons: ``invalid_json``, ``not_utf8``, ``too_long`` (a record over ``max_record_bytes``),
``not_an_object``, ``missing_field`` (no question or no reasoning), ``bad_type``,
``bad_chat`` and ``empty_reasoning``. An empty (or whitespace-only) reasoning is a bad record:
the metrics of a trace are undefined without a trace, and counting such rows as zero-length
traces would bias every mean. Upstream data does contain them (one GSM8K equations-only row),
so datasets known to have them need ``on_error="skip"``, which reports how many there were.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from metaq.data import Example
from metaq.exceptions import DatasetReadError
from metaq.io.mapping import BadRecord, ColumnMapping, record_to_examples
from metaq.io.records import DEFAULT_MAX_RECORD_BYTES, RawRecord, dataset_stem, iter_records

logger = logging.getLogger(__name__)

OnError = Literal["stop", "skip"]

_FIXES = {
    "invalid_json": "repair the line, or pass on_error='skip' (CLI: --on-error skip)",
    "not_utf8": "re-encode the file as UTF-8, or skip the record with --on-error skip",
    "too_long": "raise max_record_bytes if the record is genuine, or skip it",
    "not_an_object": "write one JSON object per record",
    "missing_field": "map the fields explicitly (CLI: --columns question=FIELD,reasoning=FIELD)"
                     " or skip the record",
    "bad_type": "make the field a string, or map another field with --columns",
    "bad_chat": "give the record a user turn and a final assistant turn, or skip it",
    "empty_reasoning": "drop the record, or pass --on-error skip to skip and count it",
}


@dataclass
class ReadStats:
    """What reading one dataset met: good records and skipped ones per reason.

    Attributes
    ----------
    n_examples : int
        Records turned into examples.
    skipped : collections.Counter
        Bad-record reason -> count (only with ``on_error="skip"``).
    mapping : ColumnMapping or None
        The mapping used (after auto-detection), once a record has been read.
    """

    n_examples: int = 0
    skipped: Counter = field(default_factory=Counter)
    mapping: ColumnMapping | None = None

    @property
    def n_skipped(self) -> int:
        """Total number of skipped records."""
        return sum(self.skipped.values())


def iter_example_batches(path: str | Path, *, mapping: ColumnMapping | None = None,
                         on_error: OnError = "stop", batch_size: int = 256,
                         split: str | None = None, stats: ReadStats | None = None,
                         max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
                         ) -> Iterator[list[Example]]:
    """Stream the examples of a dataset in batches of at most `batch_size`.

    Parameters
    ----------
    path : str or Path
        Dataset file or folder (see :func:`metaq.io.records.iter_records` for the formats).
    mapping : ColumnMapping, optional
        Field names; parts left unset are detected from the first readable record.
    on_error : {"stop", "skip"}
        What a bad record does: raise, or be skipped and counted in `stats`.
    batch_size : int
        Examples per batch.
    split : str, optional
        Split of a ``datasets`` source.
    stats : ReadStats, optional
        Filled in while reading (counts and the mapping used).
    max_record_bytes : int
        Longest accepted JSONL line.

    Yields
    ------
    list of Example
        Consecutive examples in file order; ids default to ``<stem>:<position>``.

    Raises
    ------
    DatasetReadError
        On the first bad record when `on_error` is ``"stop"``, or an unreadable file.

    Examples
    --------
    >>> from metaq.datasets import sample_path
    >>> batches = iter_example_batches(sample_path("gsm8k_train.jsonl"), batch_size=100)
    >>> [len(b) for b in batches]
    [100, 100, 100]
    """
    if on_error not in ("stop", "skip"):
        raise DatasetReadError(f"on_error={on_error!r} is not a policy; use 'stop' or 'skip'.")
    if batch_size < 1:
        raise DatasetReadError(f"batch_size={batch_size} must be >= 1.")
    stats = stats if stats is not None else ReadStats()
    batch: list[Example] = []
    announced = False
    for raw, examples in parse_records(path, mapping=mapping, split=split, stats=stats,
                                       max_record_bytes=max_record_bytes):
        if not announced and stats.mapping is not None:
            logger.info("%s: fields %s", path, stats.mapping.describe())
            announced = True
        if isinstance(examples, BadRecord):
            _handle_bad_record(examples, raw.location, on_error, stats)
            continue
        stats.n_examples += len(examples)
        batch.extend(examples)
        while len(batch) >= batch_size:
            yield batch[:batch_size]
            batch = batch[batch_size:]
    if batch:
        yield batch


def parse_records(path: str | Path, *, mapping: ColumnMapping | None = None,
                  split: str | None = None, stats: ReadStats | None = None,
                  max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
                  ) -> Iterator[tuple[RawRecord, list[Example] | BadRecord]]:
    """Yield each record with its examples, or the :class:`BadRecord` saying why it has none.

    The mapping is completed from the first readable record and kept in ``stats.mapping``.
    """
    stats = stats if stats is not None else ReadStats()
    stem = dataset_stem(path)
    for raw in iter_records(path, split=split, max_record_bytes=max_record_bytes):
        try:
            if raw.problem:
                raise BadRecord(raw.problem, raw.detail)
            if stats.mapping is None:
                stats.mapping = (mapping or ColumnMapping()).completed(raw.record)
            yield raw, record_to_examples(raw.record, stats.mapping,
                                          fallback_id=f"{stem}:{raw.index + 1}",
                                          location=raw.location)
        except BadRecord as bad:
            yield raw, bad


def read_examples(path: str | Path, **options: object) -> list[Example]:
    """Read a whole (small) dataset into a list; see :func:`iter_example_batches`."""
    return [ex for batch in iter_example_batches(path, **options) for ex in batch]


def bad_record_message(bad: BadRecord, location: str) -> str:
    """``<location>: <reason>: <detail>. Fix: <fix>.`` for a bad record."""
    return (f"{location}: {bad.reason.replace('_', ' ')}: {bad.detail}. "
            f"Fix: {bad.fix or _FIXES[bad.reason]}.")


def _handle_bad_record(bad: BadRecord, location: str, on_error: OnError,
                       stats: ReadStats) -> None:
    if on_error == "stop":
        raise DatasetReadError(bad_record_message(bad, location))
    stats.skipped[bad.reason] += 1
    logger.warning("skipped %s: %s: %s", location, bad.reason.replace("_", " "), bad.detail)
