"""Scores of probabilistic forecasts against held-out outcomes.

Per held-out run (from the predictive draws): CRPS, log predictive density, the probability
integral transform (PIT) and interval coverage. Across held-out runs of the same target model
and benchmark: Spearman rank correlation and pairwise decision accuracy (did the forecast pick
the dataset that did better?), also weighted by the size of the true difference and restricted
to pairs whose true difference exceeds the benchmark's binomial noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import spearmanr

#: z-value that makes a true difference "larger than the benchmark's noise" (two-sided 95 %).
NOISE_Z = 1.96


def crps(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each column of `draws` (lower is better).

    Uses ``CRPS = E|X - y| - E|X - X'| / 2`` with the second term computed exactly from the
    sorted draws: ``E|X - X'| = 2 / S**2 * sum_i (2 i - S - 1) x_(i)``.

    This equals ``scoringrules.crps_ensemble`` (quantile-decomposition estimator) to within
    1e-13 relative and is kept rather than that library: scoringrules took 1.0-1.8x this
    function's time with its numba backend and 1.4-4x with numpy on every size measured, and
    3-4.3 s to import where numba is installed (as it is here); this needs neither a
    dependency nor import time. Measured with ``python analyses/bench_scores.py``; figures
    in docs/validation.md.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(sample, row)`` predictive draws.
    observed : numpy.ndarray
        ``(row,)`` outcomes.

    Returns
    -------
    numpy.ndarray
        ``(row,)`` CRPS, in the unit of the outcome.

    Examples
    --------
    >>> import numpy as np
    >>> crps(np.array([[0.0], [1.0]]), np.array([0.0])).round(3)  # 0.5 - 0.5 / 2
    array([0.25])
    """
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    n = draws.shape[0]
    accuracy = np.abs(draws - observed[None, :]).mean(axis=0)
    weights = (2 * np.arange(1, n + 1) - n - 1)[:, None]
    spread = 2.0 / n**2 * (weights * np.sort(draws, axis=0)).sum(axis=0)
    return accuracy - spread / 2


def log_predictive_density(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Log density of each outcome under a Gaussian kernel estimate of its predictive draws.

    The bandwidth is Silverman's rule, ``1.06 * sd * S**(-1/5)``, per row (floored at
    ``1e-6`` so a degenerate forecast gets a finite, very low density).

    Parameters
    ----------
    draws : numpy.ndarray
        ``(sample, row)`` predictive draws.
    observed : numpy.ndarray
        ``(row,)`` outcomes.

    Returns
    -------
    numpy.ndarray
        ``(row,)`` log densities (higher is better).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> float(log_predictive_density(rng.normal(size=(4000, 1)), np.array([0.0]))[0]) > -1.0
    True
    """
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    n = draws.shape[0]
    width = np.maximum(1.06 * draws.std(axis=0, ddof=1) * n ** (-0.2), 1e-6)
    z = (observed[None, :] - draws) / width
    log_kernel = -0.5 * z**2 - 0.5 * np.log(2 * np.pi) - np.log(width)
    return logsumexp(log_kernel, axis=0) - np.log(n)


def pit(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Probability integral transform: share of draws below each outcome (ties count half)."""
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)[None, :]
    return (draws < observed).mean(axis=0) + 0.5 * (draws == observed).mean(axis=0)


def interval_covers(draws: np.ndarray, observed: np.ndarray, prob: float) -> np.ndarray:
    """Whether each outcome lies in the equal-tailed `prob` interval of its draws."""
    lo, hi = np.quantile(np.asarray(draws, dtype=float), [(1 - prob) / 2, (1 + prob) / 2],
                         axis=0)
    observed = np.asarray(observed, dtype=float)
    return (observed >= lo) & (observed <= hi)


def wilson_interval(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion of `hits` in `n` independent trials.

    Used for interval coverage: it treats held-out runs as independent, which they are not
    (a surprising held-out dataset is missed on all of its runs at once), so it understates
    the uncertainty. A coverage whose interval contains the nominal level is consistent with
    it; one whose interval does not may still be, under that correlation.

    Examples
    --------
    >>> [round(v, 3) for v in wilson_interval(9, 10)]
    [0.596, 0.982]
    """
    if n <= 0:
        return float("nan"), float("nan")
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(hits, n, alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def cluster_bootstrap_interval(hits: np.ndarray, clusters: Sequence, level: float = 0.95, *,
                               n_boot: int = 4000, random_seed: int | None = 0
                               ) -> tuple[float, float]:
    """Percentile interval of a proportion whose trials come in correlated clusters.

    A held-out dataset's runs are missed or covered together, so the runs are not the
    independent trials :func:`wilson_interval` assumes. This resamples whole clusters (for
    coverage: the held-out datasets of each table) with replacement and takes the proportion
    of hits over the resampled runs. With a handful of clusters the interval is itself rough;
    use it for a proportion pooled over many.

    Parameters
    ----------
    hits : numpy.ndarray
        One boolean (or 0/1) per trial.
    clusters : sequence
        One cluster label per trial.
    level : float, default 0.95
    n_boot : int, default 4000
        Bootstrap resamples.
    random_seed : int, optional

    Returns
    -------
    lo, hi : float
        NaN for no trials.

    Examples
    --------
    >>> hits = np.repeat([1, 1, 1, 0], 5)  # 4 clusters of 5 runs, one cluster missed
    >>> lo, hi = cluster_bootstrap_interval(hits, np.repeat(list("abcd"), 5))
    >>> lo, hi
    (0.25, 1.0)
    """
    hits = np.asarray(hits, dtype=float)
    if hits.size == 0:
        return float("nan"), float("nan")
    codes, labels = pd.factorize(pd.Series(list(clusters)), sort=True)
    if len(codes) != hits.size:
        raise ValueError(f"{hits.size} hits but {len(codes)} cluster labels")
    sums = np.bincount(codes, weights=hits, minlength=len(labels))
    sizes = np.bincount(codes, minlength=len(labels)).astype(float)
    rng = np.random.default_rng(random_seed)
    picks = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    shares = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    lo, hi = np.quantile(shares, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def coverage_curve(pit_values: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Empirical coverage of central intervals at each nominal level, from PIT values."""
    pit_values = np.asarray(pit_values, dtype=float)
    return np.array([(np.abs(pit_values - 0.5) <= level / 2).mean() for level in levels])


def binomial_noise_sd(p_a: np.ndarray, p_b: np.ndarray, n_a: np.ndarray,
                      n_b: np.ndarray) -> np.ndarray:
    """Return the sd of the difference of two independent binomial accuracies."""
    return np.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)


def ranking_scores(predictions: pd.DataFrame, *, group: Sequence[str],
                   random_seed: int | None = 0) -> dict[str, float]:
    """Spearman and pairwise decision accuracy of predicted means across datasets.

    Within a comparison set (the `group` columns: one target model and benchmark, and the
    fold, so that only forecasts of one fit are compared) the untuned score is shared, so
    ranking datasets by the fine-tuned score ``score_ft`` is ranking them by their change on
    any scale; true differences are taken in accuracy points of ``score_ft``.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per held-out run with ``dataset_id``, ``score_ft`` (the truth), ``mean``
        (the forecast's mean on its outcome scale) and ``n_items`` (may be missing), plus
        the `group` columns.
    group : sequence of str
        Columns defining a comparison set: datasets are ranked and paired only within one.
    random_seed : int, optional
        Seed of the bootstrap interval.

    Returns
    -------
    dict
        ``spearman`` (mean over sets with at least 3 datasets and no constant side),
        ``pairwise_acc`` (a tied forecast counts one half), ``pairwise_acc_weighted`` (pairs
        weighted by ``|true difference|``),
        ``pairwise_acc_beyond_noise`` (pairs whose true difference exceeds ``NOISE_Z``
        binomial standard deviations; NaN without ``n_items``) with its 95 % bootstrap
        interval ``pairwise_acc_beyond_noise_lo``/``_hi`` over pairs of datasets
        (:func:`cluster_bootstrap_interval`: a pair of datasets compared on several models
        and benchmarks is one unit), and the counts ``n_pairs``, ``n_pairs_beyond_noise``
        and ``n_dataset_pairs_beyond_noise``. NaN where there is nothing to score.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"dataset_id": ["a", "b", "c"], "score_ft": [0.5, 0.6, 0.7],
    ...                   "mean": [0.52, 0.50, 0.71], "n_items": [100] * 3, "g": "x"})
    >>> s = ranking_scores(p, group=["g"])
    >>> round(s["pairwise_acc"], 3), round(s["pairwise_acc_beyond_noise"], 3)
    (0.667, 1.0)
    """
    rhos, pairs = [], []
    for _, members in predictions.groupby(list(group), sort=False, dropna=False):
        if len(members) >= 3 and members["score_ft"].nunique() > 1 and \
                members["mean"].nunique() > 1:
            rhos.append(spearmanr(members["mean"], members["score_ft"]).statistic)
        for a, b in combinations(range(len(members)), 2):
            first, second = members.iloc[a], members.iloc[b]
            true_diff = first["score_ft"] - second["score_ft"]
            if true_diff == 0:
                continue
            guess = np.sign(first["mean"] - second["mean"])
            # a tie (the forecast cannot tell them apart) is a coin flip: half credit
            pairs.append({"correct": 0.5 if guess == 0 else float(guess == np.sign(true_diff)),
                          "weight": abs(true_diff),
                          "beyond": _beyond_noise(first, second, true_diff),
                          "unit": "|".join(sorted(map(str, (first["dataset_id"],
                                                            second["dataset_id"]))))})
    table = pd.DataFrame(pairs, columns=["correct", "weight", "beyond", "unit"])
    correct = table["correct"].to_numpy(dtype=float)
    beyond = table["beyond"].to_numpy(dtype=float)
    known = ~np.isnan(beyond)
    strong = known & (beyond == 1)
    lo, hi = (cluster_bootstrap_interval(correct[strong], table["unit"][strong],
                                         random_seed=random_seed)
              if strong.any() else (np.nan, np.nan))
    return {
        "spearman": float(np.mean(rhos)) if rhos else np.nan,
        "pairwise_acc": float(correct.mean()) if len(table) else np.nan,
        "pairwise_acc_weighted": (float(np.average(correct, weights=table["weight"]))
                                  if len(table) else np.nan),
        "pairwise_acc_beyond_noise": float(correct[strong].mean()) if strong.any() else np.nan,
        "pairwise_acc_beyond_noise_lo": lo,
        "pairwise_acc_beyond_noise_hi": hi,
        "n_pairs": len(table),
        "n_pairs_beyond_noise": int(strong.sum()) if known.any() else np.nan,
        "n_dataset_pairs_beyond_noise": (int(table["unit"][strong].nunique()) if known.any()
                                         else np.nan),
    }


def paired_differences(predictions: pd.DataFrame, *, score: str = "crps",
                       unit: str = "unit", key: Sequence[str], level: float = 0.95,
                       n_boot: int = 4000, random_seed: int | None = 0) -> pd.DataFrame:
    """Each model's mean `score` minus the best model's, with a paired cluster bootstrap.

    The best model has the lowest mean score over the runs every model forecast. For every
    other model the per-run difference to it is averaged, and its interval comes from
    resampling held-out units (the `unit` column: datasets, or sizes, or pairs) with
    replacement, both models' runs of a unit together, so the interval carries the sampling
    uncertainty of which datasets happened to be in the table, not only Monte Carlo noise.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per (model, held-out run): ``model``, the `key` columns, `score`, `unit`.
    score : str, default "crps"
        The per-run score (lower is better).
    unit : str, default "unit"
        Column of held-out units.
    key : sequence of str
        Columns identifying a held-out run (the fold included).
    level : float, default 0.95
    n_boot : int, default 4000
    random_seed : int, optional

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, n_runs, n_units, crps`` (mean over the common runs),
        ``crps_diff`` (minus the best model's; 0 for the best), ``lo``, ``hi`` and
        ``beyond_noise`` (the interval excludes 0: the best model is better), sorted best
        first.

    Examples
    --------
    >>> p = pd.DataFrame({"model": ["a"] * 4 + ["b"] * 4, "run": list(range(4)) * 2,
    ...                   "unit": list("xxyy") * 2, "crps": [1, 1, 1, 1, 2, 2, 2, 2.0]})
    >>> paired_differences(p, key=["run"])[["model", "crps_diff", "beyond_noise"]].values.tolist()
    [['a', 0.0, False], ['b', 1.0, True]]
    """
    wide = predictions.pivot_table(index=[*key, unit], columns="model", values=score,
                                   aggfunc="first").dropna()
    if wide.empty:
        return pd.DataFrame(columns=["model", "n_runs", "n_units", score, f"{score}_diff",
                                     "lo", "hi", "beyond_noise"])
    means = wide.mean(axis=0)
    best = means.idxmin()
    codes, labels = pd.factorize(wide.index.get_level_values(unit))
    rng = np.random.default_rng(random_seed)
    picks = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    sizes = np.bincount(codes, minlength=len(labels)).astype(float)[picks].sum(axis=1)
    rows = []
    for model in means.sort_values().index:
        diff = (wide[model] - wide[best]).to_numpy()
        sums = np.bincount(codes, weights=diff, minlength=len(labels))
        boot = sums[picks].sum(axis=1) / sizes
        lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"model": model, "n_runs": len(wide), "n_units": len(labels),
                     score: float(means[model]), f"{score}_diff": float(diff.mean()),
                     "lo": float(lo), "hi": float(hi),
                     "beyond_noise": bool(model != best and lo > 0)})
    return pd.DataFrame(rows)


def _beyond_noise(first: pd.Series, second: pd.Series, true_diff: float) -> float:
    if pd.isna(first["n_items"]) or pd.isna(second["n_items"]):
        return np.nan
    sd = binomial_noise_sd(first["score_ft"], second["score_ft"], float(first["n_items"]),
                           float(second["n_items"]))
    return float(abs(true_diff) > NOISE_Z * sd)
