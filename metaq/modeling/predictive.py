"""The model's linear predictor and outcome distribution, evaluated in NumPy per posterior draw.

This mirrors :func:`metaq.modeling.pymc_model.build_pymc_model` (a test checks that both give
the same linear predictor) and adds what only a forecast needs: offsets of base models and
tasks unseen in training drawn from their population (bambi's ``sample_new_groups``), and
features of a new dataset drawn around their measured values (standard errors) or, when
missing, from the training datasets.
"""

from __future__ import annotations

import zlib
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


class DrawStreams:
    """Independent random generators, one per named random component of a forecast.

    Each stream is derived from the seed and the component's name alone, so a stream draws
    the same numbers whatever the other components consumed.

    Parameters
    ----------
    random_seed : int, optional
        Seed of every stream (None: fresh entropy, shared by this object's streams).

    Examples
    --------
    >>> a, b = DrawStreams(0), DrawStreams(0)
    >>> _ = a["features"].normal(size=5)  # consuming one stream ...
    >>> bool(a["dataset"].normal() == b["dataset"].normal())  # ... leaves the others alone
    True
    """

    def __init__(self, random_seed: int | None) -> None:
        self._root = np.random.SeedSequence(random_seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            key = (*self._root.spawn_key, zlib.crc32(name.encode()))
            self._streams[name] = np.random.default_rng(
                np.random.SeedSequence(self._root.entropy, spawn_key=key))
        return self._streams[name]


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
        ``(sample, model, task)`` logit level the fine-tuned score starts from (binomial
        likelihood only): the untuned level, or, for a model fitted without any untuned
        score, the fine-tuned level of an average training dataset.
    reference : numpy.ndarray or None
        ``(sample, model, task)`` logit level the change is measured from: the untuned level
        where it is known or modelled, else (a model fitted without untuned scores) the
        average training dataset's fine-tuned level.
    base_score : numpy.ndarray
        ``(model, task)`` untuned score observed in training or given, NaN where unknown.
    change_identified : numpy.ndarray
        ``(model, task)`` whether data inform the untuned level the change is measured from
        (see :func:`change_identified`).
    seen_model, seen_task : numpy.ndarray
        Whether each requested model / task was in the training runs.
    n_items : numpy.ndarray
        ``(task,)`` the benchmark's item count in training, NaN where unknown.
    """

    intercept: np.ndarray
    slope: np.ndarray
    theta_base: np.ndarray | None
    reference: np.ndarray | None
    base_score: np.ndarray
    change_identified: np.ndarray
    seen_model: np.ndarray
    seen_task: np.ndarray
    n_items: np.ndarray


def group_terms(params: dict[str, np.ndarray], encoding: Encoding, models: pd.DataFrame,
                tasks: pd.DataFrame, streams: DrawStreams,
                known: KnownBaseScores | None = None, *, study: int | None = -1) -> GroupTerms:
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
    streams : DrawStreams
        Sources of the new-group offsets (one stream per term).
    known : KnownBaseScores, optional
        Untuned scores the user measured: where given they replace the untuned level (and
        the untuned score), for any model (:func:`known_untuned_level`).
    study : int or None, default -1
        Position of the forecast's study among the training studies, -1 for a new one
        (:func:`study_terms`); None leaves the study terms out (the training runs add their
        own, :func:`training_linear_predictor`). Ignored by a model without a study level.
    """
    n_samples = len(params["slope"])
    n_features = params["slope"].shape[1]
    m_idx = encoding.model_index(models["name"].tolist())
    t_idx = encoding.task_index(tasks["benchmark"].tolist(), tasks["domain"].tolist())
    trained_z = encoding.size_z(encoding.models["params_b"].to_numpy(dtype=float))
    size_z = np.where(m_idx >= 0, trained_z[np.clip(m_idx, 0, None)],
                      encoding.size_z(models["params_b"].to_numpy(dtype=float)))
    # scale groups nest in families: only the model with scale effects uses them
    siblings = (family_weights(encoding.models, models, m_idx) if "size_slope" in params
                else None)

    def effect(name: str, sd_name: str, index: np.ndarray, tail: tuple[int, ...],
               weights: np.ndarray | None = None) -> np.ndarray:
        if name not in params:  # term switched off (pooled model, no untuned scores)
            return np.zeros((n_samples, len(index), *tail))
        return _group_effect(params[name], params[sd_name], index, streams[name], weights)

    model_int = effect("model_offset", "model_intercept_sd", m_idx, (), siblings)
    cell_int = (_interaction(params["cell_intercept"], params["cell_intercept_sd"], m_idx,
                             t_idx, streams["cell_intercept"], siblings)
                if "cell_intercept" in params
                else np.zeros((n_samples, len(m_idx), len(t_idx))))
    if "size_intercept" in params:
        model_int = model_int + params["size_intercept"][:, None] * size_z[None, :]
    group_slope = effect("group_slope", "group_slope_sd", m_idx, (n_features,), siblings)
    size_slope = params.get("size_slope", np.zeros((n_samples, n_features)))
    task_int = effect("task_intercept", "task_intercept_sd", t_idx, ())
    task_slope = effect("task_slope", "task_slope_sd", t_idx, (n_features,))
    intercept = (params.get("intercept", np.zeros(n_samples))[:, None, None]
                 + model_int[:, :, None] + task_int[:, None, :] + cell_int)
    slope = (params["slope"][:, None, None, :]
             + size_slope[:, None, None, :] * size_z[None, :, None, None]
             + group_slope[:, :, None, :] + task_slope[:, None, :, :])
    theta = (_untuned_level(params, m_idx, t_idx, size_z, trained_z, streams, siblings)
             if "theta_base" in params else None)
    if study is not None:
        by_study = study_terms(params, study, t_idx, streams)
        intercept = intercept + by_study.intercept[:, None, None]
        slope = slope + by_study.slope[:, None, None, :]
        if theta is not None:
            theta = theta + by_study.protocol[:, None, :]
    base = np.full((len(m_idx), len(t_idx)), np.nan)
    seen = np.ix_(m_idx >= 0, t_idx >= 0)
    printed = encoding.base_scores if study is None else encoding.printed_base_scores(study)
    base[seen] = printed[np.ix_(m_idx[m_idx >= 0], t_idx[t_idx >= 0])]
    given = np.zeros(base.shape, dtype=bool) if known is None else ~np.isnan(known.score)
    reference = theta
    if given.any():
        base[given] = known.score[given]
        if theta is not None:
            measured = np.where(given[None], known_untuned_level(
                known, n_samples, streams["known_untuned"]), theta)
            # without untuned scores in training the level is the fine-tuned one: a measured
            # untuned score sets only what the change is measured from
            theta = theta if "intercept" not in params else measured
            reference = measured
    identified = change_identified(encoding, m_idx, t_idx, given,
                                   modelled_level="theta_base" in params)
    return GroupTerms(intercept, slope, theta, reference, base, identified, m_idx >= 0,
                      t_idx >= 0, encoding.task_items(t_idx))


@dataclass
class StudyTerms:
    """Per-draw terms of the forecast's study (zeros for a model without a study level).

    Attributes
    ----------
    intercept : numpy.ndarray
        ``(sample,)`` the study's intercept of the change.
    slope : numpy.ndarray
        ``(sample, feature)`` its deviations of the population slopes.
    protocol : numpy.ndarray
        ``(sample, task)`` its protocol offset on the logit of the score level.
    """

    intercept: np.ndarray
    slope: np.ndarray
    protocol: np.ndarray


def study_terms(params: dict[str, np.ndarray], study: int, t_idx: np.ndarray,
                streams: DrawStreams) -> StudyTerms:
    """Return the terms of one study: fitted for a training study, drawn for a new one.

    A new study (`study` -1) draws its intercept, slope deviations and per-task protocol
    offsets as a new group of the zero-sum study terms, with variance ``sd^2 (1 + 1/S)`` for
    ``S`` training studies (:func:`new_group_sd`), each from its own stream
    (``study_intercept``, ``study_slope``, ``protocol``), so what-if forecasts stay paired.
    A task unseen in training draws a fresh protocol offset ``protocol_sd * Normal(0, 1)``
    for any study.

    Parameters
    ----------
    params : dict
        Flattened posterior (:func:`flatten_posterior`).
    study : int
        Position among the training studies, -1 for a new study.
    t_idx : numpy.ndarray
        Training position of each requested task, -1 when unseen.
    streams : DrawStreams
        Random sources.

    Returns
    -------
    StudyTerms
    """
    n_samples, n_features = params["slope"].shape
    index = np.array([study])

    def term(name: str, tail: tuple[int, ...]) -> np.ndarray:
        if name not in params:
            return np.zeros((n_samples, *tail))
        return _group_effect(params[name], params[f"{name}_sd"], index, streams[name])[:, 0]

    protocol = np.zeros((n_samples, len(t_idx)))
    if "protocol" in params:
        values = params["protocol"][:, :, np.clip(t_idx, 0, None)]
        by_study = _group_effect(values, params["protocol_sd"], index, streams["protocol"])[:, 0]
        fresh = (streams["protocol_new_task"].standard_normal(by_study.shape)
                 * params["protocol_sd"][:, None])
        protocol = np.where((t_idx >= 0)[None], by_study, fresh)
    return StudyTerms(term("study_intercept", ()), term("study_slope", (n_features,)), protocol)


def change_identified(encoding: Encoding, m_idx: np.ndarray, t_idx: np.ndarray,
                      given: np.ndarray, *, modelled_level: bool = True) -> np.ndarray:
    """Whether data inform the untuned level each (model, task) change is measured from.

    Fine-tuned scores alone identify only the untuned level *plus* the change. A change is
    identified where an untuned score of the cell was given (`given`), or where training saw
    untuned scores and, for a trained model or task, some of that model's and task's own (an
    unseen model or task is placed by the pooled terms those scores inform). Under the
    Student-t likelihood (`modelled_level` False) the change itself was observed.

    Returns
    -------
    numpy.ndarray
        ``(model, task)`` booleans.
    """
    if not modelled_level:
        return np.ones(given.shape, dtype=bool)
    observed = ~np.isnan(encoding.base_scores)
    model_ok = np.where(m_idx >= 0, observed.any(axis=1)[np.clip(m_idx, 0, None)], True)
    task_ok = np.where(t_idx >= 0, observed.any(axis=0)[np.clip(t_idx, 0, None)], True)
    return given | (observed.any() & model_ok[:, None] & task_ok[None, :])


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
    if counted.any():
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


def new_group_sd(sd: np.ndarray, n_trained: int) -> np.ndarray:
    r"""Spread of a new group's offset relative to the fitted terms: ``sd * sqrt(1 + 1/G)``.

    Offsets of the ``G`` training groups are zero-sum: the population mean of their true
    effects is absorbed by the intercept, which therefore sits at the mean of the ``G``
    drawn effects. A new group's effect, measured from that intercept, is
    :math:`e_{new} - \bar e` with variance :math:`\sigma^2 (1 + 1/G)`.

    Examples
    --------
    >>> round(float(new_group_sd(np.array(1.0), 2) ** 2), 12)
    1.5
    """
    return sd * np.sqrt(1.0 + 1.0 / max(n_trained, 1))


def _group_effect(values: np.ndarray, sd: np.ndarray, index: np.ndarray,
                  rng: np.random.Generator, siblings: np.ndarray | None = None, *,
                  zero_sum: bool = True) -> np.ndarray:
    """Offsets ``(sample, requested, *tail)`` of groups: fitted for a seen group, else new.

    A new group draws ``sd * Normal(0, 1)`` (bambi's ``sample_new_groups``), widened by
    :func:`new_group_sd` for `zero_sum` offsets; a new base model with training siblings
    (`siblings`, :func:`family_weights`) starts from their mean offset and draws only a
    within-family deviation, ``WITHIN_FAMILY * sd * Normal(0, 1)``. `sd` is ``(sample,)``
    or ``(sample, *tail)``. The stream draws one number per requested cell, seen or not.
    """
    n_groups, tail = values.shape[1], values.shape[2:]
    expand = (1, -1, *([1] * len(tail)))
    sd = sd.reshape(len(values), 1, *sd.shape[1:], *([1] * (len(tail) - sd.ndim + 1)))
    factor = np.full(len(index), np.sqrt(1.0 + 1.0 / n_groups) if zero_sum else 1.0)
    if siblings is not None:
        factor = np.where(siblings.sum(axis=1) > 0, WITHIN_FAMILY, factor)
    fresh = rng.standard_normal((len(values), len(index), *tail)) * sd * factor.reshape(expand)
    if siblings is not None:
        fresh += np.einsum("rg,sg...->sr...", siblings, values)
    return np.where((index >= 0).reshape(expand), values[:, np.clip(index, 0, None)], fresh)


def _interaction(values: np.ndarray, sd: np.ndarray, m_idx: np.ndarray, t_idx: np.ndarray,
                 rng: np.random.Generator, siblings: np.ndarray | None, *,
                 zero_sum: bool = True) -> np.ndarray:
    """Model x task offsets ``(sample, model, task)``, fitted where both were trained.

    A cell with an unseen task is new; one with an unseen model is new or its family's
    (:func:`_group_effect`). Offsets zero-sum over both axes widen a new cell by
    :func:`new_group_sd` along each new axis.
    """
    n_models, n_tasks = values.shape[1:]
    by_model = _group_effect(values[:, :, np.clip(t_idx, 0, None)], sd, m_idx, rng, siblings,
                             zero_sum=zero_sum)
    factor = np.ones(len(m_idx))
    if zero_sum:
        factor = (np.sqrt(1.0 + 1.0 / n_tasks)
                  * np.where(m_idx < 0, np.sqrt(1.0 + 1.0 / n_models), 1.0))
    fresh = rng.standard_normal(by_model.shape) * sd[:, None, None] * factor[None, :, None]
    return np.where((t_idx >= 0)[None, None, :], by_model, fresh)


def dataset_offsets(params: dict[str, np.ndarray], trained: Sequence[str],
                    dataset_ids: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Draws of the unexplained dataset effect of each forecast dataset.

    A dataset the model was trained on (same ``dataset_id``) keeps its fitted effect (a
    forecast for another base model, or a what-if on its features); any other is new and
    draws ``Normal(0, dataset_sd^2 (1 + 1/D))`` per posterior draw (:func:`new_group_sd`, D
    training datasets): its features, not its name, carry what is known about it.

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
        ``(sample, dataset)``.
    """
    index = np.array([{str(d): i for i, d in enumerate(trained)}.get(str(d), -1)
                      for d in dataset_ids], dtype=int)
    return _group_effect(params["dataset_offset"], params["dataset_sd"], index, rng)


def _untuned_level(params: dict[str, np.ndarray], m_idx: np.ndarray, t_idx: np.ndarray,
                   size_z: np.ndarray, trained_z: np.ndarray, streams: DrawStreams,
                   siblings: np.ndarray | None) -> np.ndarray:
    """Untuned logit level ``(sample, model, task)``.

    The fitted one where the cell was trained, else the size trend plus the model's, task's
    and cell's effects (new ones when unseen; the cells are free, not zero-sum, deviations).
    """
    n = len(params["base_mean"])
    trend = params.get("base_size", np.zeros(n))[:, None]
    # each trained cell's deviation from its model and task effects
    cell = (params["theta_base"] - params["base_mean"][:, None, None]
            - (trend * trained_z[None, :] + params["base_model"])[:, :, None]
            - params["base_task"][:, None, :])
    model = _group_effect(params["base_model"], params["base_model_sd"], m_idx,
                          streams["base_model"], siblings)
    task = _group_effect(params["base_task"], params["base_task_sd"], t_idx,
                         streams["base_task"])
    return (params["base_mean"][:, None, None] + (trend * size_z[None, :] + model)[:, :, None]
            + task[:, None, :]
            + _interaction(cell, params["base_cell_sd"], m_idx, t_idx, streams["base_cell"],
                           siblings, zero_sum=False))


def feature_draws(x: np.ndarray, se: np.ndarray, training_x: np.ndarray, n_samples: int,
                  streams: DrawStreams) -> np.ndarray:
    """Draws of the standardised true features of new datasets.

    A measured value ``x`` with standard error ``se`` gives ``Normal(x, se)``; a missing value
    (NaN) is drawn from its conditional distribution given the dataset's observed features,
    under a Gaussian fitted to the training feature rows (mean and Ledoit-Wolf shrunk
    covariance, :func:`missing_feature_draws`). Noise and missing values draw from their own
    streams, one number per (sample, dataset, feature) whatever is missing or measured, so
    forecasts that differ in one feature stay paired in every other.

    Parameters
    ----------
    x, se : numpy.ndarray
        ``(dataset, feature)`` standardised values (NaN = missing) and standard errors.
    training_x : numpy.ndarray
        ``(feature_row, feature)`` standardised training features.
    n_samples : int
        Number of draws.
    streams : DrawStreams
        Random sources (``feature_noise`` and ``missing_features``).

    Returns
    -------
    numpy.ndarray
        ``(sample, dataset, feature)``.
    """
    noise = streams["feature_noise"].standard_normal((n_samples, *x.shape))
    draws = x[None] + noise * np.nan_to_num(se)[None]
    unit = streams["missing_features"].standard_normal((n_samples, *x.shape))
    missing = np.isnan(x)
    if missing.any():
        draws = np.where(missing[None], missing_feature_draws(x, training_x, unit), draws)
    return draws


def missing_feature_draws(x: np.ndarray, training_x: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Conditional Gaussian draws of the missing entries of `x` given its observed ones.

    The training feature rows give a mean and a Ledoit-Wolf shrunk covariance (a few
    datasets give a singular sample covariance); for each dataset the missing features are
    ``mean_m + S_mo S_oo^-1 (x_o - mean_o) + L z`` with ``L`` the lower Cholesky factor of
    ``S_mm - S_mo S_oo^-1 S_om`` (:func:`_cholesky`) and `unit` the standard normal ``z``.
    With nothing observed this is the training distribution's Gaussian.

    Parameters
    ----------
    x : numpy.ndarray
        ``(dataset, feature)`` standardised values, NaN where missing.
    training_x : numpy.ndarray
        ``(feature_row, feature)`` standardised training features.
    unit : numpy.ndarray
        ``(sample, dataset, feature)`` standard normal draws.

    Returns
    -------
    numpy.ndarray
        ``(sample, dataset, feature)``: the draws at missing entries, NaN elsewhere.

    Examples
    --------
    >>> train = np.array([[-1.0, -2.0], [0.0, 0.1], [1.0, 1.9]])  # almost perfectly correlated
    >>> draws = missing_feature_draws(np.array([[1.0, np.nan]]), train,
    ...                               np.random.default_rng(0).normal(size=(4000, 1, 2)))
    >>> bool(draws[:, 0, 1].mean() > 0.5)  # pulled up by the observed first feature (0 without it)
    True
    """
    mean, cov = _training_gaussian(training_x)
    out = np.full(unit.shape, np.nan)
    for d, row in enumerate(x):
        gap = np.isnan(row)
        if not gap.any():
            continue
        seen = ~gap
        centre, spread = mean[gap], cov[np.ix_(gap, gap)]
        if seen.any():
            gain = np.linalg.solve(cov[np.ix_(seen, seen)], cov[np.ix_(seen, gap)]).T
            centre = centre + gain @ (row[seen] - mean[seen])
            spread = spread - gain @ cov[np.ix_(seen, gap)]
        out[:, d, gap] = centre[None] + unit[:, d, gap] @ _cholesky(spread).T
    return out


def _training_gaussian(training_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Ledoit-Wolf covariance of the training rows (zero covariance for one row)."""
    from sklearn.covariance import LedoitWolf

    if len(training_x) < 2:
        return training_x.mean(axis=0), np.zeros((training_x.shape[1],) * 2)
    return training_x.mean(axis=0), LedoitWolf().fit(training_x).covariance_


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a PSD matrix (zero for a zero matrix).

    Lower-triangular in feature order, each missing feature's draw is its conditional given
    the observed ones and the missing ones before it plus its own unit draw: setting one
    missing feature keeps the unit draws of the others where they were.
    """
    matrix = (matrix + matrix.T) / 2
    jitter = 1e-10 * max(float(np.trace(matrix)), 1e-12)
    return np.linalg.cholesky(matrix + jitter * np.eye(len(matrix)))


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
                              run_task: np.ndarray, run_dataset: np.ndarray,
                              run_study: np.ndarray | None = None) -> np.ndarray:
    """Linear predictor of the training runs, ``(sample, run)``, in chunks of runs.

    `terms` must be built for the training models and tasks in encoding order, without a
    study's terms (a model with a study level adds each run's own from `run_study`); `x` is
    ``(sample, feature_row, feature)`` (the posterior of the true features when the fit had
    measurement error, else the observed features broadcast); the training datasets keep
    their fitted ``dataset_offset``.
    """
    study_slope = params.get("study_slope") if run_study is not None else None
    mu = np.empty((x.shape[0], len(run_row)))
    for start in range(0, len(run_row), CHUNK):
        part = slice(start, start + CHUNK)
        m, t = run_model[part], run_task[part]
        slope = terms.slope[:, m, t]
        if study_slope is not None:
            slope = slope + study_slope[:, run_study[part]]
        mu[:, part] = terms.intercept[:, m, t] + np.einsum(
            "srk,srk->sr", x[:, run_row[part]], slope)
    if "dataset_offset" in params:
        mu += params["dataset_offset"][:, run_dataset]
    if run_study is not None and "study_intercept" in params:
        mu += params["study_intercept"][:, run_study]
    return mu


def training_protocol(params: dict[str, np.ndarray], run_task: np.ndarray,
                      run_study: np.ndarray | None) -> np.ndarray | float:
    """Protocol offset of each training run's study and task, ``(sample, run)`` (0 without)."""
    if run_study is None or "protocol" not in params:
        return 0.0
    return params["protocol"][:, run_study, run_task]


def outcome_draws(mu: np.ndarray, terms: GroupTerms, params: dict[str, np.ndarray], *,
                  target: str, y_scale: float, include_run_noise: bool, streams: DrawStreams,
                  item_noise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Change on the `target` scale and fine-tuned score, per draw.

    Parameters
    ----------
    mu : numpy.ndarray
        ``(sample, dataset, model, task)`` linear predictor.
    terms : GroupTerms
        The cells' levels (binomial likelihood), untuned scores and item counts.
    params : dict
        Flattened posterior (``run_sd`` or ``nu`` and ``residual_sd``).
    target : {"logit", "abs", "rel"}
        Scale of the returned change.
    y_scale : float
        Scale of the Student-t outcome (the change's training sd).
    include_run_noise : bool
        Add run-to-run variation (a forecast of one fine-tuning run) or not (its expectation).
    streams : DrawStreams
        Random sources (``run_noise``, ``items``).
    item_noise : bool, default False
        Forecast the score a benchmark of the task's item count *prints* (binomial sampling
        of the items, :func:`measured_outcome`), where the count is known.

    Returns
    -------
    delta, score : numpy.ndarray
        Both ``(sample, dataset, model, task)``; ``score`` is NaN where the untuned level is
        unknown under the Student-t likelihood.
    """
    shape = mu.shape
    if terms.theta_base is not None:
        level = np.broadcast_to(terms.theta_base[:, None], shape)
        reference = np.broadcast_to(terms.reference[:, None], shape)
        # clipped before the beta draw too: a far extrapolation gives expit(...) == 1.0
        p_ft = np.clip(expit(level + mu), 1e-9, 1 - 1e-9)
        if include_run_noise:
            phi = 1.0 / np.square(params["run_sd"]).reshape(-1, 1, 1, 1)
            p_ft = np.clip(streams["run_noise"].beta(p_ft * phi, (1.0 - p_ft) * phi),
                           1e-9, 1 - 1e-9)
        if item_noise and np.isfinite(terms.n_items).any():
            return measured_outcome(p_ft, expit(reference), terms.base_score, terms.n_items,
                                    target, streams["items"])
        p_base = expit(reference)
        delta = {"logit": lambda: logit(p_ft) - reference, "abs": lambda: p_ft - p_base,
                 "rel": lambda: 100.0 * (p_ft - p_base) / p_base}[target]()
        return delta, p_ft
    change = mu
    if include_run_noise:
        nu = params["nu"].reshape(-1, 1, 1, 1)
        noise = streams["run_noise"].standard_t(nu, size=shape)
        change = mu + params["residual_sd"].reshape(-1, 1, 1, 1) * noise
    delta = change * y_scale
    return delta, score_from_change(delta, terms.base_score[None, None], target)


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
