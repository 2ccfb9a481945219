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
    "size_intercept", "cell_intercept", "cell_intercept_sd", "dataset_offset", "dataset_sd",
    "slope", "size_slope", "group_slope", "group_slope_sd", "task_slope",
    "task_slope_sd", "theta_base", "base_mean", "base_model", "base_task", "base_model_sd",
    "base_task_sd", "base_cell_sd", "run_sd", "nu", "residual_sd",
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

    Returns
    -------
    pymc.Model, dict
        The model and its named tensors (``mu``, ``x``, ...) for tests and checks.
    """
    import pymc as pm
    import pytensor.tensor as pt

    n_features = max(len(features), 1)
    root_k = float(np.sqrt(n_features))
    coords = {"feature": features, "task": tasks, "model": models, "dataset": data.datasets,
              "run": np.arange(len(data.run_row)), "feature_row": np.arange(len(data.x_obs))}
    with pm.Model(coords=coords) as model:
        x_obs = pm.Data("x_obs", data.x_obs, dims=("feature_row", "feature"))
        run_row = pm.Data("run_row", data.run_row, dims="run")
        run_model = pm.Data("run_model", data.run_model, dims="run")
        run_task = pm.Data("run_task", data.run_task, dims="run")
        run_dataset = pm.Data("run_dataset", data.run_dataset, dims="run")
        size_z = pm.Data("size_z", data.size_z, dims="model")
        x = x_obs
        if data.has_measurement_error:
            x_se = pm.Data("x_se", data.x_se, dims=("feature_row", "feature"))
            x_err = pm.Normal("x_err_z", 0.0, 1.0, dims=("feature_row", "feature"))
            x = pm.Deterministic("x_true", x_obs + x_se * x_err, dims=("feature_row", "feature"))

        intercept = pm.Normal("intercept", 0.0, priors["intercept"])
        task_intercept = _pooled("task_intercept", priors["task_intercept_sd"], ("task",))
        feature_scale, dataset_sd = _between_dataset_split(priors)
        # non-centred: with few datasets the slopes are weakly identified and a centred
        # slope funnels with the feature scale (R-hat 2 on the study's leave-one-out folds)
        slope = pm.Deterministic("slope", feature_scale * priors["slope"] / root_k
                                 * pm.Normal("slope_z", 0.0, 1.0, dims="feature"),
                                 dims="feature")
        task_slope = _pooled("task_slope", priors["task_slope_sd"] / root_k, ("task", "feature"))
        coef = slope[None, :] + task_slope[run_task]
        dataset_offset = dataset_sd * pm.ZeroSumNormal("dataset_offset_z", 1.0, dims="dataset")
        dataset_offset = pm.Deterministic("dataset_offset", dataset_offset, dims="dataset")
        mu = intercept + task_intercept[run_task] + dataset_offset[run_dataset]
        if scale_effects:
            size_intercept = pm.Normal("size_intercept", 0.0, priors["size_intercept"])
            # centred: each base model's mean change is pinned down by a grid of runs
            model_offset = _size_deviation("model_offset", priors["model_intercept_sd"],
                                           data.size_z, (), sd_name="model_intercept_sd",
                                           centred=True)
            model_intercept = pm.Deterministic(
                "model_intercept", size_intercept * size_z + model_offset, dims="model")
            cell_intercept = _pooled("cell_intercept", priors["cell_intercept_sd"],
                                     ("model", "task"), group_axes=2)
            size_slope = pm.Deterministic(
                "size_slope", feature_scale * priors["size_slope"] / root_k
                * pm.Normal("size_slope_z", 0.0, 1.0, dims="feature"), dims="feature")
            group_slope = _size_deviation("group_slope", priors["group_slope_sd"] / root_k,
                                          data.size_z, ("feature",))
            coef = coef + size_slope[None, :] * size_z[run_model][:, None] + group_slope[run_model]
            mu = mu + model_intercept[run_model] + cell_intercept[run_model, run_task]
        mu = mu + (x[run_row] * coef).sum(axis=-1)
        tensors = {"mu": mu, "x": x}
        if data.y is not None:
            nu = pm.Gamma("nu", 2.0, priors["nu_rate"])
            sigma = pm.HalfNormal("residual_sd", priors["residual_sd"])
            pm.StudentT("y", nu=nu, mu=mu, sigma=sigma, observed=pm.Data("y_obs", data.y),
                        shape=mu.shape)
        else:
            theta = _untuned_level(data, priors)
            p_ft = pm.math.invlogit(theta[run_model, run_task] + mu)
            run_sd = pm.HalfNormal("run_sd", priors["run_sd"])
            phi = 1.0 / pt.square(run_sd)
            pm.BetaBinomial("k_ft", n=pm.Data("n_ft", data.n_ft), alpha=p_ft * phi,
                            beta=(1.0 - p_ft) * phi, observed=pm.Data("k_ft_obs", data.k_ft),
                            shape=mu.shape)
            tensors["p_ft"] = p_ft
    return model, tensors


def _between_dataset_split(priors: dict[str, float]):
    """Split the spread of dataset effects between the features and an unexplained part.

    ``tau ~ HalfNormal(between_dataset_sd)`` is the total spread of the change across
    datasets and ``share ~ Beta(1, 1)`` the part the features carry (R2-D2-style): the
    feature scale ``tau * sqrt(share)`` multiplies the population and size slopes' prior
    sds (the smaller per-model and per-task deviations keep fixed priors) and the unexplained
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


def _pooled(name: str, sd_scale: float, dims: tuple[str, ...], *, sd_name: str | None = None,
            centred: bool = False, group_axes: int = 1):
    """Add partially pooled offsets with spread ``sd ~ HalfNormal(sd_scale)``.

    The offsets are zero-sum over the group axes (the first `group_axes` of `dims`; two for
    an interaction such as model x task): they are deviations from the population and main
    terms, so those and the mean offset cannot trade off along a ridge the sampler would
    crawl along. A new group draws ``sd * Normal(0, 1)``.
    Non-centred (``sd * z``) by default; `centred` for offsets the data pin down tightly
    (untuned levels measured on hundreds of items), where non-centring makes a banana.
    """
    import pymc as pm

    sd = pm.HalfNormal(sd_name or f"{name}_sd", sd_scale)
    if centred:
        return pm.ZeroSumNormal(name, sigma=sd, dims=dims)
    # ZeroSumNormal sums to zero over its last axes: put the group axes last
    order = (*dims[group_axes:], *dims[:group_axes])
    raw = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=order, n_zerosum_axes=group_axes)
    if order != dims:
        raw = raw.T
    return pm.Deterministic(name, sd * raw, dims=dims)


def _size_deviation(name: str, sd_scale: float, size_z: np.ndarray, tail: tuple[str, ...], *,
                    sd_name: str | None = None, centred: bool = False):
    """Scale-group offsets: per-model deviations from the size trend, ``(model, *tail)``.

    The offsets of the M training models are ``sd * B @ z`` with ``B`` an orthonormal basis
    of the model contrasts orthogonal to both the constant and the log size: the size trend
    (``size_intercept``, ``size_slope``) owns the direction along log size, the offsets the
    rest. Zero-sum offsets alone would duplicate that direction, a ridge the sampler crawls
    along (R-hat 1.02 on three sizes). With two sizes there is nothing left (the offsets are
    0: two models cannot separate a size trend from a model effect); ``sd`` then keeps its
    prior and is what an unseen model draws its offset from. `centred` samples the contrasts
    as ``Normal(0, sd)`` instead of ``sd * Normal(0, 1)``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    basis = _deviation_basis(size_z)
    sd = pm.HalfNormal(sd_name or f"{name}_sd", sd_scale)
    shape = (len(size_z), *(len(pm.modelcontext(None).coords[d]) for d in tail))
    if basis.shape[1] == 0:
        return pm.Deterministic(name, pt.zeros(shape), dims=("model", *tail))
    contrasts = (basis.shape[1], *shape[1:])
    if centred:
        offsets = pt.tensordot(basis, pm.Normal(f"{name}_contrast", 0.0, sd, shape=contrasts),
                               axes=1)
    else:
        offsets = sd * pt.tensordot(basis, pm.Normal(f"{name}_z", 0.0, 1.0, shape=contrasts),
                                    axes=1)
    return pm.Deterministic(name, offsets, dims=("model", *tail))


def _deviation_basis(size_z: np.ndarray) -> np.ndarray:
    """Orthonormal ``(model, M - rank)`` basis of contrasts orthogonal to 1 and `size_z`."""
    span = np.column_stack([np.ones(len(size_z)), np.asarray(size_z, float)])
    left, singular, _ = np.linalg.svd(span, full_matrices=True)
    rank = int((singular > 1e-8 * singular.max()).sum())
    return left[:, rank:]


def _untuned_level(data: TrainingData, priors: dict[str, float]):
    """theta_base[m, t] = base_mean + base_model[m] + base_task[t] + cell, with observed cells."""
    import pymc as pm

    base_mean = pm.Normal("base_mean", 0.0, priors["base_mean"])
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
        pm.Binomial("k_base", n=pm.Data("n_base", data.n_base),
                    p=pm.math.invlogit(theta[cells_m, cells_t]),
                    observed=pm.Data("k_base_obs", data.k_base), shape=cells_m.shape)
    return theta
