"""Preview how the first records of a dataset parse (the ``metaq inspect`` command).

It shows the mapping detected and, per record, its examples or why it is a bad record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from metaq.data import Example
from metaq.io.mapping import BadRecord, ColumnMapping
from metaq.io.reader import ReadStats, bad_record_message, parse_records


@dataclass(frozen=True)
class ParsedRecord:
    """One record as the reader sees it.

    Attributes
    ----------
    location : str
        ``<file>:<line>`` (or row/item).
    fields : tuple of str
        The record's field names (empty when it could not be read).
    examples : tuple of Example
        What it becomes (empty for a bad record).
    problem : str
        For a bad record: the error message with its fix.
    """

    location: str
    fields: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    problem: str = ""


@dataclass
class Preview:
    """The mapping used and the first records, parsed."""

    path: Path
    mapping: ColumnMapping | None = None
    records: list[ParsedRecord] = field(default_factory=list)


def preview_records(path: str | Path, *, n: int = 3, mapping: ColumnMapping | None = None,
                    split: str | None = None) -> Preview:
    """Parse the first `n` records of a dataset as :func:`metaq.io.read_examples` would.

    Parameters
    ----------
    path : str or Path
        Dataset file or folder.
    n : int, default 3
        Records to parse.
    mapping : ColumnMapping, optional
        Field names; unset parts are detected from the first readable record.
    split : str, optional
        Split of a ``datasets`` source.

    Returns
    -------
    Preview

    Raises
    ------
    DatasetReadError
        When the file cannot be read at all.

    Examples
    --------
    >>> from metaq.datasets import sample_path
    >>> preview = preview_records(sample_path("gsm8k_train.jsonl"), n=1)
    >>> preview.mapping.describe()
    'question=question,reasoning=reasoning,answer=answer,domain=domain,id=id'
    >>> preview.records[0].examples[0].id
    'gsm8k-train-0001'
    """
    preview = Preview(Path(path))
    stats = ReadStats()
    for raw, examples in parse_records(path, mapping=mapping, split=split, stats=stats):
        preview.mapping = stats.mapping
        fields_ = tuple(map(str, raw.record or ()))
        if isinstance(examples, BadRecord):
            preview.records.append(ParsedRecord(raw.location, fields_,
                                                problem=bad_record_message(examples,
                                                                           raw.location)))
        else:
            preview.records.append(ParsedRecord(raw.location, fields_, tuple(examples)))
        if len(preview.records) >= n:
            break
    return preview
