"""Simulation-based calibration of the predictor's posterior (Talts et al., 2018).

If parameters are drawn from the prior, outcomes from the likelihood given them, and the
posterior is computed exactly, then the rank of each true parameter among posterior draws is
uniform. Deviations show a sampler or a model that is biased (ranks pile up at one end) or
over- or under-dispersed (at both ends, or in the middle). Here the design of a runs table
(its datasets, base models, benchmarks, item counts and features) is kept fixed, the model
is compiled once, and each simulation swaps in new outcomes (nutpie's ``with_data``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError

logger = logging.getLogger(__name__)

#: Scalar parameters checked by default (population slope of the first feature, the change's
#: intercept, the untuned level's mean, the run-to-run spread and the between-dataset spread).
DEFAULT_PARAMETERS = ("slope[0]", "intercept", "base_mean", "run_sd", "between_dataset_sd")


@dataclass(frozen=True)
class CalibrationResult:
    """Ranks of true parameters among their posterior draws, one row per simulation.

    Attributes
    ----------
    ranks : pandas.DataFrame
        ``simulation``, then one column per parameter: the number of (thinned) posterior
        draws below the true value, from 0 to ``n_draws``; ``max_rhat`` and
        ``divergences`` of each fit.
    n_draws : int
        Thinned posterior draws per simulation (ranks take ``n_draws + 1`` values).
    uniformity : pandas.DataFrame
        Per parameter: ``parameter``, ``chi2``, ``p_value`` of a chi-square test of the
        ranks over ``n_bins`` equal bins, and ``n_bins``.
    """

    ranks: pd.DataFrame
    n_draws: int
    uniformity: pd.DataFrame


def simulation_based_calibration(runs: pd.DataFrame, features: pd.DataFrame, *,
                                 n_simulations: int = 60,
                                 parameters: Sequence[str] = DEFAULT_PARAMETERS,
                                 n_draws: int = 99, draws: int = 500, tune: int = 500,
                                 chains: int = 2, target_accept: float | None = None,
                                 n_bins: int = 5, random_seed: int = 0) -> CalibrationResult:
    """Rank true parameters among posterior draws over simulated outcomes of a fixed design.

    Parameters
    ----------
    runs, features : pandas.DataFrame
        The design: a runs table with ``n_items`` on every run and untuned scores
        (binomial likelihood) and its features table. Outcomes are replaced by simulations.
    n_simulations : int, default 60
        Simulated tables.
    parameters : sequence of str
        Scalar parameters, ``"name"`` or ``"name[i]"`` for an element of a vector.
    n_draws : int, default 99
        Posterior draws kept per fit (thinned evenly) for the ranks.
    draws, tune, chains : int
        NUTS settings per fit (nutpie).
    target_accept : float, optional
        Default: the predictor's own (:data:`metaq.modeling.sampling.DEFAULT_SAMPLER`).
    n_bins : int, default 5
        Bins of the chi-square uniformity test.
    random_seed : int, default 0
        Seed of the prior draws and of the samplers.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    InvalidParameterError
        For fewer simulations than twice the bins, an unknown parameter, or a design
        without item counts or untuned scores.
    """
    import nutpie
    import pymc as pm

    from metaq.modeling.design import (
        as_features_table,
        as_runs_table,
        build_training_data,
        choose_features,
    )
    from metaq.modeling.priors import resolve_priors
    from metaq.modeling.pymc_model import build_pymc_model
    from metaq.modeling.sampling import DEFAULT_SAMPLER

    target_accept = target_accept or DEFAULT_SAMPLER["target_accept"]
    if n_simulations < 2 * n_bins:
        raise InvalidParameterError(f"n_simulations={n_simulations} is too few for {n_bins} "
                                    f"bins; give at least {2 * n_bins}")
    runs, features = as_runs_table(runs), as_features_table(features)
    if runs["n_items"].isna().any() or runs["score_base"].isna().any():
        raise InvalidParameterError("the design needs n_items and score_base on every run "
                                    "(the binomial likelihood with untuned scores)")
    data, encoding, scaler = build_training_data(runs, features, choose_features(features, None),
                                                 likelihood="binomial", target="logit")
    model, _ = build_pymc_model(data, scaler.features, encoding.tasks["label"].tolist(),
                                encoding.models["name"].tolist(), resolve_priors(None),
                                scale_effects=True)
    targets = [_parse(name, model) for name in parameters]
    truth_vars = [model[name] for name, _ in targets]
    truths = pm.draw([*truth_vars, model["k_ft"], model["k_base"]], draws=n_simulations,
                     random_seed=random_seed)
    compiled = nutpie.compile_pymc_model(model)
    rows = []
    for i in range(n_simulations):
        fit = nutpie.sample(compiled.with_data(k_ft_obs=truths[-2][i], k_base_obs=truths[-1][i]),
                            draws=draws, tune=tune, chains=chains, seed=random_seed + i,
                            target_accept=target_accept, progress_bar=False)
        row: dict[str, Any] = {"simulation": i}
        for (name, index), values in zip(targets, truths[:-2], strict=True):
            true = values[i] if index is None else values[i][index]
            row[_label(name, index)] = _rank(fit.posterior[name], index, true, n_draws)
        row.update(_fit_checks(fit))
        rows.append(row)
        logger.info("SBC simulation %d/%d: max R-hat %.3f", i + 1, n_simulations,
                    row["max_rhat"])
    ranks = pd.DataFrame(rows)
    return CalibrationResult(ranks, n_draws, uniformity_test(
        ranks[[_label(n, ix) for n, ix in targets]], n_draws, n_bins=n_bins))


def uniformity_test(ranks: pd.DataFrame, n_draws: int, *, n_bins: int = 5) -> pd.DataFrame:
    """Chi-square test that each column of ranks (0..n_draws) is uniform over `n_bins` bins.

    Examples
    --------
    >>> flat = pd.DataFrame({"a": np.tile(np.arange(100), 3)})
    >>> float(uniformity_test(flat, 99)["p_value"].iloc[0])
    1.0
    """
    from scipy.stats import chisquare

    rows = []
    for column in ranks.columns:
        bins = np.minimum((ranks[column].to_numpy() * n_bins) // (n_draws + 1), n_bins - 1)
        counts = np.bincount(bins.astype(int), minlength=n_bins)
        result = chisquare(counts)
        rows.append({"parameter": column, "chi2": float(result.statistic),
                     "p_value": float(result.pvalue), "n_bins": n_bins})
    return pd.DataFrame(rows)


def _parse(name: str, model: Any) -> tuple[str, int | None]:
    base, _, rest = name.partition("[")
    if base not in model.named_vars:
        raise InvalidParameterError(f"unknown parameter {base!r}; the model has "
                                    f"{sorted(model.named_vars)}")
    return base, (int(rest.rstrip("]")) if rest else None)


def _label(name: str, index: int | None) -> str:
    return name if index is None else f"{name}[{index}]"


def _rank(draws: Any, index: int | None, true: float, n_draws: int) -> int:
    values = draws.to_numpy()
    values = values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])
    values = values if index is None else values[:, index]
    keep = np.linspace(0, len(values) - 1, n_draws).round().astype(int)
    return int((values[keep] < true).sum())


def _fit_checks(fit: Any) -> dict[str, float]:
    import arviz as az

    rhat = az.rhat(fit.posterior)
    worst = max(float(rhat[v].max()) for v in rhat.data_vars if rhat[v].size)
    return {"max_rhat": worst, "divergences": int(fit.sample_stats["diverging"].sum())}
