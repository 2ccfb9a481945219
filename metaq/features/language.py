"""Language share: how much of a dataset's traces are in its main language.

Per example the extractor identifies the language of the reasoning trace (its first
``max_chars`` characters) with CLD2 (Google's Compact Language Detector 2, through pycld2:
a naive-Bayes classifier over character quadgrams in C++, 83 languages, its tables compiled
into the wheel, offline). A trace CLD2 cannot identify reliably (formulas, code, a few
words) gets the code ``un``. At dataset (or domain) level the main language is the most
frequent code other than ``un`` (ties: alphabetical); ``language_share`` is the share of all
traces identified as it, with its standard error, and the main language is recorded in
``meta__language_main``. Only the counts per language are kept, so memory does not grow
with the dataset.

A low share flags mixed-language data, e.g. a translation that left traces untranslated,
or traces in which no language can be recognised (``un``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import pandas as pd

from metaq._optional import require
from metaq.features.base import Example, Extractor

UNKNOWN = "un"


class LanguageCounts:
    """Accumulator of language codes: counts per code, then the main language's share."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def update(self, scores: pd.DataFrame) -> None:
        """Count one batch's ``language`` codes."""
        if "language" in scores:
            self.counts.update(scores["language"].tolist())

    def result(self) -> dict[str, Any]:
        """``language_share``, its standard error and ``meta__language_main``.

        The standard error is that of the mean of the 0/1 indicator "in the main language"
        (``sd / sqrt(n)``, ddof 1), as for every other rate.

        Examples
        --------
        >>> counts = LanguageCounts()
        >>> counts.update(pd.DataFrame({"language": ["en", "en", "pl", "un"]}))
        >>> out = counts.result()
        >>> out["language_share"], out["meta__language_main"]
        (0.5, 'en')
        """
        n = sum(self.counts.values())
        known = {code: k for code, k in self.counts.items() if code != UNKNOWN}
        if not known:
            return {"language_share": math.nan if not n else 0.0,
                    "language_share__se": math.nan if n < 2 else 0.0,
                    "meta__language_main": ""}
        top = max(known.values())
        main = min(code for code, k in known.items() if k == top)
        share = top / n
        se = math.sqrt(share * (1 - share) / (n - 1)) if n > 1 else math.nan
        return {"language_share": share, "language_share__se": se,
                "meta__language_main": main}


class LanguageExtractor(Extractor):
    """``language_share`` of the main language (per-example score: ``language`` code).

    Parameters
    ----------
    max_chars : int, default 500
        Characters from the start of each trace that are classified.
    """

    name: ClassVar[str] = "language"
    version: ClassVar[str] = "2"
    metrics: ClassVar[tuple[str, ...]] = ("language_share",)
    requires: ClassVar[tuple[str, ...]] = ("pycld2",)
    extra: ClassVar[str] = "text"
    cacheable: ClassVar[bool] = False
    parallel: ClassVar[bool] = True

    def __init__(self, *, max_chars: int = 500) -> None:
        self.max_chars = max_chars
        self._cld2: Any = None

    def config(self) -> dict[str, Any]:
        """Classifier and input length."""
        return {"classifier": "cld2", "max_chars": self.max_chars}

    def setup(self) -> None:
        """Import pycld2 (its tables are compiled in)."""
        if self._cld2 is None:
            self._cld2 = require("pycld2", extra=self.extra, purpose="language_share")

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, Any]]:
        """Language code of each trace (a text value, not a metric; ``un`` if unknown)."""
        self.setup()
        return [{"language": self.identify(ex.reasoning[: self.max_chars])}
                for ex in examples]

    def identify(self, text: str) -> str:
        """CLD2's language code of `text` (``un`` when it cannot tell).

        Characters CLD2 rejects as invalid UTF-8 (lone surrogates, some control
        characters) are dropped before a second try.
        """
        try:
            return self._cld2.detect(text)[2][0][1]
        except (self._cld2.error, UnicodeError):
            clean = "".join(c for c in text if c.isprintable() or c in "\n\t")
            clean = clean.encode("utf-8", "ignore").decode("utf-8")
            try:
                return self._cld2.detect(clean)[2][0][1]
            except (self._cld2.error, UnicodeError):
                return UNKNOWN

    def accumulator(self) -> LanguageCounts:
        """Return an accumulator of counts per language code: the share needs nothing else."""
        return LanguageCounts()

    def aggregate(self, scores: pd.DataFrame) -> dict[str, Any]:
        """Share of the most frequent language, its standard error, and its code."""
        counts = self.accumulator()
        counts.update(scores)
        return counts.result()
