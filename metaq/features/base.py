"""The extractor interface: one reasoning example in, one dict of per-example metrics out.

An extractor is a small class with a registry name, a version (bump it when its numbers
change: cached results of other versions are then ignored), the metrics it emits and the
optional packages it needs. Heavy models are loaded in :meth:`Extractor.setup`, never in
``__init__`` or at import time. Aggregation to dataset level (mean and standard error over
examples) lives here so every extractor reports the same way.

Three class flags tell the runner how to run an extractor:

- ``cacheable`` (default True): its per-example results go to the result cache. The cheap
  text extractors set it False: recomputing them costs less than a cache round trip.
- ``parallel`` (default False): it is a pure-CPU function of the example that can run in
  worker processes (one set-up copy per worker); model-based extractors stay in-process.
- ``subsampled`` (default False): it is expensive enough that the runner scores only a
  stratified subsample of each dataset by default (embeddings, perplexity).
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from metaq.data import Example

__all__ = ["Accumulator", "Example", "Extractor", "mean_and_se"]


class Accumulator(Protocol):
    """Reduces one extractor's per-example scores, batch by batch, to dataset-level values."""

    def update(self, scores: pd.DataFrame) -> None:
        """Take one batch of per-example scores (one row per example, in reading order)."""

    def result(self) -> dict[str, Any]:
        """Dataset-level values: ``{metric: mean, metric__se: ...}`` plus counts/provenance."""


class Extractor(ABC):
    """Base class of metric extractors.

    Subclasses set the class attributes, store their options in ``__init__`` (no loading),
    load models in :meth:`setup`, and implement :meth:`score_batch`.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    metrics: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str] = ""
    cacheable: ClassVar[bool] = True
    parallel: ClassVar[bool] = False
    subsampled: ClassVar[bool] = False

    def config(self) -> dict[str, Any]:
        """Options that change the numbers (model id, max length, ...); part of the cache key."""
        return {}

    def cache_key(self) -> str:
        """Return the identifier of this extractor's results: name, version and config."""
        blob = json.dumps(self.config(), sort_keys=True, default=str)
        digest = hashlib.blake2b(blob.encode("utf-8"), digest_size=8).hexdigest()
        return f"{self.name}@{self.version}-{digest}"

    def setup(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Load models or engines; called once before the first batch. Idempotent."""

    @abstractmethod
    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Return one ``{metric: value}`` dict per example, in order (NaN allowed)."""

    def aggregate(self, scores: pd.DataFrame) -> dict[str, float]:
        """Reduce per-example scores to dataset level: mean and standard error per metric.

        The standard error is ``sd / sqrt(n)`` over the examples with a finite value
        (NaN when fewer than two). Override for set-level statistics.
        """
        return mean_and_se(scores, self.metrics)

    def accumulator(self) -> Accumulator:
        """Return a fresh accumulator of this extractor's scores on one dataset (or domain).

        The default streams the mean and standard error in constant memory
        (:class:`~metaq.features.moments.RunningMoments`). An extractor that overrides
        :meth:`aggregate` gets one that keeps its scores and calls :meth:`aggregate` once;
        override this too to reduce set-level statistics in less memory.
        """
        from metaq.features.collect import KeptScores
        from metaq.features.moments import RunningMoments

        if type(self).aggregate is Extractor.aggregate:
            return RunningMoments(self.metrics)
        return KeptScores(self.aggregate)

    def provenance(self) -> dict[str, str]:
        """Strings recorded in the features table as ``meta__<name>_*`` columns."""
        return {"version": self.version, **{k: str(v) for k, v in self.config().items()}}


def mean_and_se(scores: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    """Mean and standard error (``sd/sqrt(n)``, ddof=1) of each metric column.

    Examples
    --------
    >>> import pandas as pd
    >>> out = mean_and_se(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), ["x"])
    >>> out["x"], round(out["x__se"], 4)
    (2.0, 0.5774)
    """
    out: dict[str, float] = {}
    for metric in metrics:
        values = scores[metric].to_numpy(dtype=float) if metric in scores else np.array([])
        values = values[np.isfinite(values)]
        out[metric] = float(values.mean()) if values.size else math.nan
        out[f"{metric}__se"] = (float(values.std(ddof=1) / math.sqrt(values.size))
                                if values.size > 1 else math.nan)
    return out
