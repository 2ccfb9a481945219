"""Vectorised correlation coefficients: many orderings or resamples in one array operation."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import rankdata

Method = Literal["spearman", "pearson"]
METHODS: tuple[str, ...] = ("spearman", "pearson")


def to_scores(values: np.ndarray, method: Method, *, axis: int) -> np.ndarray:
    """Values on the scale the coefficient correlates: average ranks (Spearman) or as is.

    Spearman's rho is Pearson's r of the average ranks, which is how ties are handled.
    """
    values = np.asarray(values, dtype=float)
    return rankdata(values, axis=axis) if method == "spearman" else values


def pearson(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Pearson r of each ``ys[..., :]`` with each column of ``xs[..., :, k]``.

    Parameters
    ----------
    ys : numpy.ndarray, shape (..., n)
        One or many versions of the outcome (e.g. every ordering of it).
    xs : numpy.ndarray, shape (..., n, k)
        The k predictors; leading dimensions broadcast against those of `ys`.

    Returns
    -------
    numpy.ndarray, shape (..., k)
        The coefficients; NaN where either side is constant.
    """
    y_centred = ys - ys.mean(axis=-1, keepdims=True)
    x_centred = xs - xs.mean(axis=-2, keepdims=True)
    y_norm = np.sqrt((y_centred**2).sum(axis=-1))
    x_norm = np.sqrt((x_centred**2).sum(axis=-2))
    products = np.einsum("...n,...nk->...k", y_centred, x_centred)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = products / (y_norm[..., None] * x_norm)
    constant = (np.ptp(ys, axis=-1) == 0)[..., None] | (np.ptp(xs, axis=-2) == 0)
    return np.where(constant, np.nan, np.clip(r, -1.0, 1.0))
