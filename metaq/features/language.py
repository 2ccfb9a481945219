"""Language share: how much of a dataset's traces are in its main language.

Per example the extractor identifies the language of the reasoning trace (its first
``max_chars`` characters) with py3langid, a naive-Bayes byte-n-gram classifier over 97
languages whose model ships inside the wheel (offline, about 0.1 ms per short text). At
dataset (or domain) level the main language is the most frequent one (ties: alphabetical),
``language_share`` is the share of traces identified as it, with its standard error, and the
main language is recorded in ``meta__language_main``.

A low share flags mixed-language data, e.g. a translation that left traces untranslated.
Code-heavy or formula-only traces are often misidentified; read the share of such data with
that in mind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pandas as pd

from metaq._optional import require
from metaq.features.base import Example, Extractor, mean_and_se


class LanguageExtractor(Extractor):
    """``language_share`` of the main language (per-example score: ``language`` code).

    Parameters
    ----------
    max_chars : int, default 5000
        Characters from the start of each trace that are classified.
    """

    name: ClassVar[str] = "language"
    metrics: ClassVar[tuple[str, ...]] = ("language_share",)
    requires: ClassVar[tuple[str, ...]] = ("py3langid",)
    extra: ClassVar[str] = "text"

    def __init__(self, *, max_chars: int = 5000) -> None:
        self.max_chars = max_chars
        self._classify: Any = None

    def config(self) -> dict[str, Any]:
        """Classifier and input length."""
        return {"classifier": "py3langid", "max_chars": self.max_chars}

    def setup(self) -> None:
        """Import py3langid (its model loads on first use)."""
        if self._classify is None:
            self._classify = require("py3langid", extra=self.extra,
                                     purpose="language_share").classify

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, Any]]:
        """ISO 639-1 code of each trace's language (a text value, not a metric)."""
        self.setup()
        return [{"language": self._classify(ex.reasoning[: self.max_chars])[0]}
                for ex in examples]

    def aggregate(self, scores: pd.DataFrame) -> dict[str, Any]:
        """Share of the most frequent language, its standard error, and its code."""
        languages = scores["language"] if "language" in scores else pd.Series(dtype=str)
        if languages.empty:
            return {**mean_and_se(scores, self.metrics), "meta__language_main": ""}
        counts = languages.value_counts()
        main = min(counts.index[counts == counts.max()])
        share = pd.DataFrame({"language_share": (languages == main).astype(float)})
        return {**mean_and_se(share, self.metrics), "meta__language_main": str(main)}
