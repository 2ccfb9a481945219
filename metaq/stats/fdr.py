"""Benjamini-Hochberg false discovery rate adjustment.

The adjustment is :func:`scipy.stats.false_discovery_control`; this module adds what the
correlation tables need around it: NaN p-values (tests that could not be run) stay NaN and out
of the family, and a value outside [0, 1] is a :class:`~metaq.exceptions.MetaqError`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import false_discovery_control

from metaq.exceptions import InvalidParameterError


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of one family of tests.

    ``q_(i) = min_{j >= i} min(1, m * p_(j) / j)`` over the p-values sorted ascending, with m
    the number of tests. A test is declared a discovery at FDR level alpha when q <= alpha.
    NaN p-values (tests that could not be run) are left NaN and are not counted in m.

    Parameters
    ----------
    p_values : array_like
        The p-values of the family, any shape.

    Returns
    -------
    numpy.ndarray
        The q-values, in the input's shape and order.

    Raises
    ------
    InvalidParameterError
        When a p-value lies outside [0, 1].

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p_values, dtype=float)
    finite = np.isfinite(p)
    outside = finite & ((p < 0) | (p > 1))
    if outside.any():
        raise InvalidParameterError(f"p-value {float(p[outside][0])!r} lies outside [0, 1]; "
                                    f"pass p-values, not test statistics")
    q = np.full(p.shape, np.nan)
    q[finite] = false_discovery_control(p[finite], method="bh")
    return q
