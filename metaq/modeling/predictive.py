"""The model's linear predictor and outcome distribution, evaluated in NumPy per posterior draw.

This mirrors :func:`metaq.modeling.pymc_model.build_pymc_model` (a test checks that both give
the same linear predictor) and adds what only a forecast needs: offsets of base models and
tasks unseen in training drawn from their population (bambi's ``sample_new_groups``), and
features of a new dataset drawn around their measured values (standard errors) or, when
missing, from the training datasets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from metaq.modeling.design import Encoding, KnownBaseScores
from metaq.tables.targets import clipped_logit

CHUNK = 256
# sd of a base model's deviation from its family's mean, relative to the spread of models:
# Llama 2 13B sits 0.1 (MMLU) to 0.55 (Math average) logit off its 7B-70B trend, where base
# models of different families and similar size differ by about 0.8 logit on MMLU (Llama 2 7B
# vs MPT and Falcon 7B; Table 3 of the Llama 2 paper). 0.25 is a judgement, not a fit
WITHIN_FAMILY = 0.25


def flatten_posterior(posterior, names: tuple[str, ...] | list[str]) -> dict[str, np.ndarray]:
    """Posterior arrays of `names` present in `posterior`, with chain and draw as one axis.

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of an InferenceData.
    names : sequence of str
        Variable names to take (absent ones are skipped).

    Returns
    -------
    dict of str to numpy.ndarray
        Each array has shape ``(chain * draw, ...)``.
    """
    out = {}
    for name in names:
        if name in posterior:
            values = posterior[name].transpose("chain", "draw", ...).to_numpy()
            out[name] = values.reshape(-1, *values.shape[2:]).astype(float)
    return out


@dataclass
class GroupTerms:
    """Per-draw intercepts and slopes of the requested (model, task) cells.

    Attributes
    ----------
    intercept : numpy.ndarray
        ``(sample, model, task)`` intercept of the change.
    slope : numpy.ndarray
        ``(sample, model, task, feature)`` coefficient of each standardised feature.
    theta_base : numpy.ndarray or None
        ``(sample, model, task)`` untuned logit level (binomial likelihood only).
    base_score : numpy.ndarray
        ``(model, task)`` untuned score observed in training, NaN where unknown.
    seen_model, seen_task : numpy.ndarray
        Whether each requested model / task was in the training runs.
    n_items : numpy.ndarray
        ``(task,)`` the benchmark's item count in training, NaN where unknown.
    """

    intercept: np.ndarray
    slope: np.ndarray
    theta_base: np.ndarray | None
    base_score: np.ndarray
    seen_model: np.ndarray
    seen_task: np.ndarray
    n_items: np.ndarray


def group_terms(params: dict[str, np.ndarray], encoding: Encoding, models: pd.DataFrame,
                tasks: pd.DataFrame, rng: np.random.Generator,
                known: KnownBaseScores | None = None) -> GroupTerms:
    """Compute intercepts and slopes per draw for `models` x `tasks` (new ones drawn).

    Parameters
    ----------
    params : dict
        Flattened posterior (:func:`flatten_posterior`).
    encoding : Encoding
        The fitted model's encoding.
    models : pandas.DataFrame
        Columns ``name``, ``params_b`` and optionally ``family``.
    tasks : pandas.DataFrame
        Columns ``benchmark`` and ``domain``.
    rng : numpy.random.Generator
        Source of the new-group offsets.
    known : KnownBaseScores, optional
        Untuned scores the user measured: where given they replace the untuned level (and
        the untuned score), for any model (:func:`known_untuned_level`).
    """
    n_samples = len(params["intercept"])
    n_features = params["slope"].shape[1]
    m_idx = encoding.model_index(models["name"].tolist())
    t_idx = encoding.task_index(tasks["benchmark"].tolist(), tasks["domain"].tolist())
    trained_z = encoding.size_z(encoding.models["params_b"].to_numpy(dtype=float))
    size_z = np.where(m_idx >= 0, trained_z[np.clip(m_idx, 0, None)],
                      encoding.size_z(models["params_b"].to_numpy(dtype=float)))
    # scale groups nest in families: only the model with scale effects uses them
    siblings = (family_weights(encoding.models, models, m_idx) if "size_intercept" in params
                else None)

    def effect(name: str, sd_name: str, index: np.ndarray, tail: tuple[int, ...],
               weights: np.ndarray | None = None) -> np.ndarray:
        if name not in params:  # term switched off (pooled model)
            return np.zeros((n_samples, len(index), *tail))
        return _group_effect(params[name], params[sd_name], index, rng, weights)

    model_int = effect("model_offset", "model_intercept_sd", m_idx, (), siblings)
    cell_int = (_interaction(params["cell_intercept"], params["cell_intercept_sd"], m_idx,
                             t_idx, rng, siblings) if "cell_intercept" in params
                else np.zeros((n_samples, len(m_idx), len(t_idx))))
    if "size_intercept" in params:
        model_int = model_int + params["size_intercept"][:, None] * size_z[None, :]
    group_slope = effect("group_slope", "group_slope_sd", m_idx, (n_features,), siblings)
    size_slope = params.get("size_slope", np.zeros((n_samples, n_features)))
    task_int = effect("task_intercept", "task_intercept_sd", t_idx, ())
    task_slope = effect("task_slope", "task_slope_sd", t_idx, (n_features,))
    intercept = (params["intercept"][:, None, None] + model_int[:, :, None]
                 + task_int[:, None, :] + cell_int)
    slope = (params["slope"][:, None, None, :]
             + size_slope[:, None, None, :] * size_z[None, :, None, None]
             + group_slope[:, :, None, :] + task_slope[:, None, :, :])
    theta = (_untuned_level(params, m_idx, t_idx, size_z, trained_z, rng, siblings)
             if "theta_base" in params else None)
    base = np.full((len(m_idx), len(t_idx)), np.nan)
    seen = np.ix_(m_idx >= 0, t_idx >= 0)
    base[seen] = encoding.base_scores[np.ix_(m_idx[m_idx >= 0], t_idx[t_idx >= 0])]
    if known is not None:
        given = ~np.isnan(known.score)
        base[given] = known.score[given]
        if theta is not None:
            theta = np.where(given[None], known_untuned_level(known, n_samples, rng), theta)
    return GroupTerms(intercept, slope, theta, base, m_idx >= 0, t_idx >= 0,
                      encoding.task_items(t_idx))


def known_untuned_level(known: KnownBaseScores, n_samples: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Draws ``(sample, model, task)`` of the untuned logit level from measured scores.

    A score ``k / n`` with its item count gives the Jeffreys posterior ``Beta(k + 1/2,
    n - k + 1/2)`` of the model's accuracy (the binomial measurement the model's own untuned
    level has in training; with hundreds of items the population prior would add nothing);
    without a count the score is taken as exact. Cells without a score are NaN.

    Examples
    --------
    >>> known = KnownBaseScores(np.array([[0.5, np.nan]]), np.array([[np.nan, np.nan]]))
    >>> known_untuned_level(known, 2, np.random.default_rng(0))[:, 0, 0].tolist()
    [0.0, 0.0]
    """
    level = np.broadcast_to(known.score, (n_samples, *known.score.shape)).copy()
    counted = ~np.isnan(known.score) & ~np.isnan(known.n_items)
    if counted.any():  # no draw (the random stream is untouched) for exact scores
        n = known.n_items[counted]
        k = known.score[counted] * n
        level[:, counted] = rng.beta(k + 0.5, n - k + 0.5, size=(n_samples, len(n)))
    return logit(np.clip(level, 1e-9, 1 - 1e-9))


def family_weights(trained: pd.DataFrame, models: pd.DataFrame, m_idx: np.ndarray) -> np.ndarray:
    """``(model, trained model)`` weights of each unseen model's training siblings.

    A row averages the training models of the unseen model's family (same non-empty
    ``family``); it is zero for a seen model and for a family not in training.

    Examples
    --------
    >>> trained = pd.DataFrame({"name": ["a-7b", "b-8b", "a-70b"], "family": ["a", "b", "a"]})
    >>> new = pd.DataFrame({"name": ["a-13b", "c-9b"], "family": ["a", "c"]})
    >>> family_weights(trained, new, np.array([-1, -1])).tolist()
    [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]
    """
    known = trained["family"].fillna("").astype(str).to_numpy()
    wanted = models.get("family", pd.Series([""] * len(models))).fillna("").astype(str)
    same = (wanted.to_numpy()[:, None] == known[None, :]) & (known[None, :] != "")
    same &= (m_idx < 0)[:, None]
    counts = same.sum(axis=1, keepdims=True)
    return np.divide(same, counts, out=np.zeros(same.shape), where=counts > 0)


def _group_effect(values: np.ndarray, sd: np.ndarray, index: np.ndarray,
                  rng: np.random.Generator, siblings: np.ndarray | None = None) -> np.ndarray:
    """Offsets ``(sample, requested, *tail)`` of groups: fitted for a seen group, else new.

    A new group draws ``sd * Normal(0, 1)`` (bambi's ``sample_new_groups``); a new base model
    with training siblings (`siblings`, :func:`family_weights`) starts from their mean offset
    and draws only a within-family deviation, ``WITHIN_FAMILY * sd * Normal(0, 1)``.
    """
    tail = values.shape[2:]
    expand = (1, -1, *([1] * len(tail)))
    fresh = rng.standard_normal((len(values), len(index), *tail))
    fresh *= sd.reshape(len(values), *([1] * (1 + len(tail))))
    if siblings is not None:
        has_family = siblings.sum(axis=1) > 0
        fresh *= np.where(has_family, WITHIN_FAMILY, 1.0).reshape(expand)
        fresh += np.einsum("rg,sg...->sr...", siblings, values)
    return np.where((index >= 0).reshape(expand), values[:, np.clip(index, 0, None)], fresh)


def _interaction(values: np.ndarray, sd: np.ndarray, m_idx: np.ndarray, t_idx: np.ndarray,
                 rng: np.random.Generator, siblings: np.ndarray | None) -> np.ndarray:
    """Model x task offsets ``(sample, model, task)``, fitted where both were trained.

    A cell with an unseen task is new; one with an unseen model is new or its family's
    (:func:`_group_effect`).
    """
    by_model = _group_effect(values[:, :, np.clip(t_idx, 0, None)], sd, m_idx, rng, siblings)
    fresh = rng.standard_normal(by_model.shape) * sd[:, None, None]
    return np.where((t_idx >= 0)[None, None, :], by_model, fresh)


def dataset_offsets(params: dict[str, np.ndarray], trained: Sequence[str],
                    dataset_ids: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Draws of the unexplained dataset effect of each forecast dataset.

    A dataset the model was trained on (same ``dataset_id``) keeps its fitted effect (a
    forecast for another base model, or a what-if on its features); any other is new and
    draws ``Normal(0, dataset_sd)`` per posterior draw: its features, not its name, carry
    what is known about it.

    Parameters
    ----------
    params : dict
        Flattened posterior (``dataset_offset``, ``dataset_sd``).
    trained : sequence of str
        Training dataset ids, in the order of ``dataset_offset``.
    dataset_ids : sequence of str
        The forecast's datasets.
    rng : numpy.random.Generator
        Source of the new datasets' effects.

    Returns
    -------
    numpy.ndarray
        ``(sample, dataset)``; zeros for a model saved without the term.
    """
    n = len(params["intercept"])
    if "dataset_sd" not in params:
        return np.zeros((n, len(dataset_ids)))
    index = np.array([{str(d): i for i, d in enumerate(trained)}.get(str(d), -1)
                      for d in dataset_ids], dtype=int)
    return _group_effect(params["dataset_offset"], params["dataset_sd"], index, rng)


def _untuned_level(params: dict[str, np.ndarray], m_idx: np.ndarray, t_idx: np.ndarray,
                   size_z: np.ndarray, trained_z: np.ndarray, rng: np.random.Generator,
                   siblings: np.ndarray | None) -> np.ndarray:
    """Untuned logit level ``(sample, model, task)``.

    The fitted one where the cell was trained, else the size trend plus the model's, task's
    and cell's effects (new ones when unseen).
    """
    n = len(params["base_mean"])
    trend = params.get("base_size", np.zeros(n))[:, None]
    # each trained cell's deviation from its model and task effects
    cell = (params["theta_base"] - params["base_mean"][:, None, None]
            - (trend * trained_z[None, :] + params["base_model"])[:, :, None]
            - params["base_task"][:, None, :])
    model = _group_effect(params["base_model"], params["base_model_sd"], m_idx, rng, siblings)
    task = _group_effect(params["base_task"], params["base_task_sd"], t_idx, rng)
    return (params["base_mean"][:, None, None] + (trend * size_z[None, :] + model)[:, :, None]
            + task[:, None, :]
            + _interaction(cell, params["base_cell_sd"], m_idx, t_idx, rng, siblings))


def feature_draws(x: np.ndarray, se: np.ndarray, training_x: np.ndarray, n_samples: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Draws of the standardised true features of new datasets.

    A measured value ``x`` with standard error ``se`` gives ``Normal(x, se)``; a missing value
    (NaN) is integrated over the training datasets: each draw takes the missing features of one
    training feature row picked at random (jointly, so their correlation is kept).

    Parameters
    ----------
    x, se : numpy.ndarray
        ``(dataset, feature)`` standardised values (NaN = missing) and standard errors.
    training_x : numpy.ndarray
        ``(feature_row, feature)`` standardised training features.
    n_samples : int
        Number of draws.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        ``(sample, dataset, feature)``.
    """
    draws = np.broadcast_to(x, (n_samples, *x.shape)).copy()
    if (se > 0).any():
        draws += rng.standard_normal(draws.shape) * se[None]
    missing = np.isnan(x)
    if missing.any():
        pick = rng.integers(0, len(training_x), size=(n_samples, x.shape[0]))
        donor = training_x[pick]  # (sample, dataset, feature)
        draws = np.where(missing[None], donor, draws)
    return draws


def linear_predictor(terms: GroupTerms, x: np.ndarray,
                     dataset_offset: np.ndarray | None = None) -> np.ndarray:
    """Change on the linear-predictor scale for every (dataset, model, task).

    Parameters
    ----------
    terms : GroupTerms
        From :func:`group_terms`.
    x : numpy.ndarray
        ``(sample, dataset, feature)`` feature draws, or ``(sample, dataset, task, feature)``
        when features are per domain.
    dataset_offset : numpy.ndarray, optional
        ``(sample, dataset)`` unexplained dataset effects (:func:`dataset_offsets`);
        omitted, the expected linear predictor of a dataset with these features.

    Returns
    -------
    numpy.ndarray
        ``(sample, dataset, model, task)``.
    """
    spec = "sdk,smtk->sdmt" if x.ndim == 3 else "sdtk,smtk->sdmt"
    mu = terms.intercept[:, None] + np.einsum(spec, x, terms.slope)
    if dataset_offset is not None:
        mu = mu + dataset_offset[:, :, None, None]
    return mu


def contributions(terms: GroupTerms, x: np.ndarray) -> np.ndarray:
    """Per-feature terms ``x_k * slope_k``: ``(sample, dataset, model, task, feature)``."""
    x = x[:, :, None, None, :] if x.ndim == 3 else x[:, :, None, :, :]
    return x * terms.slope[:, None]


def training_linear_predictor(params: dict[str, np.ndarray], terms: GroupTerms,
                              x: np.ndarray, run_row: np.ndarray, run_model: np.ndarray,
                              run_task: np.ndarray, run_dataset: np.ndarray) -> np.ndarray:
    """Linear predictor of the training runs, ``(sample, run)``, in chunks of runs.

    `terms` must be built for the training models and tasks in encoding order; `x` is
    ``(sample, feature_row, feature)`` (the posterior of the true features when the fit had
    measurement error, else the observed features broadcast); the training datasets keep
    their fitted ``dataset_offset``.
    """
    mu = np.empty((x.shape[0], len(run_row)))
    for start in range(0, len(run_row), CHUNK):
        part = slice(start, start + CHUNK)
        m, t = run_model[part], run_task[part]
        mu[:, part] = terms.intercept[:, m, t] + np.einsum(
            "srk,srk->sr", x[:, run_row[part]], terms.slope[:, m, t])
    if "dataset_offset" in params:
        mu += params["dataset_offset"][:, run_dataset]
    return mu


def outcome_draws(mu: np.ndarray, theta: np.ndarray | None, base_score: np.ndarray,
                  params: dict[str, np.ndarray], *, target: str, y_scale: float,
                  include_run_noise: bool, rng: np.random.Generator,
                  n_items: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Change on the `target` scale and fine-tuned score, per draw.

    Parameters
    ----------
    mu : numpy.ndarray
        ``(sample, dataset, model, task)`` linear predictor.
    theta : numpy.ndarray or None
        ``(sample, model, task)`` untuned logit level (binomial likelihood), else None.
    base_score : numpy.ndarray
        ``(model, task)`` observed untuned score (used by the Student-t likelihood).
    params : dict
        Flattened posterior (``run_sd`` or ``nu`` and ``residual_sd``).
    target : {"logit", "abs", "rel"}
        Scale of the returned change.
    y_scale : float
        Scale of the Student-t outcome (the change's training sd).
    include_run_noise : bool
        Add run-to-run variation (a forecast of one fine-tuning run) or not (its expectation).
    rng : numpy.random.Generator
        Random source.
    n_items : numpy.ndarray, optional
        ``(task,)`` item counts: forecast the score a benchmark of that many items *prints*
        (binomial sampling of the items, :func:`measured_outcome`), where the count is known.

    Returns
    -------
    delta, score : numpy.ndarray
        Both ``(sample, dataset, model, task)``; ``score`` is NaN where the untuned level is
        unknown under the Student-t likelihood.
    """
    shape = mu.shape
    if theta is not None:
        level = np.broadcast_to(theta[:, None], shape)
        # clipped before the beta draw too: a far extrapolation gives expit(...) == 1.0
        p_ft = np.clip(expit(level + mu), 1e-9, 1 - 1e-9)
        if include_run_noise:
            phi = 1.0 / np.square(params["run_sd"]).reshape(-1, 1, 1, 1)
            p_ft = np.clip(rng.beta(p_ft * phi, (1.0 - p_ft) * phi), 1e-9, 1 - 1e-9)
        if n_items is not None and np.isfinite(n_items).any():
            return measured_outcome(p_ft, expit(level), base_score, n_items, target, rng)
        p_base = expit(level)
        delta = {"logit": lambda: logit(p_ft) - level, "abs": lambda: p_ft - p_base,
                 "rel": lambda: 100.0 * (p_ft - p_base) / p_base}[target]()
        return delta, p_ft
    change = mu
    if include_run_noise:
        nu = params["nu"].reshape(-1, 1, 1, 1)
        change = mu + params["residual_sd"].reshape(-1, 1, 1, 1) * rng.standard_t(nu, size=shape)
    delta = change * y_scale
    return delta, score_from_change(delta, base_score[None, None], target)


def measured_outcome(p_ft: np.ndarray, p_base: np.ndarray, base_score: np.ndarray,
                     n_items: np.ndarray, target: str, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Change and score as a benchmark of `n_items` items prints them.

    The fine-tuned score is ``Binomial(n, p_ft) / n`` where the task's count is known (else
    ``p_ft``), and the change is taken from the *printed* untuned score where there is one
    (else from the model's untuned level), on the same scale as
    :func:`metaq.tables.derive_target`: this is the distribution of a held-out run's
    recorded outcome, what out-of-sample scores compare forecasts with.

    Parameters
    ----------
    p_ft, p_base : numpy.ndarray
        ``(sample, dataset, model, task)`` accuracies after and before fine-tuning.
    base_score : numpy.ndarray
        ``(model, task)`` printed untuned scores, NaN where unknown.
    n_items : numpy.ndarray
        ``(task,)`` item counts, NaN where unknown.
    target : {"logit", "abs", "rel"}
    rng : numpy.random.Generator

    Returns
    -------
    delta, score : numpy.ndarray
    """
    n = np.broadcast_to(np.asarray(n_items, dtype=float), p_ft.shape)
    counted = np.isfinite(n)
    hits = rng.binomial(np.where(counted, n, 1).astype(np.int64), p_ft)
    score = np.where(counted, hits / np.where(counted, n, 1.0), p_ft)
    printed = np.broadcast_to(base_score[None, None], p_ft.shape)
    base = np.where(np.isfinite(printed), printed, p_base)
    delta = {"logit": lambda: clipped_logit(score, n) - clipped_logit(base, n),
             "abs": lambda: score - base,
             "rel": lambda: 100.0 * (score - base) / base}[target]()
    return delta, score


def score_from_change(delta: np.ndarray, base_score: np.ndarray, target: str) -> np.ndarray:
    """Fine-tuned score implied by a change on the `target` scale and the untuned score.

    Examples
    --------
    >>> float(score_from_change(np.array(20.0), np.array(0.5), "rel"))
    0.6
    """
    base = np.asarray(base_score, dtype=float)
    if target == "logit":
        return expit(logit(np.clip(base, 1e-9, 1 - 1e-9)) + delta)
    if target == "abs":
        return base + delta
    return base * (1 + delta / 100.0)
