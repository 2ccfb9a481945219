"""Raw records from dataset files, streamed, with the location of each and of each bad one.

Every source yields :class:`RawRecord` items: either a record (a ``dict``) or a problem found
while reading it (invalid JSON, non-UTF-8 bytes, an over-long line), always with its
location, so the policy of what to do with bad records lives in one place
(:mod:`metaq.io.reader`). Memory stays bounded: JSONL and CSV are read line by line, Parquet
by record batches, saved ``datasets`` through their memory-mapped Arrow files. Plain JSON
(one array or object) is the exception: it is parsed whole, so prefer JSONL for large data.
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from metaq._optional import require
from metaq.exceptions import DatasetReadError

#: Longest accepted record (one JSONL line), in bytes; longer ones are bad records.
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 20
FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json", ".parquet", ".csv", ".tsv")


@dataclass(frozen=True)
class RawRecord:
    """One record as read, or the reason it could not be read.

    Attributes
    ----------
    location : str
        ``<file>:<line>`` (JSONL, CSV), ``<file>:row <n>`` (Parquet, datasets) or
        ``<file>:item <n>`` (JSON), 1-based.
    index : int
        0-based position of the record in its source.
    record : dict or None
        The record; ``None`` when it could not be read.
    problem : str
        Bad-record reason (``invalid_json``, ``not_utf8``, ``too_long``, ``not_an_object``).
    detail : str
        What exactly was wrong, for the error message.
    """

    location: str
    index: int
    record: dict[str, Any] | None = None
    problem: str = ""
    detail: str = ""


def iter_records(path: str | Path, *, split: str | None = None,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Stream the records of a dataset file or folder.

    Parameters
    ----------
    path : str or Path
        A ``.jsonl``/``.jsonl.gz``/``.ndjson``, ``.json``, ``.parquet``, ``.csv``/``.tsv``
        file, a folder written by ``datasets.Dataset.save_to_disk``, or a folder (or loading
        script) that ``datasets.load_dataset`` reads.
    split : str, optional
        Split of a ``datasets`` source (default: ``train``, or the only split).
    max_record_bytes : int
        JSONL lines longer than this are reported as ``too_long`` bad records, without
        loading them into memory.

    Yields
    ------
    RawRecord
        In file order.

    Raises
    ------
    DatasetReadError
        When the path does not exist or its format is not recognised.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetReadError(f"{path}: no such file or folder. Fix: check the path.")
    if path.is_dir() or path.suffix == ".py":
        yield from _iter_hf_dataset(path, split)
        return
    if not path.is_file():  # a device or pipe (e.g. a link to /dev/zero) would never end
        raise DatasetReadError(f"{path}: not a regular file (a device, socket or pipe). Fix: "
                               f"point to the dataset file itself.")
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        yield from _guard_gzip(_iter_jsonl(path, max_record_bytes), path)
    elif name.endswith(".json"):
        yield from _iter_json(path)
    elif name.endswith(".parquet"):
        yield from _iter_parquet(path)
    elif name.endswith((".csv", ".tsv")):
        yield from _iter_csv(path)
    else:
        raise DatasetReadError(
            f"{path}: unknown dataset format {path.suffix!r}. Fix: use one of "
            f"{', '.join(FILE_SUFFIXES)}, a `save_to_disk` folder or a `load_dataset` folder.")


def dataset_stem(path: str | Path) -> str:
    """Default dataset id of a path: the file name without its format suffixes."""
    name = Path(path).name
    for suffix in sorted(FILE_SUFFIXES + (".py",), key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def count_records(path: str | Path) -> int | None:
    """Count the records of a JSONL or Parquet file, cheaply (for progress bars); else None.

    JSONL counts non-empty lines (bad ones included); Parquet reads the footer only.
    """
    path = Path(path)
    name = path.name.lower()
    try:
        if path.is_file() and name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
            count = 0
            with _open_binary(path) as handle:
                for line in handle:
                    count += bool(line.strip())
            return count
        if path.is_file() and name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # an unreadable file: the reader reports it, with its fix
        return None
    return None


def _guard_gzip(records: Iterator[RawRecord], path: Path) -> Iterator[RawRecord]:
    """Turn a broken or mislabelled ``.gz`` into one error naming the file."""
    try:
        yield from records
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise DatasetReadError(f"{path}: not a readable gzip file ({err or 'truncated'}). Fix: "
                               f"re-compress it with gzip, or drop the .gz suffix if it is "
                               f"plain JSONL.") from err


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _iter_jsonl(path: Path, max_record_bytes: int) -> Iterator[RawRecord]:
    with _open_binary(path) as handle:
        line_no = 0
        index = 0
        while True:
            line = handle.readline(max_record_bytes + 1)
            if not line:
                return
            line_no += 1
            location = f"{path}:{line_no}"
            if len(line) > max_record_bytes and not line.endswith(b"\n"):
                size = len(line) + _skip_rest_of_line(handle)
                yield RawRecord(location, index, problem="too_long",
                                detail=f"the line has {size:,} bytes, more than the limit of "
                                       f"{max_record_bytes:,} (max_record_bytes)")
                index += 1
                continue
            if not line.strip():
                continue
            yield _parse_json_line(line, location, index)
            index += 1


def _skip_rest_of_line(handle: IO[bytes]) -> int:
    skipped = 0
    while True:
        chunk = handle.readline(_CHUNK)
        skipped += len(chunk.rstrip(b"\r\n"))
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _parse_json_line(line: bytes, location: str, index: int) -> RawRecord:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        return RawRecord(location, index, problem="not_utf8",
                         detail=f"byte {err.start + 1} is not valid UTF-8 ({err.reason})")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        return RawRecord(location, index, problem="invalid_json",
                         detail=f"invalid JSON at column {err.colno}: {err.msg}")
    except RecursionError:
        return RawRecord(location, index, problem="invalid_json",
                         detail="the JSON is nested too deeply to read")
    return _as_record(record, location, index)


def _as_record(record: Any, location: str, index: int) -> RawRecord:
    if not isinstance(record, dict):
        return RawRecord(location, index, problem="not_an_object",
                         detail=f"expected a JSON object, got {type(record).__name__}")
    return RawRecord(location, index, record=record)


def _iter_json(path: Path) -> Iterator[RawRecord]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DatasetReadError(f"{path}: byte {err.start + 1} is not valid UTF-8. Fix: "
                               f"re-encode the file as UTF-8.") from err
    except json.JSONDecodeError as err:
        raise DatasetReadError(f"{path}:{err.lineno}: invalid JSON at column {err.colno}: "
                               f"{err.msg}. Fix: repair the file (or use JSONL, one record "
                               f"per line, so one bad record does not spoil the file).") from err
    except RecursionError as err:
        raise DatasetReadError(f"{path}: the JSON is nested too deeply to read. Fix: write "
                               f"one flat JSON object per record (JSONL).") from err
    for index, record in enumerate(_json_records(data, path)):
        yield _as_record(record, f"{path}:item {index + 1}", index)


def _json_records(data: Any, path: Path) -> list[Any]:
    """Return the records of a JSON document: an array, ``{"key": [records]}``, or a column dict."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        if len(lists) == 1 and all(isinstance(r, dict) for r in next(iter(lists.values()))):
            return next(iter(lists.values()))
        lengths = {len(v) for v in lists.values()}
        if lists and len(lists) == len(data) and len(lengths) == 1:
            keys = list(lists)
            return [dict(zip(keys, row, strict=True)) for row in zip(*lists.values(), strict=True)]
    raise DatasetReadError(
        f"{path}: the JSON document is neither an array of records, an object holding one "
        f"array of records, nor an object of equal-length columns. Fix: write one JSON object "
        f"per record (JSONL) or an array of objects.")


def _iter_parquet(path: Path) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a corrupt file
        raise DatasetReadError(f"{path}: not a readable Parquet file ({err}). Fix: check the "
                               f"file was fully written.") from err
    index = 0
    try:
        for batch in parquet.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                yield RawRecord(f"{path}:row {index + 1}", index, record=record)
                index += 1
    except (OSError, ValueError) as err:  # pyarrow's errors derive from these
        raise DatasetReadError(f"{path}: near row {index + 1}: the Parquet data is damaged "
                               f"({err}). Fix: check the file was fully written.") from err


def _iter_csv(path: Path) -> Iterator[RawRecord]:
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    csv.field_size_limit(DEFAULT_MAX_RECORD_BYTES)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        index = 0
        line_no = 2
        try:
            for row in reader:
                yield RawRecord(f"{path}:{line_no}", index, record=row)
                index += 1
                line_no = reader.line_num + 1
        except UnicodeDecodeError as err:
            raise DatasetReadError(f"{path}: near line {line_no}: byte {err.start + 1} of a "
                                   f"block is not valid UTF-8. Fix: re-encode the file as "
                                   f"UTF-8.") from err
        except csv.Error as err:
            raise DatasetReadError(f"{path}:{line_no}: malformed CSV ({err}). Fix: quote "
                                   f"fields that hold the delimiter or newlines.") from err


def _iter_hf_dataset(path: Path, split: str | None) -> Iterator[RawRecord]:
    datasets = require("datasets", extra="datasets", purpose=f"reading the dataset at {path}")
    if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
        loaded = datasets.load_from_disk(str(path))
    else:
        try:
            loaded = datasets.load_dataset(str(path))
        except Exception as err:  # datasets raises many types; name the path and the cause
            raise DatasetReadError(
                f"{path}: `datasets.load_dataset` could not read it ({err}). Fix: point to a "
                f"data file or a `save_to_disk` folder.") from err
    dataset = _pick_split(loaded, split, path)
    for index, record in enumerate(dataset):
        yield RawRecord(f"{path}:row {index + 1}", index, record=record)


def _pick_split(loaded: Any, split: str | None, path: Path) -> Any:
    if not hasattr(loaded, "keys"):  # a single Dataset
        return loaded
    names = list(loaded.keys())
    if split is None:
        split = "train" if "train" in names else (names[0] if len(names) == 1 else None)
    if split not in names:
        wanted = f"split {split!r} not found" if split else "no 'train' split to default to"
        raise DatasetReadError(f"{path}: {wanted}; it has splits {names}. Fix: choose one with "
                               f"split= (CLI: --split NAME).")
    return loaded[split]
