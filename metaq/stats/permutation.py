"""Permutation tests of correlation coefficients: exact for small n, Monte Carlo otherwise.

The null distribution and the p-value come from :func:`scipy.stats.permutation_test`, given a
vectorised statistic that scores every ordering against all k predictors at once, so one
(model, benchmark, domain) is one call. Measured against a hand-written version (all n!
orderings in one matrix product) with ``python analyses/bench_correlate.py``: identical
p-values on the study and on the Monte Carlo case (the same orderings for the same seed).
scipy takes 1.4-3.4x the time of this step, a few milliseconds of a ``correlate`` call on the
study (1.1-1.3x the whole call; at most 1.6x, at n = 8; see docs/reference_study.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import permutation_test

from metaq.exceptions import InvalidParameterError, UnknownNameError
from metaq.stats._coefficients import METHODS, Method, pearson, to_scores

EXACT_MAX_N = 8
"""Largest sample size tested over all n! orderings (8! = 40,320)."""

DECIMALS = 10
"""|rho| is rounded to this many decimals before orderings are compared with the observed one.

Orderings whose coefficient equals the observed one up to floating-point roundoff then count
as reaching it. scipy's own tolerance is relative to the observed value, so it misses such
ties at rho = 0 (e.g. an observed 4e-17 against an exact 0) and understates p there.
"""


@dataclass(frozen=True)
class PermutationTest:
    """Coefficients and two-sided permutation p-values of k predictors against one outcome.

    Attributes
    ----------
    rho : numpy.ndarray, shape (k,)
        The observed coefficients (NaN where a side is constant).
    p_value : numpy.ndarray, shape (k,)
        Two-sided p-values, P(|rho_perm| >= |rho_obs|) under exchangeability.
    p_method : str
        ``"exact"`` (all n! orderings) or ``"monte_carlo:<m>"`` (m random orderings).
    """

    rho: np.ndarray
    p_value: np.ndarray
    p_method: str


def correlation_permutation_test(x: np.ndarray, y: np.ndarray, *, method: Method = "spearman",
                                 n_permutations: int = 9999,
                                 rng: np.random.Generator | None = None) -> PermutationTest:
    """Correlate each column of `x` with `y` and test it by permuting `y`.

    With n <= 8 (or `n_permutations` >= n!) every one of the n! orderings of `y` is evaluated,
    the identity included, so the p-value is exact: the share of orderings whose |rho| reaches
    the observed one. Larger samples use `n_permutations` random orderings and
    ``(b + 1) / (m + 1)`` (b of m reach it), which is a valid p-value that never equals 0.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, k) or (n,)
        The predictors (e.g. one dataset metric per column).
    y : numpy.ndarray, shape (n,)
        The outcome (e.g. the change of a benchmark score after fine-tuning).
    method : {"spearman", "pearson"}, default "spearman"
        The coefficient. Spearman uses average ranks for ties.
    n_permutations : int, default 9999
        Random orderings used when n > 8 and n! is larger.
    rng : numpy.random.Generator, optional
        Source of the random orderings; a fresh unseeded one when omitted.

    Returns
    -------
    PermutationTest
        Coefficients, p-values and the method used for the p-values.

    Raises
    ------
    UnknownNameError
        On an unknown method.
    InvalidParameterError
        On mismatched lengths or ``n_permutations < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> test = correlation_permutation_test(np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 9]))
    >>> round(float(test.rho[0]), 2), float(test.p_value[0]) * 12, test.p_method
    (1.0, 1.0, 'exact')
    """
    x_scores, y_scores = _scores(x, y, method)
    n = y_scores.shape[0]
    if n_permutations < 1:
        raise InvalidParameterError(f"n_permutations must be >= 1, got {n_permutations}")
    exact = n <= EXACT_MAX_N or n_permutations >= math.factorial(n)

    def abs_rho(permuted_y: np.ndarray, axis: int) -> np.ndarray:
        return np.round(np.abs(pearson(permuted_y, x_scores)), DECIMALS)

    observed = pearson(y_scores, x_scores)
    label = "exact" if exact else f"monte_carlo:{n_permutations}"
    if np.isnan(observed).all():  # a constant side, or fewer than two pairs: nothing to test
        return PermutationTest(observed, observed.copy(), label)
    result = permutation_test((y_scores,), abs_rho, permutation_type="pairings",
                              vectorized=True, n_resamples=np.inf if exact else n_permutations,
                              alternative="greater", rng=rng)
    return PermutationTest(observed, np.where(np.isnan(observed), np.nan, result.pvalue), label)


def _scores(x: np.ndarray, y: np.ndarray, method: Method) -> tuple[np.ndarray, np.ndarray]:
    if method not in METHODS:
        raise UnknownNameError(
            f"unknown correlation method {method!r}; choose one of {list(METHODS)}")
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise InvalidParameterError(f"x has {x.shape[0]} rows but y has shape {y.shape}; they "
                                    f"must pair one value of y with each row of x")
    return to_scores(x, method, axis=0), to_scores(y, method, axis=0)
