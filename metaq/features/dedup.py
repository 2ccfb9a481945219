r"""Near-duplicate rate by MinHash with locality-sensitive hashing (LSH).

Method (fixed, so cached signatures stay comparable):

1. Text of an example: question + newline + reasoning, case-folded, split into word tokens
   (``\w+``); shingles are the overlapping 5-word windows (one shingle of all words for
   shorter texts). Words are hashed with CRC-32 and a window with a polynomial over them.
2. MinHash signature of 112 values (multiply-shift hashes, fixed seeds).
3. LSH: 14 bands of 8 values; two examples are near duplicates when any band matches. The
   chance of that is ``1 - (1 - J**8)**14`` for Jaccard similarity ``J`` of their shingle
   sets: 0.21 at J = 0.6, 0.56 at J = 0.7, 0.92 at J = 0.8, 0.998 at J = 0.9 (candidates are
   not re-verified; exact duplicates always match).

Per example the extractor stores only its 14 band hashes (as exact float integers);
``aggregate`` then flags each example that shares a band with an *earlier* example of the
same dataset (or domain) and reports ``near_duplicate_rate`` = share of flagged examples, with
its standard error. Examples without words are not flagged.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from metaq.features.base import Example, Extractor, mean_and_se

_WORDS = re.compile(r"\w+")
_POLY = np.uint64(0x100000001B3)
_MASK52 = (1 << 52) - 1  # band hashes stay exact as float64


def shingle_hashes(text: str, n_words: int = 5) -> np.ndarray:
    """Distinct 64-bit hashes of the `n_words`-word shingles of `text` (case-folded).

    Examples
    --------
    >>> len(shingle_hashes("a b c d e f"))  # two 5-word windows
    2
    >>> len(shingle_hashes(""))
    0
    """
    words = _WORDS.findall(text.casefold())
    if not words:
        return np.empty(0, dtype=np.uint64)
    codes = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64,
                        count=len(words))
    width = min(n_words, len(words))
    count = len(words) - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    for k in range(width):
        acc = acc * _POLY + codes[k:k + count]
    return np.unique(acc)


class MinHasher:
    """MinHash signatures and LSH band keys with fixed seeds.

    Parameters
    ----------
    bands, rows : int
        Number of LSH bands and signature values per band (signature length = product).
    seed : int
        Seed of the hash parameters.
    """

    def __init__(self, bands: int = 14, rows: int = 8, seed: int = 1) -> None:
        self.bands = bands
        self.rows = rows
        rng = np.random.default_rng(seed)
        size = bands * rows
        self._mult = rng.integers(1, 2**63, size=size, dtype=np.uint64) * 2 + 1  # odd
        self._add = rng.integers(0, 2**63, size=size, dtype=np.uint64)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        """Minimum over shingles of each multiply-shift hash (``bands*rows`` values)."""
        hashed = (shingles[None, :] * self._mult[:, None] + self._add[:, None]) >> np.uint64(32)
        return hashed.min(axis=1)

    def band_keys(self, shingles: np.ndarray) -> list[float]:
        """One 52-bit key per band (NaN for a text without shingles)."""
        if shingles.size == 0:
            return [math.nan] * self.bands
        signature = self.signature(shingles).reshape(self.bands, self.rows)
        return [float(int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(),
                                     "little") & _MASK52) for row in signature]


def near_duplicate_flags(bands: pd.DataFrame) -> np.ndarray:
    """Flag each row that shares any band key with an earlier row (NaN keys never match).

    Examples
    --------
    >>> frame = pd.DataFrame({"b0": [1.0, 2.0, 1.0], "b1": [5.0, 6.0, 7.0]})
    >>> near_duplicate_flags(frame).tolist()
    [False, False, True]
    """
    flags = np.zeros(len(bands), dtype=bool)
    for column in bands.columns:
        keys = bands[column]
        flags |= (keys.duplicated(keep="first") & keys.notna()).to_numpy()
    return flags


class NearDuplicateExtractor(Extractor):
    """``near_duplicate_rate``: share of examples near-duplicating an earlier one."""

    name: ClassVar[str] = "dedup"
    metrics: ClassVar[tuple[str, ...]] = ("near_duplicate_rate",)

    def __init__(self) -> None:
        self._hasher = MinHasher()
        self._band_columns = [f"band_{i:02d}" for i in range(self._hasher.bands)]

    def config(self) -> dict[str, Any]:
        """Return the method's fixed parameters."""
        return {"method": "minhash-lsh", "shingle_words": 5, "bands": self._hasher.bands,
                "rows": self._hasher.rows}

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Band keys of each example's question + reasoning."""
        return [dict(zip(self._band_columns,
                         self._hasher.band_keys(shingle_hashes(f"{ex.question}\n{ex.reasoning}")),
                         strict=True))
                for ex in examples]

    def aggregate(self, scores: pd.DataFrame) -> dict[str, float]:
        """Rate (and standard error) of examples sharing a band with an earlier example."""
        if scores.empty:
            return mean_and_se(scores, self.metrics)
        flags = near_duplicate_flags(scores[self._band_columns]).astype(float)
        has_words = scores[self._band_columns[0]].notna().to_numpy()
        rate = pd.DataFrame({"near_duplicate_rate": np.where(has_words, flags, np.nan)})
        return mean_and_se(rate, self.metrics)
