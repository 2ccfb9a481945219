"""Decision quantities on posterior draws: which candidate is best, and what picking one costs.

Both take a draws array of shape ``(n_draws, n_candidates)`` (one column per candidate, larger
is better) and work per draw before averaging, so correlated uncertainty between candidates
(they share the model's coefficients) is kept.
"""

from __future__ import annotations

import numpy as np


def prob_best(draws: np.ndarray) -> np.ndarray:
    """Probability that each candidate has the largest value, per column.

    Ties within a draw share the win equally, so the result sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> prob_best(np.array([[1.0, 0.0], [2.0, 3.0], [5.0, 1.0], [0.0, 0.0]])).tolist()
    [0.625, 0.375]
    """
    draws = np.asarray(draws, dtype=float)
    is_max = draws == draws.max(axis=1, keepdims=True)
    return (is_max / is_max.sum(axis=1, keepdims=True)).mean(axis=0)


def expected_regret(draws: np.ndarray) -> np.ndarray:
    """Compute the expected loss of picking each candidate instead of the (unknown) best one.

    Per draw, regret = best value among candidates - this candidate's value; then averaged.

    Examples
    --------
    >>> import numpy as np
    >>> expected_regret(np.array([[1.0, 0.0], [2.0, 3.0]])).tolist()
    [0.5, 0.5]
    """
    draws = np.asarray(draws, dtype=float)
    return (draws.max(axis=1, keepdims=True) - draws).mean(axis=0)
