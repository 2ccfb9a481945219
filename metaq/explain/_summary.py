"""Summaries of posterior draws shared by the explain functions.

Every explain function computes its quantity per posterior draw and only then reduces it
with :func:`summarise_draws`, so contrasts keep their paired uncertainty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metaq.modeling.forecast import check_prob


def summarise_draws(draws: np.ndarray, prob: float | None = None) -> pd.DataFrame:
    """Reduce draws (first axis) to estimate, central interval and probability of direction.

    Parameters
    ----------
    draws : numpy.ndarray
        Shape ``(n_draws,)`` or ``(n_draws, n_items)``.
    prob : float, optional
        Mass of the central interval; :data:`metaq.modeling.forecast.DEFAULT_PROB` when None.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``estimate`` (posterior mean), ``lower``, ``upper`` (central
        interval), ``prob_positive`` (share of draws above zero) and ``prob_direction`` (the
        larger of ``prob_positive`` and its complement).

    Examples
    --------
    >>> import numpy as np
    >>> summarise_draws(np.array([-1.0, 1.0, 2.0, 3.0]), prob=0.5)["prob_positive"].item()
    0.75
    """
    prob = check_prob(prob)
    draws = np.asarray(draws, dtype=float)
    if draws.ndim == 1:
        draws = draws[:, None]
    tail = (1.0 - prob) / 2.0
    lower, upper = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    positive = (draws > 0).mean(axis=0)
    return pd.DataFrame({
        "estimate": draws.mean(axis=0),
        "lower": lower,
        "upper": upper,
        "prob_positive": positive,
        "prob_direction": np.maximum(positive, 1.0 - positive),
    })
