"""Text statistics of the reference study: lengths, redundancy ratio, symbolic fraction.

Definitions (arXiv 2605.13290, Tables 1 and 3), all on the reasoning trace unless stated:

- ``reasoning_chars``, ``answer_chars``: lengths in Unicode code points; ``total_chars`` =
  question + reasoning + answer (the study's "total sequence length").
- ``reasoning_tokens``, ``answer_tokens``, ``total_tokens``: the same in tokens of a given
  tokenizer, each part encoded on its own without special tokens (no chat template).
- ``redundancy_ratio`` = ``1 - len(zlib.compress(b)) / len(b)`` with ``b`` the UTF-8 bytes
  and zlib's default level (6); NaN for an empty trace.
- ``symbolic_fraction`` = non-alphanumeric characters / all characters, read literally:
  whitespace and punctuation both count as non-alphanumeric; letters and digits of any
  script are alphanumeric (``str.isalnum``). NaN for an empty trace.

No Python loop runs over characters: ASCII traces are counted with one ``bytes.translate``
pass, other traces with a lookup of their code points in a precomputed ``isalnum`` table
(exactly ``str.isalnum``); ``analyses/bench_extraction.py`` measures both against a
per-character loop.
"""

from __future__ import annotations

import functools
import math
import string
import zlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from metaq._optional import require
from metaq.exceptions import MetaqError
from metaq.features.base import Example, Extractor

_ASCII_ALNUM = (string.ascii_letters + string.digits).encode("ascii")
_BMP = 0x10000


@functools.cache
def _bmp_alnum_table() -> np.ndarray:
    """``str.isalnum`` of every code point of the Basic Multilingual Plane (64 KiB)."""
    return np.array([chr(code).isalnum() for code in range(_BMP)], dtype=bool)


def redundancy_ratio(text: str) -> float:
    """Share of the UTF-8 bytes that zlib compresses away.

    Examples
    --------
    >>> redundancy_ratio("ab" * 100) > 0.9  # the exact share depends on the zlib build
    True
    >>> redundancy_ratio("")
    nan
    """
    raw = text.encode("utf-8")
    return 1.0 - len(zlib.compress(raw)) / len(raw) if raw else math.nan


def symbolic_fraction(text: str) -> float:
    """Non-alphanumeric characters (whitespace included) over all characters.

    Examples
    --------
    >>> symbolic_fraction("a = 1")
    0.6
    >>> symbolic_fraction("zażółć")
    0.0
    """
    if not text:
        return math.nan
    if text.isascii():  # one C pass: delete the letters and digits, count what is left
        return len(text.encode("ascii").translate(None, _ASCII_ALNUM)) / len(text)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    in_bmp = codes < _BMP
    alnum = int(_bmp_alnum_table()[codes[in_bmp]].sum())
    alnum += sum(chr(code).isalnum() for code in codes[~in_bmp].tolist())
    return 1.0 - alnum / len(text)


class LengthExtractor(Extractor):
    """Lengths in characters: ``reasoning_chars``, ``answer_chars``, ``total_chars``.

    Examples
    --------
    >>> LengthExtractor().score_batch([Example("1", "Q?", "abc", "4")])
    [{'reasoning_chars': 3.0, 'answer_chars': 1.0, 'total_chars': 6.0}]
    """

    name: ClassVar[str] = "length"
    metrics: ClassVar[tuple[str, ...]] = ("reasoning_chars", "answer_chars", "total_chars")
    cacheable: ClassVar[bool] = False
    parallel: ClassVar[bool] = True

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Character lengths of each example's parts."""
        return [{"reasoning_chars": float(len(ex.reasoning)),
                 "answer_chars": float(len(ex.answer)),
                 "total_chars": float(len(ex.question) + len(ex.reasoning) + len(ex.answer))}
                for ex in examples]


class TokenLengthExtractor(Extractor):
    """Lengths in tokens: ``reasoning_tokens``, ``answer_tokens``, ``total_tokens``.

    Parameters
    ----------
    tokenizer : str
        Tokenizer id or local path (``AutoTokenizer.from_pretrained``).

    Notes
    -----
    Each part is encoded separately without special tokens; ``total_tokens`` is the sum of
    the three parts, so it ignores chat-template tokens.
    """

    name: ClassVar[str] = "tokens"
    metrics: ClassVar[tuple[str, ...]] = ("reasoning_tokens", "answer_tokens", "total_tokens")
    requires: ClassVar[tuple[str, ...]] = ("transformers",)
    extra: ClassVar[str] = "extract"

    def __init__(self, *, tokenizer: str | None = None) -> None:
        self.tokenizer = tokenizer
        self._tokenizer: Any = None

    def config(self) -> dict[str, Any]:
        """Return the tokenizer id or path."""
        return {"tokenizer": self.tokenizer}

    def setup(self) -> None:
        """Load the tokenizer."""
        if self._tokenizer is not None:
            return
        if not self.tokenizer:
            raise MetaqError("token lengths need a tokenizer: pass tokenizer= (CLI: "
                             "--tokenizer ID|PATH); without one only character lengths exist.")
        transformers = require("transformers", extra=self.extra, purpose="token lengths")
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(self.tokenizer)
        except OSError as err:
            raise MetaqError(f"cannot load tokenizer {self.tokenizer!r} ({err}). Fix: give a "
                             f"local tokenizer folder, or a hub id when online.") from err

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Token counts of each example's parts, one batched tokenizer call per part."""
        self.setup()
        counts = {part: self._count([getattr(ex, part) for ex in examples])
                  for part in ("question", "reasoning", "answer")}
        return [{"reasoning_tokens": float(r), "answer_tokens": float(a),
                 "total_tokens": float(q + r + a)}
                for q, r, a in zip(counts["question"], counts["reasoning"], counts["answer"],
                                   strict=True)]

    def _count(self, texts: list[str]) -> list[int]:
        encoded = self._tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


class RedundancyExtractor(Extractor):
    """``redundancy_ratio`` of the reasoning (see :func:`redundancy_ratio`)."""

    name: ClassVar[str] = "redundancy"
    metrics: ClassVar[tuple[str, ...]] = ("redundancy_ratio",)
    cacheable: ClassVar[bool] = False
    parallel: ClassVar[bool] = True

    def config(self) -> dict[str, Any]:
        """Return the compressor, which defines the number."""
        return {"compressor": "zlib-6"}

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Redundancy ratio of each reasoning trace."""
        return [{"redundancy_ratio": redundancy_ratio(ex.reasoning)} for ex in examples]


class SymbolicExtractor(Extractor):
    """``symbolic_fraction`` of the reasoning (see :func:`symbolic_fraction`)."""

    name: ClassVar[str] = "symbolic"
    metrics: ClassVar[tuple[str, ...]] = ("symbolic_fraction",)
    cacheable: ClassVar[bool] = False
    parallel: ClassVar[bool] = True

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Symbolic fraction of each reasoning trace."""
        return [{"symbolic_fraction": symbolic_fraction(ex.reasoning)} for ex in examples]
