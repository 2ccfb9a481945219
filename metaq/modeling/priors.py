"""Prior scales of the hierarchical delta model (all on the logit scale of a score change).

Every prior is a zero-centred Normal or HalfNormal; a prior is set by its scale alone, so a
spec is a flat mapping ``name -> positive float`` that round-trips through JSON. Slope scales
are *totals*: each of the K per-feature coefficients gets ``scale / sqrt(K)``, so the summed
feature effect keeps the same prior spread whatever the number of (correlated) metrics; the
population and size slopes' scales are further multiplied by the feature scale, the features'
share (``Beta(1, 1)``) of ``between_dataset_sd`` (see :mod:`metaq.modeling.pymc_model`).
See docs/predictor.md for the reasoning behind each value.
"""

from __future__ import annotations

from collections.abc import Mapping

from metaq.exceptions import InvalidParameterError

DEFAULT_PRIORS: dict[str, float] = {
    # intercept of the change and its spread across tasks and base models
    "intercept": 1.0,
    "task_intercept_sd": 0.5,
    "model_intercept_sd": 0.5,
    "size_intercept": 0.5,
    # base model x task interaction of the change (a model gains on one benchmark, loses on
    # another)
    "cell_intercept_sd": 0.3,
    # total spread of the change across datasets, split between the features and an
    # unexplained dataset effect (a new dataset draws it)
    "between_dataset_sd": 0.5,
    # feature slopes (totals over the K features): population and size moderator in units of
    # the feature scale (the features' part of between_dataset_sd); scale-group and task
    # deviations on the logit scale
    "slope": 1.0,
    "size_slope": 0.6,
    "group_slope_sd": 0.2,
    "task_slope_sd": 0.2,
    # run-to-run spread of the fine-tuned score beyond binomial noise (sd of p / sqrt(p(1-p)))
    "run_sd": 0.3,
    # untuned level theta_base[m, t] = base_mean + model + task + cell effects
    "base_mean": 1.5,
    "base_model_sd": 1.0,
    "base_task_sd": 1.0,
    "base_cell_sd": 0.5,
    # Student-t likelihood (no n_items), on the change divided by its sample sd
    "residual_sd": 1.0,
    "nu_rate": 0.1,
}


def resolve_priors(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Merge `overrides` over :data:`DEFAULT_PRIORS`, checking names and values.

    Parameters
    ----------
    overrides : mapping of str to float, optional
        Prior scales to change.

    Returns
    -------
    dict
        The full prior specification.

    Raises
    ------
    InvalidParameterError
        For an unknown prior name (the message lists the valid ones) or a scale that is not a
        positive finite number.

    Examples
    --------
    >>> resolve_priors({"slope": 0.25})["slope"]
    0.25
    """
    priors = dict(DEFAULT_PRIORS)
    for name, value in (overrides or {}).items():
        if name not in DEFAULT_PRIORS:
            raise InvalidParameterError(
                f"unknown prior {name!r}; valid names: {sorted(DEFAULT_PRIORS)}")
        try:
            scale = float(value)
        except (TypeError, ValueError):
            scale = float("nan")
        if not scale > 0 or scale == float("inf"):
            raise InvalidParameterError(
                f"prior {name!r} = {value!r} must be a positive finite scale")
        priors[name] = scale
    return priors
