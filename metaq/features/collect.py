"""Collect one extractor's per-example scores on one dataset and reduce them to a row.

Extractors that keep the default ``aggregate`` (mean and standard error) are reduced batch
by batch with :class:`~metaq.features.moments.RunningMoments`, per dataset and per domain,
so memory stays constant however large the dataset. Extractors with their own ``aggregate``
(set-level statistics: near duplicates, language share, the judge's sampling) keep their
per-example scores of the current dataset, a few numbers per example, and get them whole.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from metaq.features.base import Extractor
from metaq.features.moments import RunningMoments

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


class ScoreCollector:
    """Scores of one extractor on one dataset, kept in the form its aggregation needs.

    Parameters
    ----------
    extractor : Extractor
        The extractor (its ``aggregate`` decides between streaming and keeping scores).
    metrics : sequence of str
        The metrics reported.
    """

    def __init__(self, extractor: Extractor, metrics: Sequence[str]) -> None:
        self.extractor = extractor
        self.metrics = tuple(metrics)
        self.streaming = type(extractor).aggregate is Extractor.aggregate
        self._whole = RunningMoments(self.metrics)
        self._by_code: dict[int, RunningMoments] = {}
        self._frames: list[pd.DataFrame] = []
        self._scores: pd.DataFrame | None = None

    def add(self, scores: pd.DataFrame, codes: np.ndarray) -> None:
        """Take one batch of per-example scores with the batch's domain codes."""
        if not self.streaming:
            self._frames.append(scores)
            return
        self._whole.update(scores)
        for code in np.unique(codes):
            moments = self._by_code.setdefault(int(code), RunningMoments(self.metrics))
            moments.update(scores[codes == code])

    def aggregate(self, index: DomainIndex, domain: str | None = None) -> dict[str, Any]:
        """Dataset-level values of the whole dataset (``domain=None``) or of one domain."""
        if self.streaming:
            moments = self._whole if domain is None else self._by_code[index.code(domain)]
            return moments.result()
        if self._scores is None:
            self._scores = (pd.concat(self._frames, ignore_index=True) if self._frames
                            else pd.DataFrame())
            self._frames = []
        scores = self._scores if domain is None else self._scores[index.mask(domain)]
        return self.extractor.aggregate(scores.reset_index(drop=True))
