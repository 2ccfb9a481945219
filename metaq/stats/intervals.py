"""Confidence intervals for correlation coefficients, only where they mean something.

- Pearson, n >= 5: Fisher z, ``tanh(atanh(r) +- z_(1+ci)/2 / sqrt(n - 3))``.
- Spearman, n >= 10: bootstrap percentile over resampled (x, y) pairs.
- Otherwise: no interval (NaN). With n = 4 a Fisher-z interval has standard error 1 on the z
  scale and spans almost [-1, 1] whatever r is, and a bootstrap of 4 pairs has only a handful of
  distinct resamples (many with a constant side); neither says anything, so none is printed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from metaq.exceptions import InvalidParameterError
from metaq.stats._coefficients import Method, pearson, to_scores

MIN_N_FISHER = 5
MIN_N_BOOTSTRAP = 10


@dataclass(frozen=True)
class CorrelationInterval:
    """Lower and upper limits per predictor and how they were obtained.

    Attributes
    ----------
    lower, upper : numpy.ndarray, shape (k,)
        The limits (NaN where no interval is meaningful).
    ci_method : str
        ``"fisher_z"``, ``"bootstrap:<B>"`` or ``"none"`` (too few pairs).
    """

    lower: np.ndarray
    upper: np.ndarray
    ci_method: str


def correlation_interval(x: np.ndarray, y: np.ndarray, *, method: Method = "spearman",
                         ci: float = 0.95, n_bootstrap: int = 2000,
                         rng: np.random.Generator | None = None) -> CorrelationInterval:
    """Interval for the correlation of each column of `x` with `y`.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, k)
        The predictors.
    y : numpy.ndarray, shape (n,)
        The outcome.
    method : {"spearman", "pearson"}, default "spearman"
        The coefficient; decides the interval (see the module docstring).
    ci : float, default 0.95
        Coverage, strictly between 0 and 1.
    n_bootstrap : int, default 2000
        Resamples of the Spearman bootstrap.
    rng : numpy.random.Generator, optional
        Source of the bootstrap resamples; a fresh unseeded one when omitted.

    Returns
    -------
    CorrelationInterval
        The limits and the method used.

    Raises
    ------
    InvalidParameterError
        When `ci` is not in (0, 1) or `n_bootstrap` < 1.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(6.0)[:, None]
    >>> y = np.array([0.0, 2, 1, 3, 5, 4])
    >>> band = correlation_interval(x, y, method="pearson")
    >>> band.ci_method, bool(band.lower[0] < 0.89 < band.upper[0])
    ('fisher_z', True)
    """
    if not 0 < ci < 1:
        raise InvalidParameterError(f"ci must lie strictly between 0 and 1, got {ci!r} "
                                    f"(e.g. 0.95 for a 95 % interval)")
    if n_bootstrap < 1:
        raise InvalidParameterError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = y.shape[0]
    if method == "pearson" and n >= MIN_N_FISHER:
        return _fisher_z(x, y, ci)
    if method == "spearman" and n >= MIN_N_BOOTSTRAP:
        return _bootstrap(x, y, ci, n_bootstrap, rng or np.random.default_rng())
    missing = np.full(x.shape[1], np.nan)
    return CorrelationInterval(missing, missing.copy(), "none")


def _fisher_z(x: np.ndarray, y: np.ndarray, ci: float) -> CorrelationInterval:
    r = pearson(y, x)
    half_width = norm.ppf(0.5 + ci / 2) / np.sqrt(y.shape[0] - 3)
    with np.errstate(divide="ignore"):  # |r| = 1 maps to +-inf and back to +-1
        z = np.arctanh(r)
    return CorrelationInterval(np.tanh(z - half_width), np.tanh(z + half_width), "fisher_z")


def _bootstrap(x: np.ndarray, y: np.ndarray, ci: float, n_bootstrap: int,
               rng: np.random.Generator) -> CorrelationInterval:
    rows = rng.integers(0, y.shape[0], size=(n_bootstrap, y.shape[0]))
    rho = pearson(to_scores(y[rows], "spearman", axis=1), to_scores(x[rows], "spearman", axis=1))
    tails = [(1 - ci) / 2, (1 + ci) / 2]
    with warnings.catch_warnings():  # NaN for a column whose every resample is constant
        warnings.simplefilter("ignore", RuntimeWarning)
        lower, upper = np.nanquantile(rho, tails, axis=0)
    return CorrelationInterval(lower, upper, f"bootstrap:{n_bootstrap}")
