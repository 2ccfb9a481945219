r"""Near-duplicate rate by MinHash with locality-sensitive hashing (LSH).

Method (fixed, so results stay comparable):

1. Text of an example: question + newline + reasoning, case-folded, split into word tokens
   (maximal runs of ``\w`` characters, exactly :mod:`re`'s ``\w+``); shingles are the
   overlapping 5-word windows (one shingle of all words for shorter texts).
2. MinHash signature of 112 values: rensa's R-MinHash (a Rust implementation of
   Dahlgaard, Knudsen and Thorup's fast similarity sketching) over the shingles' 64-bit
   hashes. Each value of two texts' signatures agrees with probability equal to their
   shingles' Jaccard similarity ``J`` (checked in ``tests/features/test_text_curation.py``).
3. LSH: 14 bands of 8 values; two examples are near duplicates when any band matches. The
   chance of that is ``1 - (1 - J**8)**14``: 0.21 at J = 0.6, 0.56 at J = 0.7, 0.92 at
   J = 0.8, 0.998 at J = 0.9 (candidates are not re-verified; exact duplicates always match).

The whole batch is hashed in one compiled pass (numba) over its code points, without a
Python loop over words: word characters come from a lookup table of ``\w``, a word's hash is
FNV-1a over its code points, a shingle's hash mixes its word hashes by position (splitmix64
finaliser, wrapping ``uint64``).

Per example the extractor keeps only its 14 band keys (52-bit integers, exact as floats);
the accumulator (:class:`BandKeys`) then flags each example that shares a band with an
*earlier* example of the same dataset (or domain) and reports ``near_duplicate_rate`` =
share of flagged examples, with its standard error. Examples without words are not flagged.
Memory: 14 eight-byte keys per example of the dataset being aggregated.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numba
import numpy as np
import pandas as pd
import rensa

from metaq.features.base import Example, Extractor, mean_and_se

SHINGLE_WORDS = 5
BANDS, ROWS = 14, 8
_SEED = 1
_BMP = 0x10000
_MASK52 = np.uint64((1 << 52) - 1)  # band keys stay exact as float64
_FNV_BASIS, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)
# odd multipliers, one per shingle position (from splitmix64's golden-ratio increment)
_POSITION_MULTIPLIERS = np.array([(0x9E3779B97F4A7C15 * (2 * k + 1)) % 2**64 | 1
                                  for k in range(SHINGLE_WORDS)], dtype=np.uint64)


@functools.cache
def _bmp_word_table() -> np.ndarray:
    r"""Whether each Basic-Multilingual-Plane code point is a ``\w`` character."""
    return np.array([chr(c).isalnum() or c == 0x5F for c in range(_BMP)], dtype=np.bool_)


@numba.njit(cache=True)
def _mix64(z: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """Apply the splitmix64 finaliser to one ``uint64`` (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def _window(ring: np.ndarray, first: int, width: int) -> np.uint64:  # pragma: no cover
    acc = np.uint64(0)
    for k in range(width):
        acc += ring[(first + k) % SHINGLE_WORDS] * _POSITION_MULTIPLIERS[k]
    return _mix64(acc + np.uint64(width))


@numba.njit(cache=True)
def _shingle_kernel(codes: np.ndarray, bounds: np.ndarray, table: np.ndarray,
                    astral_words: np.ndarray, out: np.ndarray,
                    offsets: np.ndarray) -> None:  # pragma: no cover - compiled
    """One pass over the code points of all texts: words, their hashes, 5-word windows."""
    n_out = 0
    ring = np.zeros(SHINGLE_WORDS, dtype=np.uint64)
    for t in range(bounds.size - 1):
        n_words = 0
        word = _FNV_BASIS
        in_word = False
        for j in range(bounds[t], bounds[t + 1] + 1):
            is_word = False
            if j < bounds[t + 1]:
                c = codes[j]
                if c < _BMP:
                    is_word = table[c]
                else:
                    k = np.searchsorted(astral_words, c)
                    is_word = k < astral_words.size and astral_words[k] == c
            if is_word:  # FNV-1a over the word's code points
                word = (word ^ np.uint64(c)) * _FNV_PRIME
                in_word = True
            elif in_word:
                ring[n_words % SHINGLE_WORDS] = _mix64(word)
                n_words += 1
                if n_words >= SHINGLE_WORDS:
                    out[n_out] = _window(ring, n_words - SHINGLE_WORDS, SHINGLE_WORDS)
                    n_out += 1
                word = _FNV_BASIS
                in_word = False
        if 0 < n_words < SHINGLE_WORDS:
            out[n_out] = _window(ring, 0, n_words)
            n_out += 1
        offsets[t + 1] = n_out


@numba.njit(cache=True)
def _band_kernel(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:  # pragma: no cover
    keys = np.empty((signature.shape[0], bands), dtype=np.uint64)
    for i in range(signature.shape[0]):
        for b in range(bands):
            key = np.uint64(0)
            for r in range(rows):
                key = _mix64(key ^ np.uint64(signature[i, b * rows + r]))
            keys[i, b] = key & _MASK52
    return keys


def batch_shingles(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of every text, flat, with each text's row offsets.

    Parameters
    ----------
    texts : sequence of str
        The texts (case-folded here).

    Returns
    -------
    hashes : numpy.ndarray
        ``uint64`` hashes of the 5-word shingles, text after text (not de-duplicated:
        MinHash ignores repeats).
    offsets : numpy.ndarray
        ``uint64`` of length ``len(texts) + 1``: text ``i`` owns
        ``hashes[offsets[i]:offsets[i + 1]]`` (empty for a text without words).

    Examples
    --------
    >>> hashes, offsets = batch_shingles(["a b c d e f", "", "Hi there"])
    >>> offsets.tolist()  # two 5-word windows, none, one window of both words
    [0, 2, 2, 3]
    >>> bool(batch_shingles(["Hi there"])[0][0] == batch_shingles(["hi  THERE!"])[0][0])
    True
    """
    folded = [text.casefold() for text in texts]
    codes = np.frombuffer("".join(folded).encode("utf-32-le"), dtype=np.uint32)
    bounds = np.zeros(len(folded) + 1, dtype=np.int64)
    np.cumsum([len(text) for text in folded], out=bounds[1:])
    astral = np.unique(codes[codes >= _BMP])
    astral_words = astral[[chr(c).isalnum() for c in astral.tolist()]].astype(np.uint32)
    out = np.empty(codes.size + len(folded), dtype=np.uint64)
    offsets = np.zeros(len(folded) + 1, dtype=np.uint64)
    _shingle_kernel(codes, bounds, _bmp_word_table(), astral_words, out, offsets)
    return out[: int(offsets[-1])], offsets


def band_keys(texts: Sequence[str], *, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """LSH band keys of each text, shape ``(len(texts), bands)``, NaN for texts without words.

    Examples
    --------
    >>> keys = band_keys(["the cat sat on the mat today", "The cat sat on the mat today!", ""])
    >>> bool((keys[0] == keys[1]).all()), bool(np.isnan(keys[2]).all())
    (True, True)
    """
    hashes, offsets = batch_shingles(texts)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets,
                                                                 bands * rows, _SEED)
    signature = np.array(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), bands * rows)
    out = _band_kernel(signature, bands, rows).astype(float)
    out[np.diff(offsets) == 0] = math.nan
    return out


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


class BandKeys:
    """Accumulator of band keys, batch by batch, for the near-duplicate rate.

    Parameters
    ----------
    columns : sequence of str
        The band-key columns of the per-example scores.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self._chunks: list[np.ndarray] = []

    def update(self, scores: pd.DataFrame) -> None:
        """Keep one batch's keys (a float64 array of ``len(columns)`` per example)."""
        if len(scores):
            self._chunks.append(scores[self.columns].to_numpy(dtype=float))

    def result(self) -> dict[str, float]:
        """``near_duplicate_rate`` and its standard error over examples with words."""
        if not self._chunks:
            return mean_and_se(pd.DataFrame(), NearDuplicateExtractor.metrics)
        keys = pd.DataFrame(np.concatenate(self._chunks), columns=self.columns)
        self._chunks = [keys.to_numpy()]
        flags = near_duplicate_flags(keys).astype(float)
        has_words = keys[self.columns[0]].notna().to_numpy()
        rate = pd.DataFrame({"near_duplicate_rate": np.where(has_words, flags, np.nan)})
        return mean_and_se(rate, NearDuplicateExtractor.metrics)


class NearDuplicateExtractor(Extractor):
    """``near_duplicate_rate``: share of examples near-duplicating an earlier one."""

    name: ClassVar[str] = "dedup"
    version: ClassVar[str] = "2"
    metrics: ClassVar[tuple[str, ...]] = ("near_duplicate_rate",)
    cacheable: ClassVar[bool] = False
    parallel: ClassVar[bool] = True

    def __init__(self) -> None:
        self._band_columns = [f"band_{i:02d}" for i in range(BANDS)]

    def config(self) -> dict[str, Any]:
        """Return the method's fixed parameters."""
        return {"method": "rensa-rminhash-lsh", "shingle_words": SHINGLE_WORDS,
                "bands": BANDS, "rows": ROWS}

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Band keys of each example's question + reasoning."""
        keys = band_keys([f"{ex.question}\n{ex.reasoning}" for ex in examples])
        return [dict(zip(self._band_columns, row, strict=True)) for row in keys.tolist()]

    def accumulator(self) -> BandKeys:
        """Keep the band keys of the dataset (or domain): flags need every earlier example."""
        return BandKeys(self._band_columns)

    def aggregate(self, scores: pd.DataFrame) -> dict[str, float]:
        """Rate (and standard error) of examples sharing a band with an earlier example."""
        accumulator = self.accumulator()
        accumulator.update(scores)
        return accumulator.result()
