"""Prior scales of the hierarchical delta model (all on the logit scale of a score change).

Every prior is a Normal or HalfNormal set by its scale, zero-centred except the size trend of
the untuned level (its location ``base_size_mean``), so a spec is a flat mapping
``name -> float`` (a positive scale, or any finite location) that round-trips through JSON.
Slope scales are *totals*: each of the K per-feature coefficients gets ``scale / sqrt(K)``, so
the summed feature effect keeps the same prior spread whatever the number of (correlated)
metrics; every slope scale is further multiplied by the feature scale, the features' share
(``Beta(1, 1)``) of ``between_dataset_sd`` (see :mod:`metaq.modeling.pymc_model`).
See docs/predictor.md for the reasoning behind each value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from metaq.exceptions import InvalidParameterError

# priors given by their location (any finite value); every other entry is a positive scale
LOCATIONS = frozenset({"base_size_mean"})

DEFAULT_PRIORS: dict[str, float] = {
    # intercept of the change and its spread across tasks and base models
    "intercept": 1.0,
    "task_intercept_sd": 0.5,
    "model_intercept_sd": 0.5,
    # size trend of the mean change per unit of standardised log size (at least a factor e):
    # 0.25 puts a 70B model's mean change within about +-11 accuracy points (1 sd, p = 0.5)
    # of a 7B one's; 0.5 would allow +-25
    "size_intercept": 0.25,
    # base model x task interaction of the change (a model gains on one benchmark, loses on
    # another)
    "cell_intercept_sd": 0.3,
    # total spread of the change across datasets, split between the features and an
    # unexplained dataset effect (a new dataset draws it)
    "between_dataset_sd": 0.5,
    # feature slopes (totals over the K features), all in units of the feature scale (the
    # features' part of between_dataset_sd): population, size moderator, and the spreads of
    # the scale-group and task deviations
    "slope": 1.0,
    "size_slope": 0.6,
    "group_slope_sd": 0.5,
    "task_slope_sd": 0.5,
    # studies (with runs of two or more): each study's evaluation protocol moves the logit
    # score level of a task, untuned and fine-tuned alike (the same dataset on the same base
    # model printed as AIME24 0.502 in one paper and 0.667 in another: 0.69 logit)
    "protocol_sd": 0.5,
    # a study's mean change beyond its protocol (training recipe, hyper-parameters)
    "study_intercept_sd": 0.3,
    # the studies' deviations of the feature slopes, in units of the feature scale
    "study_slope_sd": 0.5,
    # run-to-run spread of the fine-tuned score beyond binomial noise (sd of p / sqrt(p(1-p)))
    "run_sd": 0.3,
    # untuned level theta_base[m, t] = base_mean + model + task + cell effects
    "base_mean": 1.5,
    "base_model_sd": 1.0,
    # size trend of the untuned level per unit of standardised log size (at least a factor e
    # in parameters); within a family a larger model scores higher: Llama 2 7B -> 13B -> 70B
    # gains 0.6 then 0.4 logit per factor e on MMLU, 1.4 then 0.3 on its Math average
    # (Table 3 of the Llama 2 paper)
    "base_size_mean": 0.5,
    "base_size": 0.5,
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
        For an unknown prior name (the message lists the valid ones), a scale that is not a
        positive finite number or a location that is not finite.

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
        if name in LOCATIONS:
            if not np.isfinite(scale):
                raise InvalidParameterError(f"prior {name!r} = {value!r} must be finite")
        elif not scale > 0 or scale == float("inf"):
            raise InvalidParameterError(
                f"prior {name!r} = {value!r} must be a positive finite scale")
        priors[name] = scale
    return priors
