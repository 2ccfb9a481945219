"""Mean and standard error accumulated batch by batch, in constant memory.

The runner uses this for every extractor that keeps the default
:meth:`~metaq.features.base.Extractor.aggregate` (mean and ``sd/sqrt(n)`` over examples with
a finite value), so a dataset's per-example scores need not be held in memory. Batches are
merged with the pairwise update of Chan, Golub and LeVeque (1979), which is numerically
stable; the result equals :func:`~metaq.features.base.mean_and_se` on all values up to
floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd


class RunningMoments:
    """Count, mean and sum of squared deviations of each metric, merged batch by batch.

    Parameters
    ----------
    metrics : sequence of str
        The metric columns to follow.

    Examples
    --------
    >>> moments = RunningMoments(["x"])
    >>> moments.update(pd.DataFrame({"x": [1.0, 2.0]}))
    >>> moments.update(pd.DataFrame({"x": [3.0, float("nan")]}))
    >>> out = moments.result()
    >>> out["x"], round(out["x__se"], 4)
    (2.0, 0.5774)
    """

    def __init__(self, metrics: Sequence[str]) -> None:
        self.metrics = tuple(metrics)
        self._count = dict.fromkeys(self.metrics, 0)
        self._mean = dict.fromkeys(self.metrics, 0.0)
        self._squares = dict.fromkeys(self.metrics, 0.0)

    def update(self, scores: pd.DataFrame) -> None:
        """Merge one batch of per-example scores (non-finite values are left out)."""
        for metric in self.metrics:
            if metric not in scores:
                continue
            values = scores[metric].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if not values.size:
                continue
            count, mean = values.size, float(values.mean())
            squares = float(((values - mean) ** 2).sum())
            total = self._count[metric] + count
            delta = mean - self._mean[metric]
            self._mean[metric] += delta * count / total
            self._squares[metric] += squares + delta**2 * self._count[metric] * count / total
            self._count[metric] = total

    def result(self) -> dict[str, float]:
        """``{metric: mean, metric__se: sd/sqrt(n)}`` (NaN mean without values, NaN SE below 2)."""
        out: dict[str, float] = {}
        for metric in self.metrics:
            n = self._count[metric]
            out[metric] = self._mean[metric] if n else math.nan
            out[f"{metric}__se"] = (math.sqrt(self._squares[metric] / (n - 1) / n)
                                    if n > 1 else math.nan)
        return out
