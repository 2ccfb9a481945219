"""Fit diagnostics: convergence (R-hat, ESS, divergences), PSIS-LOO and a posterior check.

They are computed at fit time, stored with the model and turned into
:class:`SamplingWarning` warnings when a check fails; nothing here hides a failure.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

THRESHOLDS: dict[str, float] = {
    "max_rhat": 1.01,
    "min_ess_per_chain": 100.0,
    "divergences": 0,
    "pareto_k": 0.7,
    "ppc_coverage_drop": 0.15,
}


class SamplingWarning(UserWarning):
    """A fitted model failed a convergence or model-check diagnostic."""


def convergence_summary(idata, var_names: list[str]) -> dict[str, Any]:
    """R-hat, bulk/tail ESS and divergences of a posterior.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior`` and ``sample_stats.diverging``.
    var_names : list of str
        Variables to check (those present in the posterior are used).

    Returns
    -------
    dict
        ``max_rhat``, ``worst_rhat_var``, ``min_ess_bulk``, ``min_ess_tail``, ``divergences``,
        ``chains``, ``draws``.
    """
    import arviz as az

    # a variable fixed by design (offsets with no free direction, e.g. scale-group offsets
    # of two sizes) has no R-hat: leave it out rather than report NaN
    names = [n for n in var_names if n in idata.posterior and idata.posterior[n].size
             and np.ptp(idata.posterior[n].to_numpy()) > 0]
    rhat = az.rhat(idata, var_names=names)
    ess_bulk = az.ess(idata, var_names=names, method="bulk")
    ess_tail = az.ess(idata, var_names=names, method="tail")
    worst = {n: float(np.nanmax(rhat[n].to_numpy(), initial=np.nan)) for n in names}
    worst = {n: v for n, v in worst.items() if np.isfinite(v)}
    worst_var = max(worst, key=worst.get) if worst else ""
    return {
        "max_rhat": worst.get(worst_var, float("nan")),
        "worst_rhat_var": worst_var,
        "min_ess_bulk": _nanmin(ess_bulk, names),
        "min_ess_tail": _nanmin(ess_tail, names),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "chains": int(idata.posterior.sizes["chain"]),
        "draws": int(idata.posterior.sizes["draw"]),
    }


def _nanmin(dataset, names: list[str]) -> float:
    values = [np.nanmin(dataset[n].to_numpy(), initial=np.inf) for n in names]
    low = min(values, default=np.inf)
    return float(low) if np.isfinite(low) else float("nan")


def loo_summary(log_lik: np.ndarray) -> dict[str, Any]:
    """PSIS-LOO of pointwise log-likelihoods.

    Parameters
    ----------
    log_lik : numpy.ndarray
        ``(chain, draw, observation)`` log predictive density of each observation.

    Returns
    -------
    dict
        ``elpd_loo``, ``elpd_loo_se``, ``p_loo``, ``max_pareto_k``, ``n_pareto_k_high``
        (above 0.7) and ``pareto_k`` (one per observation).
    """
    import arviz as az

    idata = az.from_dict(log_likelihood={"y": log_lik})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Pareto k check below reports it instead
        loo = az.loo(idata, pointwise=True, reff=1.0)
    k = np.asarray(loo.pareto_k, dtype=float)
    return {
        "elpd_loo": float(loo.elpd_loo),
        "elpd_loo_se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "max_pareto_k": float(np.max(k)),
        "n_pareto_k_high": int((k > THRESHOLDS["pareto_k"]).sum()),
        "pareto_k": k.round(3).tolist(),
    }


def ppc_summary(observed: np.ndarray, replicated: np.ndarray, *, prob: float = 0.9
                ) -> dict[str, float]:
    """Posterior predictive check of observed outcomes against replicated ones.

    Parameters
    ----------
    observed : numpy.ndarray
        ``(observation,)`` outcomes.
    replicated : numpy.ndarray
        ``(sample, observation)`` draws from the posterior predictive distribution.
    prob : float, default 0.9
        Mass of the per-observation predictive intervals.

    Returns
    -------
    dict
        ``ppc_coverage`` (share of observations inside their interval, ideally near `prob`),
        ``ppc_prob``, and the posterior predictive p-values ``ppc_p_mean`` and ``ppc_p_sd``
        (share of replications whose mean / sd exceed the observed; extreme near 0 or 1).
    """
    lo, hi = np.quantile(replicated, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    inside = (observed >= lo) & (observed <= hi)
    return {
        "ppc_coverage": float(inside.mean()),
        "ppc_prob": prob,
        "ppc_p_mean": float((replicated.mean(axis=1) >= observed.mean()).mean()),
        "ppc_p_sd": float((replicated.std(axis=1) >= observed.std()).mean()),
    }


def run_correlation(observed: np.ndarray, replicated: np.ndarray, *groups: np.ndarray,
                    ceiling: float = 0.95) -> float:
    """Correlation of standardised residuals between the runs of one group.

    The likelihood treats the benchmarks of one fine-tuning run (one dataset on one base
    model) as independent given the parameters; a residual shared by them (the run went well
    or badly across the board) shows up as a positive correlation of their standardised
    posterior predictive residuals ``(observed - mean) / sd``. This pools, over groups with
    at least two runs, the mean product of residual pairs divided by the mean square.

    Parameters
    ----------
    observed : numpy.ndarray
        ``(observation,)`` outcomes.
    replicated : numpy.ndarray
        ``(sample, observation)`` posterior predictive draws.
    *groups : numpy.ndarray
        ``(observation,)`` labels whose combination defines a run (dataset, base model).
    ceiling : float, default 0.95
        Upper clip (the estimate is noisy with few runs).

    Returns
    -------
    float
        In ``[0, ceiling]``; 0 when no group has two observations.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> shared = np.repeat(rng.normal(size=200), 3)  # 200 runs x 3 benchmarks
    >>> obs = shared + rng.normal(size=600)  # half of the variance is shared
    >>> round(run_correlation(obs, rng.normal(size=(4000, 600)) * np.sqrt(2),
    ...                       np.repeat(np.arange(200), 3)), 1)
    0.5
    """
    sd = replicated.std(axis=0, ddof=1)
    z = np.where(sd > 0, (observed - replicated.mean(axis=0)) / np.where(sd > 0, sd, 1), 0.0)
    codes = np.unique(np.column_stack(groups), axis=0, return_inverse=True)[1].ravel()
    sums = np.bincount(codes, weights=z)
    squares = np.bincount(codes, weights=z**2)
    counts = np.bincount(codes)
    pairs = (counts * (counts - 1) / 2).sum()
    if pairs == 0 or not np.mean(z**2) > 0:
        return 0.0
    cross = ((sums**2 - squares) / 2).sum() / pairs
    return float(np.clip(cross / np.mean(z**2), 0.0, ceiling))


def diagnostic_problems(summary: dict[str, Any]) -> list[str]:
    """Plain-language list of the checks a diagnostics summary fails (empty when all pass).

    Examples
    --------
    >>> diagnostic_problems({"max_rhat": 1.05, "worst_rhat_var": "slope", "divergences": 0})
    ['R-hat 1.050 > 1.01 (slope): chains disagree; sample longer (more tune/draws)']
    """
    problems = []
    rhat = summary.get("max_rhat", float("nan"))
    if np.isfinite(rhat) and rhat > THRESHOLDS["max_rhat"]:
        problems.append(f"R-hat {rhat:.3f} > {THRESHOLDS['max_rhat']} "
                        f"({summary.get('worst_rhat_var')}): chains disagree; sample longer "
                        f"(more tune/draws)")
    if summary.get("divergences", 0) > THRESHOLDS["divergences"]:
        problems.append(f"{summary['divergences']} divergent transitions: the posterior may be "
                        f"biased; raise target_accept or tighten the group-scale priors")
    min_ess = THRESHOLDS["min_ess_per_chain"] * summary.get("chains", 1)
    for kind in ("bulk", "tail"):
        ess = summary.get(f"min_ess_{kind}", float("nan"))
        if np.isfinite(ess) and ess < min_ess:
            problems.append(f"{kind} ESS {ess:.0f} < {min_ess:.0f}: draw more samples")
    if summary.get("n_pareto_k_high", 0):
        problems.append(f"{summary['n_pareto_k_high']} run(s) with Pareto k > "
                        f"{THRESHOLDS['pareto_k']}: PSIS-LOO is unreliable for them (influential "
                        f"runs); prefer the validation harness's exact refits")
    coverage = summary.get("ppc_coverage")
    if coverage is not None and coverage < summary["ppc_prob"] - THRESHOLDS["ppc_coverage_drop"]:
        problems.append(f"posterior predictive intervals cover {coverage:.0%} of the runs "
                        f"(nominal {summary['ppc_prob']:.0%}): the model underfits")
    return problems


def warn_on_problems(summary: dict[str, Any], *, stacklevel: int = 3) -> list[str]:
    """Issue one :class:`SamplingWarning` per failed check and return the messages."""
    problems = diagnostic_problems(summary)
    for message in problems:
        warnings.warn(message, SamplingWarning, stacklevel=stacklevel)
    return problems
