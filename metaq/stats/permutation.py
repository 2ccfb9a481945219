"""Permutation tests of correlation coefficients: exact for small n, Monte Carlo otherwise."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from metaq.exceptions import InvalidParameterError, UnknownNameError
from metaq.stats._coefficients import METHODS, Method, pearson, to_scores

EXACT_MAX_N = 8
"""Largest sample size tested over all n! orderings (8! = 40,320)."""

TIE_TOLERANCE = 1e-10
"""A permuted |rho| within this of the observed |rho| counts as at least as extreme."""


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

    With n <= 8 every one of the n! orderings of `y` is evaluated (the identity included), so
    the p-value is exact: the share of orderings whose |rho| reaches the observed one. Larger
    samples use `n_permutations` random orderings and ``(b + 1) / (m + 1)`` (b of m reach it),
    which is a valid p-value that never equals 0. All orderings are scored in one matrix
    product per call.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, k) or (n,)
        The predictors (e.g. one dataset metric per column).
    y : numpy.ndarray, shape (n,)
        The outcome (e.g. the change of a benchmark score after fine-tuning).
    method : {"spearman", "pearson"}, default "spearman"
        The coefficient. Spearman uses average ranks for ties.
    n_permutations : int, default 9999
        Random orderings used when n > 8.
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
    observed = pearson(y_scores, x_scores)
    if n <= EXACT_MAX_N:
        orderings, label = all_orderings(n), "exact"
    else:
        rng = rng if rng is not None else np.random.default_rng()
        orderings = rng.permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)
        label = f"monte_carlo:{n_permutations}"
    null = pearson(y_scores[orderings], x_scores)
    reached = (np.abs(null) >= np.abs(observed) - TIE_TOLERANCE).sum(axis=0)
    if label == "exact":
        p_value = reached / len(orderings)
    else:
        p_value = (reached + 1) / (n_permutations + 1)
    return PermutationTest(observed, np.where(np.isnan(observed), np.nan, p_value), label)


@lru_cache(maxsize=EXACT_MAX_N)
def all_orderings(n: int) -> np.ndarray:
    """Every permutation of ``range(n)`` as rows of an (n!, n) integer array (read-only)."""
    orderings = np.array(list(itertools.permutations(range(n))), dtype=np.intp).reshape(-1, n)
    orderings.flags.writeable = False
    return orderings


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
