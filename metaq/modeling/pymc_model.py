"""The PyMC graph of the hierarchical delta model (equations in docs/predictor.md).

Names of the deterministic nodes are the contract with :mod:`metaq.modeling.predictive`,
which evaluates the same linear predictor in NumPy for forecasts; the raw non-centred
``*_z`` variables are sampling devices and are not needed after the fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaq.modeling.design import TrainingData

# posterior variables a forecast needs (saved with the model)
PREDICTIVE_VARS: tuple[str, ...] = (
    "intercept", "task_intercept", "task_intercept_sd", "model_offset", "model_intercept_sd",
    "base_size",
    "size_intercept", "cell_intercept", "cell_intercept_sd", "dataset_offset", "dataset_sd",
    "slope", "size_slope", "group_slope", "group_slope_sd", "task_slope",
    "task_slope_sd", "theta_base", "base_mean", "base_model", "base_task", "base_model_sd",
    "base_task_sd", "base_cell_sd", "run_sd", "nu", "residual_sd",
    "protocol", "protocol_sd", "study_intercept", "study_intercept_sd", "study_slope",
    "study_slope_sd",
)


def build_pymc_model(data: TrainingData, features: list[str], tasks: list[str], models: list[str],
                     priors: dict[str, float], *, scale_effects: bool) -> tuple[Any, dict]:
    """Build the PyMC model of the training arrays.

    Parameters
    ----------
    data : TrainingData
        Arrays from :func:`metaq.modeling.design.build_training_data`.
    features, tasks, models : list of str
        Coordinate labels.
    priors : dict
        Resolved prior scales (:func:`metaq.modeling.priors.resolve_priors`).
    scale_effects : bool
        Include the size moderator and the partially pooled scale-group terms.

    Notes
    -----
    With runs of two or more studies (``data.has_study_level``) the graph adds, zero-sum
    over studies and non-centred: a study x task ``protocol`` offset on the logit of the score
    level (untuned and fine-tuned alike; binomial likelihood), a ``study_intercept`` of the
    change (where the change is identified) and study deviations ``study_slope`` of the
    population slopes, their spread a share of the feature scale. With fewer studies the
    graph is exactly the one without a ``study`` column.

    Training feature values that are missing (NaN in ``data.x_obs``) are latent,
    ``x_missing ~ Normal(0, 1)`` in standardised units, and the graph uses ``x_true`` (the
    observed values with the latent ones in their cells, and measurement error if any).

    Returns
    -------
    pymc.Model, dict
        The model and its named tensors (``mu``, ``x``, and for the binomial likelihood
        ``theta_run``, the level of each run, and ``p_ft``) for tests and checks.
    """
    import pymc as pm
    import pytensor.tensor as pt

    budget = prior_budget(data.feature_blocks, len(features))
    level_only = data.y is None and not len(data.base_cells)
    coords = {"feature": features, "task": tasks, "model": models, "dataset": data.datasets,
              "run": np.arange(len(data.run_row)), "feature_row": np.arange(len(data.x_obs))}
    if data.has_study_level:
        coords["study"] = data.studies
    with pm.Model(coords=coords) as model:
        x_obs = pm.Data("x_obs", np.nan_to_num(data.x_obs), dims=("feature_row", "feature"))
        run_row = pm.Data("run_row", data.run_row, dims="run")
        run_model = pm.Data("run_model", data.run_model, dims="run")
        run_task = pm.Data("run_task", data.run_task, dims="run")
        run_dataset = pm.Data("run_dataset", data.run_dataset, dims="run")
        size_z = pm.Data("size_z", data.size_z, dims="model")
        run_study = (pm.Data("run_study", data.run_study, dims="run") if data.has_study_level
                     else None)
        x = x_obs
        if data.has_measurement_error:
            x_se = pm.Data("x_se", data.x_se, dims=("feature_row", "feature"))
            x_err = pm.Normal("x_err_z", 0.0, 1.0, dims=("feature_row", "feature"))
            x = x_obs + x_se * x_err
        if data.has_missing_features:
            rows, columns = np.nonzero(np.isnan(data.x_obs))
            # a value a study did not print: latent, a priori a typical training dataset's
            x = pt.set_subtensor(x[rows, columns], pm.Normal("x_missing", 0.0, 1.0,
                                                              shape=len(rows)))
        if data.has_measurement_error or data.has_missing_features:
            x = pm.Deterministic("x_true", x, dims=("feature_row", "feature"))

        feature_scale, dataset_sd = _between_dataset_split(priors)
        # non-centred: with few datasets the slopes are weakly identified and a centred
        # slope funnels with the feature scale (R-hat 2 on the study's leave-one-out folds)
        slope = pm.Deterministic("slope", feature_scale * priors["slope"] * budget
                                 * pm.Normal("slope_z", 0.0, 1.0, dims="feature"),
                                 dims="feature")
        # the slopes' task and model deviations are shares of the feature scale too: a
        # deviation of fixed size would let a dataset the features barely separate move far
        task_slope = _pooled("task_slope", priors["task_slope_sd"], ("task", "feature"),
                             relative_to=feature_scale * budget)
        coef = slope[None, :] + task_slope[run_task]
        if run_study is not None:
            study_slope = _pooled("study_slope", priors["study_slope_sd"], ("study", "feature"),
                                  relative_to=feature_scale * budget, own_share=True)
            coef = coef + study_slope[run_study]
        dataset_offset = dataset_sd * pm.ZeroSumNormal("dataset_offset_z", 1.0, dims="dataset")
        dataset_offset = pm.Deterministic("dataset_offset", dataset_offset, dims="dataset")
        mu = dataset_offset[run_dataset]
        if not level_only:
            mu = mu + _change_location(priors, data, run_model, run_task, size_z,
                                       scale_effects=scale_effects)
            if run_study is not None:
                study_intercept = _pooled("study_intercept", priors["study_intercept_sd"],
                                          ("study",))
                mu = mu + study_intercept[run_study]
        if scale_effects:
            size_slope, group_slope = _size_trend(
                "group_slope", "size_slope", data.size_z, ("feature",),
                trend_sd=feature_scale * priors["size_slope"] * budget,
                offset_sd=_relative_sd("group_slope_sd", priors["group_slope_sd"],
                                       feature_scale * budget, dims="feature"))
            coef = coef + size_slope[None, :] * size_z[run_model][:, None] + group_slope[run_model]
        mu = mu + (x[run_row] * coef).sum(axis=-1)
        tensors = {"mu": mu, "x": x}
        if data.y is not None:
            nu = pm.Gamma("nu", 2.0, priors["nu_rate"])
            sigma = pm.HalfNormal("residual_sd", priors["residual_sd"])
            pm.StudentT("y", nu=nu, mu=mu, sigma=sigma, observed=pm.Data("y_obs", data.y),
                        shape=mu.shape)
        else:
            protocol = (_pooled("protocol", priors["protocol_sd"], ("study", "task"))
                        if run_study is not None else None)
            theta = _untuned_level(data, priors, protocol, scale_effects=scale_effects)
            tensors["theta_run"] = theta[run_model, run_task]
            if protocol is not None:
                tensors["theta_run"] = tensors["theta_run"] + protocol[run_study, run_task]
            p_ft = pm.math.invlogit(tensors["theta_run"] + mu)
            run_sd = pm.HalfNormal("run_sd", priors["run_sd"])
            phi = 1.0 / pt.square(run_sd)
            pm.BetaBinomial("k_ft", n=pm.Data("n_ft", data.n_ft), alpha=p_ft * phi,
                            beta=(1.0 - p_ft) * phi, observed=pm.Data("k_ft_obs", data.k_ft),
                            shape=mu.shape)
            tensors["p_ft"] = p_ft
    return model, tensors


def prior_budget(blocks: np.ndarray | None, n_features: int) -> np.ndarray:
    """Per-feature share of the slopes' prior scale: ``1 / sqrt(B * b_k)``.

    Features are grouped in blocks of near copies (:func:`metaq.modeling.design.metric_blocks`);
    with ``B`` blocks and ``b_k`` features in feature k's block, the summed effect of a block
    has the prior variance of one independent feature, and the K features together that of B
    independent ones. Without blocks every feature is its own block (``1 / sqrt(K)``).

    Examples
    --------
    >>> prior_budget(np.array([0, 0, 1]), 3).round(3).tolist()
    [0.5, 0.5, 0.707]
    """
    if n_features == 0:
        return np.ones(0)
    blocks = np.arange(n_features) if blocks is None else np.asarray(blocks, dtype=int)
    sizes = np.bincount(blocks)[blocks]
    return 1.0 / np.sqrt(len(np.unique(blocks)) * sizes)


def _change_location(priors: dict[str, float], data: TrainingData, run_model, run_task,
                     size_z, *, scale_effects: bool):
    """Dataset-independent part of the change of each run: intercept, task, model and cell.

    Only identified where untuned scores are observed; a table without any leaves it out
    (the untuned level then absorbs it, see :func:`build_pymc_model`).
    """
    import pymc as pm

    intercept = pm.Normal("intercept", 0.0, priors["intercept"])
    task_intercept = _pooled("task_intercept", priors["task_intercept_sd"], ("task",))
    location = intercept + task_intercept[run_task]
    if scale_effects:
        size_intercept, model_offset = _size_trend(
            "model_offset", "size_intercept", data.size_z, (),
            trend_sd=priors["size_intercept"],
            offset_sd=pm.HalfNormal("model_intercept_sd", priors["model_intercept_sd"]),
            centred=True)  # centred: each model's mean change is pinned by a grid of runs
        model_intercept = pm.Deterministic(
            "model_intercept", size_intercept * size_z + model_offset, dims="model")
        cell_intercept = _pooled("cell_intercept", priors["cell_intercept_sd"],
                                 ("model", "task"), group_axes=2)
        location = location + model_intercept[run_model] + cell_intercept[run_model, run_task]
    return location


def _between_dataset_split(priors: dict[str, float]):
    """Split the spread of dataset effects between the features and an unexplained part.

    ``tau ~ HalfNormal(between_dataset_sd)`` is the total spread of the change across
    datasets and ``share ~ Beta(1, 1)`` the part the features carry (R2-D2-style): the
    feature scale ``tau * sqrt(share)`` multiplies every slope's prior sd (population, size
    moderator, and the spreads of the per-model and per-task deviations) and the unexplained
    dataset effect has sd ``tau * sqrt(1 - share)``. The data pin ``tau`` down from the
    observed spread of the training datasets even when they cannot tell features apart, so
    the slopes' prior, and the spread of a forecast for a dataset outside the training range,
    is bounded by the spread datasets actually showed rather than set a priori.

    Returns
    -------
    feature_scale, dataset_sd : pytensor variables
    """
    import pymc as pm
    import pytensor.tensor as pt

    tau = pm.HalfNormal("between_dataset_sd", priors["between_dataset_sd"])
    # share ~ Beta(1, 1) written as the logistic of a Logistic(0, 1) variable (the same
    # distribution): PyTensor's fusion rewrite fails on sqrt(1 - Beta) (KeyError at compile)
    logit_share = pm.Logistic("feature_share_logit", 0.0, 1.0)
    share = pm.Deterministic("feature_share", pt.sigmoid(logit_share))
    feature_scale = pm.Deterministic("feature_scale", tau * pt.sqrt(share))
    return feature_scale, pm.Deterministic("dataset_sd", tau * pt.sqrt(pt.sigmoid(-logit_share)))


def _relative_sd(name: str, sd_scale: float, scale, dims: str | None = None, *,
                 own_share: bool = False):
    """``scale * HalfNormal(sd_scale)``, registered as `name` (the share as ``name_rel``).

    One share for every element of `dims`, or, with `own_share`, one per element.
    """
    import pymc as pm

    share = pm.HalfNormal(f"{name}_rel", sd_scale, dims=dims if own_share else None)
    return pm.Deterministic(name, scale * share, dims=dims)


def _pooled(name: str, sd_scale: float, dims: tuple[str, ...], *, sd_name: str | None = None,
            centred: bool = False, group_axes: int = 1, relative_to=None,
            own_share: bool = False):
    """Add partially pooled offsets with spread ``sd ~ HalfNormal(sd_scale)``.

    The offsets are zero-sum over the group axes (the first `group_axes` of `dims`; two for
    an interaction such as model x task): they are deviations from the population and main
    terms, so those and the mean offset cannot trade off along a ridge the sampler would
    crawl along. A new group draws ``sd * Normal(0, 1)``. With `relative_to` the spread is
    ``relative_to * HalfNormal(sd_scale)`` (:func:`_relative_sd`; one share per element with
    `own_share`), indexed by the dims after the group axes (per feature, for slopes).
    Non-centred (``sd * z``) by default; `centred` for offsets the data pin down tightly
    (untuned levels measured on hundreds of items), where non-centring makes a banana.
    """
    import pymc as pm

    sd_name = sd_name or f"{name}_sd"
    sd = (pm.HalfNormal(sd_name, sd_scale) if relative_to is None
          else _relative_sd(sd_name, sd_scale, relative_to, dims=dims[group_axes:] or None,
                            own_share=own_share))
    if centred:
        return pm.ZeroSumNormal(name, sigma=sd, dims=dims)
    # ZeroSumNormal sums to zero over its last axes: put the group axes last
    order = (*dims[group_axes:], *dims[:group_axes])
    raw = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=order, n_zerosum_axes=group_axes)
    if order != dims:
        raw = raw.T
    return pm.Deterministic(name, sd * raw, dims=dims)


def _size_trend(name: str, trend_name: str, size_z: np.ndarray, tail: tuple[str, ...], *,
                trend_sd, offset_sd, trend_mean: float = 0.0, centred: bool = False):
    """Add a size trend ``(tail)`` and the base models' deviations from it ``(model, *tail)``.

    The prior is ``trend ~ Normal(trend_mean, trend_sd)`` per tail element and deviations
    ``d ~ ZeroSumNormal(offset_sd)`` over the M training models, so the models' values are
    ``v_m = trend * z_m + d_m``. Sampled as written, the trend and the deviations trade off
    along ``z`` (a ridge the sampler crawls along); with two models the deviations could only
    be dropped, which forced every difference between them into the trend and extrapolated it
    to an unseen size. Instead the same prior is sampled exactly and without a ridge:

    * ``v``'s component along ``z / |z|`` is ``trend_mean |z| + c w`` with
      ``c = sqrt(trend_sd^2 |z|^2 + offset_sd^2)``, its components orthogonal to the constant
      and to ``z`` are ``offset_sd * B r`` (``B`` from :func:`_deviation_basis`);
    * the trend is drawn from its conditional given that component,
      ``trend = trend_mean + (trend_sd^2 |z| / c) w + (trend_sd offset_sd / c) e``, with
      ``w, e, r ~ Normal(0, 1)`` independent,

    and the deviations are ``d = v - trend * z`` (a deterministic). The prior splits a
    difference between two models into trend and deviation by their prior sds, and an unseen
    model gets ``trend * z_new`` plus a fresh deviation. `centred` samples ``c w`` and
    ``offset_sd r`` as ``Normal(0, c)`` and ``Normal(0, offset_sd)``.

    Returns
    -------
    trend, deviations : pytensor variables
        Registered as `trend_name` and `name`.
    """
    import pymc as pm
    import pytensor.tensor as pt

    context = pm.modelcontext(None)
    shape = (len(size_z), *(len(context.coords[d]) for d in tail))
    z = np.asarray(size_z, float)
    norm = float(np.linalg.norm(z))
    spare = pm.Normal(f"{trend_name}_z", 0.0, 1.0, shape=shape[1:])
    values = pt.zeros(shape)
    if norm > 1e-12:
        spread = pt.sqrt(pt.square(trend_sd) * norm**2 + pt.square(offset_sd))
        if centred:
            along = pm.Normal(f"{name}_along", 0.0, spread, shape=shape[1:])
            w = along / spread
        else:
            w = pm.Normal(f"{name}_along_z", 0.0, 1.0, shape=shape[1:])
            along = spread * w
        trend = (trend_mean + pt.square(trend_sd) * norm / spread * w
                 + trend_sd * offset_sd / spread * spare)
        values = values + pt.tensordot(z / norm, trend_mean * norm + along, axes=0)
    else:  # one training size: nothing to learn the trend from
        trend = trend_mean + trend_sd * spare
    basis = _deviation_basis(z)
    if basis.shape[1]:
        contrasts = (basis.shape[1], *shape[1:])
        if centred:
            raw = pm.Normal(f"{name}_contrast", 0.0, offset_sd, shape=contrasts)
        else:
            raw = offset_sd * pm.Normal(f"{name}_z", 0.0, 1.0, shape=contrasts)
        values = values + pt.tensordot(basis, raw, axes=1)
    trend = pm.Deterministic(trend_name, trend, dims=tail)
    deviations = values - pt.tensordot(z, trend, axes=0)
    return trend, pm.Deterministic(name, deviations, dims=("model", *tail))


def _deviation_basis(size_z: np.ndarray) -> np.ndarray:
    """Orthonormal ``(model, M - rank)`` basis of contrasts orthogonal to 1 and `size_z`."""
    span = np.column_stack([np.ones(len(size_z)), np.asarray(size_z, float)])
    left, singular, _ = np.linalg.svd(span, full_matrices=True)
    rank = int((singular > 1e-8 * singular.max()).sum())
    return left[:, rank:]


def _untuned_level(data: TrainingData, priors: dict[str, float], protocol=None, *,
                   scale_effects: bool):
    """theta_base[m, t] = base_mean + base_model[m] + base_task[t] + cell, with observed cells.

    With `scale_effects` the models' level is a size trend (``base_size``, per unit of
    standardised log size, prior mean ``base_size_mean`` > 0: within a family a larger base
    model scores higher) plus each model's deviation from it (:func:`_size_trend`). With a
    study level an observed untuned score of study s is ``theta_base[m, t] + protocol[s, t]``
    (`protocol`, ``(study, task)``): the level itself stays keyed by base model and task, so a
    base model printed by several studies shares it.
    """
    import pymc as pm

    base_mean = pm.Normal("base_mean", 0.0, priors["base_mean"])
    if scale_effects:
        # non-centred: the cells, not the few models, carry the items; centred deviations
        # funnelled at a small base_model_sd (23 divergences on the recovery simulation, 6)
        base_size, deviation = _size_trend(
            "base_model", "base_size", data.size_z, (), trend_mean=priors["base_size_mean"],
            trend_sd=priors["base_size"],
            offset_sd=pm.HalfNormal("base_model_sd", priors["base_model_sd"]))
        base_model = base_size * data.size_z + deviation
    else:
        base_model = _pooled("base_model", priors["base_model_sd"], ("model",), centred=True)
    base_task = _pooled("base_task", priors["base_task_sd"], ("task",), centred=True)
    # centred: every observed cell carries hundreds of items, which a non-centred cell term
    # turns into a funnel
    cell_sd = pm.HalfNormal("base_cell_sd", priors["base_cell_sd"])
    theta = pm.Normal("theta_base", base_mean + base_model[:, None] + base_task[None, :],
                      cell_sd, dims=("model", "task"))
    if len(data.base_cells):
        cells_m = pm.Data("base_cell_model", data.base_cells[:, 0])
        cells_t = pm.Data("base_cell_task", data.base_cells[:, 1])
        level = theta[cells_m, cells_t]
        if protocol is not None:
            level = level + protocol[pm.Data("base_cell_study", data.base_cell_study), cells_t]
        pm.Binomial("k_base", n=pm.Data("n_base", data.n_base),
                    p=pm.math.invlogit(level),
                    observed=pm.Data("k_base_obs", data.k_base), shape=cells_m.shape)
    return theta
