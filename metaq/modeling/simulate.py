"""Run tables simulated from the predictor's own generative process, with known coefficients.

Used by the parameter-recovery tests, the fit benchmark and the validation harness. The
simulated features are standardised with the same statistics the fit uses (sample mean and
sd over datasets, floored sd of log sizes over models), so the true coefficients are directly
comparable with the posterior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from metaq.modeling.design import MIN_LOG_SIZE_SD


@dataclass
class SimulatedRuns:
    """A simulated runs table, its features table and the true parameters.

    Attributes
    ----------
    runs, features : pandas.DataFrame
        Tables following the metaq contracts.
    truth : dict of str to numpy.ndarray
        The model's parameters (group and task offsets sum to zero over groups, as in the
        model, so the population terms are directly comparable): ``slope`` (feature,),
        ``size_slope`` (feature,), ``group_slope`` (model, feature), ``task_slope``
        (task, feature), ``intercept``, ``task_intercept``, ``model_intercept``,
        ``dataset_offset`` (dataset,), ``theta_base`` (model, task), ``run_sd``,
        ``size_z`` (model,); with studies also ``protocol`` (study, task), zero-sum over
        studies, and ``dataset_study`` (dataset,).
    """

    runs: pd.DataFrame
    features: pd.DataFrame
    truth: dict[str, np.ndarray] = field(repr=False)


def simulate_runs(*, n_datasets: int = 20, params_b: Sequence[float] = (1.0, 8.0, 70.0),
                  n_tasks: int = 4, slope: Sequence[float] = (0.3, 0.0, -0.2),
                  size_slope: Sequence[float] = (0.0, 0.4, 0.0), group_slope_sd: float = 0.05,
                  task_slope_sd: float = 0.05, run_sd: float = 0.1, n_items: int = 900,
                  feature_se: float = 0.0, dataset_sd: float = 0.0, n_studies: int = 1,
                  protocol_sd: float = 0.0, random_seed: int | None = None) -> SimulatedRuns:
    """Simulate past fine-tuning runs with known (scale-dependent) feature effects.

    Parameters
    ----------
    n_datasets : int, default 20
        Training datasets (each fine-tuned into every model).
    params_b : sequence of float
        Base model sizes in billions (one model, and scale group, each).
    n_tasks : int, default 4
        Benchmarks.
    slope, size_slope : sequence of float
        Population slope and size moderator per standardised feature (same length). A
        positive ``size_slope`` with zero ``slope`` gives a metric that helps large models and
        hurts small ones.
    group_slope_sd, task_slope_sd : float
        Spread of the model- and task-specific slope deviations.
    run_sd : float
        Run-to-run overdispersion (the model's ``run_sd``).
    n_items : int, default 900
        Items per benchmark score.
    feature_se : float, default 0.0
        Standard error attached to every feature (in raw units; the raw features have sd 1
        across datasets), drawn into the observed values.
    dataset_sd : float, default 0.0
        Spread of an effect of each dataset that its features do not explain (shared by all
        models and tasks, zero-sum over datasets); 0 gives datasets fully described by
        their features.
    n_studies : int, default 1
        Studies the datasets are split between (in turn: dataset i belongs to study
        ``i % n_studies``); each study prints the untuned scores of every model under its
        own protocol. With two or more the runs table has a ``study`` column.
    protocol_sd : float, default 0.0
        Spread of the studies' protocol offsets on the logit of the score level, per task
        (zero-sum over studies); they move untuned and fine-tuned scores alike.
    random_seed : int, optional
        Seed.

    Returns
    -------
    SimulatedRuns

    Examples
    --------
    >>> sim = simulate_runs(n_datasets=5, random_seed=0)
    >>> len(sim.runs), sorted(sim.features.columns)[:2]
    (60, ['dataset_id', 'f0'])
    """
    rng = np.random.default_rng(random_seed)
    slope = np.asarray(slope, float)
    size_slope = np.asarray(size_slope, float)
    n_features, n_models = len(slope), len(params_b)
    x = rng.standard_normal((n_datasets, n_features))
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    log_size = np.log(np.asarray(params_b, float))
    log_size_sd = log_size.std(ddof=1) if n_models > 1 else 0.0
    size_z = (log_size - log_size.mean()) / max(log_size_sd, MIN_LOG_SIZE_SD)
    truth = {
        "slope": slope, "size_slope": size_slope, "size_z": size_z, "run_sd": run_sd,
        "group_slope": group_slope_sd * _zero_sum(rng, (n_models, n_features)),
        "task_slope": task_slope_sd * _zero_sum(rng, (n_tasks, n_features)),
        "intercept": -0.1, "task_intercept": 0.2 * _zero_sum(rng, (n_tasks,)),
        # drawn only when asked for, so the default keeps the random stream of earlier tables
        "dataset_offset": (dataset_sd * _zero_sum(rng, (n_datasets,)) if dataset_sd > 0
                           else np.zeros(n_datasets)),
        "model_intercept": 0.1 * size_z + 0.05 * _zero_sum(rng, (n_models,)),
        "theta_base": rng.normal(0.3, 0.8, size=(n_models, n_tasks)),
    }
    coef = (slope[None, None] + size_slope[None, None] * size_z[:, None, None]
            + truth["group_slope"][:, None] + truth["task_slope"][None])  # (model, task, feature)
    mu = (truth["intercept"] + truth["dataset_offset"][:, None, None]
          + truth["task_intercept"][None, None]
          + truth["model_intercept"][None, :, None] + np.einsum("dk,mtk->dmt", x, coef))
    study = np.arange(n_datasets) % n_studies
    protocol = np.zeros((n_studies, n_tasks))
    if n_studies > 1:  # drawn only then, so one study keeps the random stream of earlier tables
        protocol = protocol_sd * _zero_sum(rng, (n_studies, n_tasks))
        truth.update(protocol=protocol, dataset_study=study)
    level = truth["theta_base"][None] + protocol[:, None, :]  # (study, model, task)
    p = expit(level[study] + mu)
    phi = 1.0 / run_sd**2
    k_ft = rng.binomial(n_items, rng.beta(p * phi, (1 - p) * phi))
    k_base = rng.binomial(n_items, expit(level if n_studies > 1 else truth["theta_base"]))
    k_base = k_base if n_studies > 1 else k_base[None]
    names = [f"m{int(round(s))}b" for s in params_b]
    d, m, t = np.meshgrid(np.arange(n_datasets), np.arange(n_models), np.arange(n_tasks),
                          indexing="ij")
    d, m, t = d.ravel(), m.ravel(), t.ravel()
    runs = pd.DataFrame({
        "dataset_id": [f"ds{i:03d}" for i in d], "base_model": np.asarray(names)[m],
        "params_b": np.asarray(params_b, float)[m], "family": "sim",
        "benchmark": [f"bench{j}" for j in t], "domain": "",
        "score_base": k_base[study[d], m, t] / n_items, "score_ft": k_ft[d, m, t] / n_items,
        "n_items": n_items,
    })
    if n_studies > 1:
        runs["study"] = [f"study{j}" for j in study[d]]
    features = pd.DataFrame({"dataset_id": [f"ds{i:03d}" for i in range(n_datasets)]})
    for k in range(n_features):
        noise = feature_se * rng.standard_normal(n_datasets) if feature_se > 0 else 0.0
        features[f"f{k}"] = x[:, k] + noise
        if feature_se > 0:
            features[f"f{k}__se"] = feature_se
    return SimulatedRuns(runs, features, truth)


def _zero_sum(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Draw standard normal offsets centred over the first (group) axis, as the model's."""
    values = rng.standard_normal(shape)
    return values - values.mean(axis=0) if shape[0] > 1 else np.zeros(shape)
