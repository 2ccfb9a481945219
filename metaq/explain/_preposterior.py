"""Preposterior analysis without refitting: how much a new run would shrink the variance.

For a candidate run whose outcome ``y`` (one value per benchmark) has, under posterior draw
``s``, mean ``mu[s]`` and noise sd ``sd[s]``, the expected posterior variance of a quantity
``f`` after seeing ``y`` is approximated by

1. drawing ``s*`` uniformly from the posterior draws and simulating ``y ~ Normal(mu[s*], sd[s*])``
   (the prior predictive of the future outcome, under the current posterior);
2. re-weighting every posterior draw by its likelihood of ``y``, ``w[s] ∝ p(y | s)`` (the
   updated posterior by importance sampling, with the current posterior as proposal);
3. taking the weighted variance of ``f``, and averaging over the simulated outcomes.

Assumptions (stated in the docs too): the outcome is Gaussian given a draw on the model's
target scale, benchmarks are independent given a draw, and the current draws cover the updated
posterior well enough; the effective sample size of the weights is returned so this can be
checked (it falls when a run would be very informative, and the estimate is then rougher).
"""

from __future__ import annotations

import numpy as np


def expected_posterior_variance(quantity: np.ndarray, outcome_mean: np.ndarray,
                                outcome_sd: np.ndarray, *, n_outcomes: int = 200,
                                random_seed: int | None = None
                                ) -> tuple[np.ndarray, float]:
    """Estimate the variance of each quantity expected after observing the run.

    Parameters
    ----------
    quantity : numpy.ndarray
        Shape ``(n_draws, n_quantities)``: draws of what the user cares about.
    outcome_mean, outcome_sd : numpy.ndarray
        Shape ``(n_draws, n_outcomes_dims)``: mean and noise sd of the candidate run's outcome
        under each draw.
    n_outcomes : int, default 200
        Number of simulated outcomes averaged over.
    random_seed : int, optional
        Seed of the simulation.

    Returns
    -------
    expected_variance : numpy.ndarray
        Shape ``(n_quantities,)``.
    mean_ess : float
        Mean effective sample size of the importance weights (out of ``n_draws``).

    Examples
    --------
    Conjugate check: theta ~ N(0, 1), y ~ N(theta, 1) gives posterior variance 1/2.

    >>> import numpy as np
    >>> theta = np.random.default_rng(0).normal(size=(4000, 1))
    >>> var, _ = expected_posterior_variance(theta, theta, np.ones_like(theta), random_seed=1)
    >>> bool(abs(var[0] - 0.5) < 0.05)
    True
    """
    quantity = np.asarray(quantity, dtype=float)
    mean = np.asarray(outcome_mean, dtype=float)
    sd = np.asarray(outcome_sd, dtype=float)
    rng = np.random.default_rng(random_seed)
    n_draws = quantity.shape[0]
    sources = rng.integers(n_draws, size=n_outcomes)
    variances = np.empty((n_outcomes, quantity.shape[1]))
    ess = np.empty(n_outcomes)
    for i, source in enumerate(sources):
        outcome = rng.normal(mean[source], sd[source])
        weights = _likelihood_weights(outcome, mean, sd)
        centred = quantity - weights @ quantity
        variances[i] = weights @ centred**2
        ess[i] = 1.0 / np.sum(weights**2)
    return variances.mean(axis=0), float(ess.mean())


def _likelihood_weights(outcome: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    log_lik = -0.5 * np.sum(((outcome - mean) / sd) ** 2 + 2.0 * np.log(sd), axis=1)
    weights = np.exp(log_lik - log_lik.max())
    return weights / weights.sum()
