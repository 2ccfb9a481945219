"""Dataset readers: JSONL, JSON, Parquet, CSV and ``datasets`` folders, streamed as examples."""

from metaq.io.mapping import ColumnMapping
from metaq.io.preview import preview_records
from metaq.io.reader import ReadStats, iter_example_batches, read_examples

__all__ = ["ColumnMapping", "ReadStats", "iter_example_batches", "preview_records",
           "read_examples"]
