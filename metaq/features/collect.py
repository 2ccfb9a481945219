"""Collect one extractor's per-example scores on one dataset and reduce them to a row.

Each extractor brings its own accumulator (:meth:`~metaq.features.base.Extractor.accumulator`):
the default mean and standard error stream batch by batch in constant memory
(:class:`~metaq.features.moments.RunningMoments`), the language share keeps counts per
language, the near-duplicate rate keeps 14 band keys per example (it must compare every
example with every earlier one), and an extractor with only its own ``aggregate`` (the
judge) keeps its per-example scores of the current dataset (:class:`KeptScores`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metaq.features.base import Accumulator, Extractor

UNKNOWN_DOMAIN = "unknown"


class DomainIndex:
    """The domain of each example of a dataset, as 4-byte codes.

    Examples without a domain get the label ``"unknown"``.
    """

    def __init__(self) -> None:
        self._codes = array("i")
        self._labels: dict[str, int] = {}
        self.has_domains = False

    def add(self, domains: Sequence[str]) -> np.ndarray:
        """Record the domains of a batch; return their codes."""
        self.has_domains = self.has_domains or any(domains)
        codes = [self._labels.setdefault(d or UNKNOWN_DOMAIN, len(self._labels)) for d in domains]
        self._codes.extend(codes)
        return np.asarray(codes, dtype=np.int32)

    def labels(self) -> list[str]:
        """Return the domain labels seen, sorted."""
        return sorted(self._labels)

    def code(self, label: str) -> int:
        """Code of a domain label."""
        return self._labels[label]

    def mask(self, label: str) -> np.ndarray:
        """Boolean mask of the examples of one domain, in reading order."""
        return np.frombuffer(self._codes, dtype=np.int32) == self._labels[label]


class KeptScores:
    """Accumulator that keeps every batch and reduces them once with an ``aggregate`` function.

    For extractors with set-level statistics and no streaming reduction of their own (the
    judge's sampling): a few numbers per example of the current dataset.

    Parameters
    ----------
    aggregate : callable
        ``DataFrame of all scores -> dict`` (an extractor's ``aggregate``).
    """

    def __init__(self, aggregate: Callable[[pd.DataFrame], dict[str, Any]]) -> None:
        self._aggregate = aggregate
        self._frames: list[pd.DataFrame] = []

    def update(self, scores: pd.DataFrame) -> None:
        """Keep one batch."""
        self._frames.append(scores)

    def result(self) -> dict[str, Any]:
        """Return the extractor's aggregate of everything kept."""
        if len(self._frames) > 1:
            self._frames = [pd.concat(self._frames, ignore_index=True)]
        return self._aggregate(self._frames[0] if self._frames else pd.DataFrame())


class ScoreCollector:
    """Scores of one extractor on one dataset, reduced by the extractor's accumulators.

    One accumulator (:meth:`~metaq.features.base.Extractor.accumulator`) takes the whole
    dataset and, with `by_domain`, one more takes each domain.

    Parameters
    ----------
    extractor : Extractor
        The extractor.
    metrics : sequence of str
        The metrics reported.
    by_domain : bool, default True
        Also reduce per domain.
    count_as : str, optional
        Also report how many examples were scored, under this name (subsampled
        extractors: ``n_<name>_sampled``).
    """

    def __init__(self, extractor: Extractor, metrics: Sequence[str], *, by_domain: bool = True,
                 count_as: str | None = None) -> None:
        self.extractor = extractor
        self.metrics = tuple(metrics)
        self.by_domain = by_domain
        self.count_as = count_as
        self._whole = extractor.accumulator()
        self._by_code: dict[int, Accumulator] = {}
        self._counts: dict[int | None, int] = {None: 0}

    def add(self, scores: pd.DataFrame, codes: np.ndarray) -> None:
        """Take one batch of per-example scores with the examples' domain codes."""
        self._whole.update(scores)
        self._counts[None] += len(scores)
        if not self.by_domain:
            return
        for code in np.unique(codes).tolist():
            part = scores[codes == code].reset_index(drop=True)
            self._by_code.setdefault(code, self.extractor.accumulator()).update(part)
            self._counts[code] = self._counts.get(code, 0) + len(part)

    def aggregate(self, index: DomainIndex, domain: str | None = None) -> dict[str, Any]:
        """Dataset-level values of the whole dataset (``domain=None``) or of one domain."""
        code = None if domain is None else index.code(domain)
        if code is None:
            values = self._whole.result()
        elif code in self._by_code:
            values = self._by_code[code].result()
        else:  # a domain none of whose examples was scored (subsampling)
            values = self.extractor.accumulator().result()
        if self.count_as:
            values[self.count_as] = self._counts.get(code, 0)
        return values
