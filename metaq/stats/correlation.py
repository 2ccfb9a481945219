"""Correlation analysis: every dataset metric against every (model, benchmark[, domain]) change.

This is the study's analysis (Spearman rho across the fine-tuning datasets of one base model,
per benchmark, plus the "Avg." column of its Table 7), with what the study left out: exact
permutation p-values, Benjamini-Hochberg FDR and intervals where they are meaningful.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from metaq.exceptions import SchemaError
from metaq.stats._coefficients import Method
from metaq.stats.fdr import benjamini_hochberg
from metaq.stats.intervals import correlation_interval
from metaq.stats.permutation import correlation_permutation_test
from metaq.tables.features import metric_columns, validate_features
from metaq.tables.runs import check_runs_have_features, validate_runs
from metaq.tables.targets import TargetName, derive_target

logger = logging.getLogger(__name__)

AVERAGE_BENCHMARK = "avg"
GROUP = ["base_model", "benchmark", "domain"]
COLUMNS = ["base_model", "benchmark", "domain", "metric", "n", "rho", "p_value", "q_value",
           "ci_lo", "ci_hi", "p_method", "ci_method", "method", "target"]


def correlate(runs: pd.DataFrame, features: pd.DataFrame, *, method: Method = "spearman",
              target: TargetName = "rel", n_permutations: int = 9999,
              random_seed: int | None = 0, ci: float = 0.95,
              n_bootstrap: int = 2000) -> pd.DataFrame:
    """Correlate every metric with the change each fine-tuning run made, per model and benchmark.

    For each (base_model, benchmark, domain) of the runs table, the datasets fine-tuned on that
    model are the sample: their metric values (features table) are correlated with their
    per-run change of the benchmark score (`target`). Runs with a domain use the features row
    of that domain when the features table has one and the whole-dataset row (domain ``""``)
    otherwise, as the study does for MoT-PL-eval's domains. Runs whose target is missing
    (no ``score_base``) are left out of their test, which lowers its ``n``.

    Parameters
    ----------
    runs : pandas.DataFrame
        A runs table (validated here).
    features : pandas.DataFrame
        A features table without missing metric values (validated here).
    method : {"spearman", "pearson"}, default "spearman"
        The coefficient. Spearman is the study's; ties get average ranks.
    target : {"rel", "abs", "logit"}, default "rel"
        The change measure (:func:`metaq.tables.derive_target`). Within one model and
        benchmark all three are increasing in the fine-tuned accuracy, so Spearman's rho is the
        same for each of them; Pearson's r is not.
    n_permutations : int, default 9999
        Random orderings for tests with more than 8 datasets (fewer, or n! <= n_permutations,
        get all n! orderings).
    random_seed : int or None, default 0
        Seed of the Monte Carlo permutations and bootstrap resamples (None: unseeded).
    ci : float, default 0.95
        Coverage of the intervals (see :mod:`metaq.stats.intervals` for when there is one).
    n_bootstrap : int, default 2000
        Bootstrap resamples of the Spearman intervals.

    Returns
    -------
    pandas.DataFrame
        One row per test, columns ``base_model``, ``benchmark``, ``domain`` (``""`` for whole
        benchmarks), ``metric``, ``n``, ``rho``, ``p_value``, ``q_value``, ``ci_lo``,
        ``ci_hi``, ``p_method`` (``"exact"`` or ``"monte_carlo:<m>"``), ``ci_method``,
        ``method`` and ``target``. ``q_value`` is the
        Benjamini-Hochberg adjustment over the family of all tests of this call (every
        model x benchmark x domain x metric with a p-value). Each model with two or more whole
        benchmarks also gets rows with benchmark ``"avg"``: the mean rho over its whole
        benchmarks (the study's "Avg." column); they are summaries, not tests, so their
        p-, q-values and intervals are NaN and ``n`` is the smallest ``n`` averaged.

    Raises
    ------
    SchemaError
        When a table breaks its contract or a run's dataset has no features.
    UnknownNameError
        On an unknown method or target.
    InvalidParameterError
        On ``n_permutations < 1``, ``n_bootstrap < 1`` or `ci` outside (0, 1).

    Examples
    --------
    >>> from metaq.tables import read_features, read_runs
    >>> from metaq.datasets import study_path
    >>> table = correlate(read_runs(study_path("runs")), read_features(study_path("features")))
    >>> row = table.query("base_model == 'Bielik-11B-v2.6-Instruct' and benchmark == 'lightr1'"
    ...                   " and metric == 'redundancy_ratio'")
    >>> round(float(row["rho"].item()), 2), round(float(row["p_value"].item()), 4)
    (1.0, 0.0833)
    """
    runs = validate_runs(runs)
    if (runs["benchmark"] == AVERAGE_BENCHMARK).any():
        raise SchemaError(f"runs table: benchmark name {AVERAGE_BENCHMARK!r} is reserved for "
                          f"the mean rho over benchmarks. Fix: rename that benchmark.")
    features = validate_features(features)
    check_runs_have_features(runs, features)
    runs = runs.assign(performance=derive_target(runs, target))
    metrics = metric_columns(features)
    data = _join_features(runs, features, metrics)
    if data.empty:
        raise SchemaError(f"runs table: no run has both score_base and score_ft, so no "
                          f"{target!r} change can be computed. Fix: fill in score_base.")
    rng = np.random.default_rng(random_seed)
    tests = [
        _test_group(key, group[metrics], group["performance"], method=method,
                    n_permutations=n_permutations, ci=ci, n_bootstrap=n_bootstrap, rng=rng)
        for key, group in data.groupby(GROUP, sort=False)
    ]
    table = pd.DataFrame({column: np.concatenate([test[column] for test in tests])
                          for column in tests[0]})
    table["q_value"] = benjamini_hochberg(table["p_value"])
    table = pd.concat([table, _average_rows(table)], ignore_index=True)
    table = table.assign(method=method, target=target)[COLUMNS]
    logger.info("%d %s correlations of %d metrics with the %s change", len(tests) * len(metrics),
                method, len(metrics), target)
    return _in_reading_order(table)


def _join_features(runs: pd.DataFrame, features: pd.DataFrame,
                   metrics: list[str]) -> pd.DataFrame:
    """Return the runs with a known target plus the metrics of their dataset.

    A run takes the features row of its own domain when there is one and the whole-dataset
    row (domain ``""``) otherwise.
    """
    runs = runs[runs["performance"].notna()]
    own_domain = pd.MultiIndex.from_frame(runs[["dataset_id", "domain"]]).isin(
        pd.MultiIndex.from_frame(features[["dataset_id", "domain"]]))
    runs = runs.assign(feature_domain=runs["domain"].where(own_domain, ""))
    joined = runs.merge(features[["dataset_id", "domain", *metrics]].rename(
        columns={"domain": "feature_domain"}), on=["dataset_id", "feature_domain"], how="left",
        validate="many_to_one", indicator=True)
    unmatched = joined["_merge"] == "left_only"
    if unmatched.any():
        dataset, domain = joined.loc[unmatched, ["dataset_id", "domain"]].iloc[0]
        raise SchemaError(
            f"features table: no row for dataset {dataset!r} with domain {domain!r} or for "
            f"the whole dataset (domain empty), which its runs need. Fix: add that row."
        )
    return joined.drop(columns="_merge")


def _test_group(key: tuple[str, str, str], x: pd.DataFrame, y: pd.Series, *, method: Method,
                n_permutations: int, ci: float, n_bootstrap: int,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Test every metric column of `x` against `y` for one (model, benchmark, domain)."""
    x_values, y_values = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    test = correlation_permutation_test(x_values, y_values, method=method,
                                        n_permutations=n_permutations, rng=rng)
    interval = correlation_interval(x_values, y_values, method=method, ci=ci,
                                    n_bootstrap=n_bootstrap, rng=rng)
    k = x.shape[1]
    base_model, benchmark, domain = key
    return {
        "base_model": np.repeat(base_model, k), "benchmark": np.repeat(benchmark, k),
        "domain": np.repeat(domain, k), "metric": np.asarray(x.columns, dtype=object),
        "n": np.repeat(len(y_values), k), "rho": test.rho, "p_value": test.p_value,
        "ci_lo": interval.lower, "ci_hi": interval.upper,
        "p_method": np.repeat(test.p_method, k), "ci_method": np.repeat(interval.ci_method, k),
    }


def _average_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Return the study's "Avg.": mean rho over each model's whole benchmarks, per metric."""
    whole = table[table["domain"] == ""]
    averaged = whole.groupby(["base_model", "metric"], sort=False).agg(
        rho=("rho", lambda rho: rho.mean(skipna=False)), n=("n", "min"),
        n_benchmarks=("benchmark", "nunique"))
    averaged = averaged[averaged["n_benchmarks"] >= 2].drop(columns="n_benchmarks")
    return averaged.reset_index().assign(
        benchmark=AVERAGE_BENCHMARK, domain="", p_value=np.nan, q_value=np.nan, ci_lo=np.nan,
        ci_hi=np.nan, p_method="", ci_method="none")


def _in_reading_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by model, whole benchmarks then "avg" then domains, metrics in table order."""
    def positions(column: pd.Series) -> pd.Series:
        return column.map({value: i for i, value in enumerate(column.unique())})

    keys = pd.DataFrame({
        "model": positions(table["base_model"]),
        "part": np.select([table["domain"] != "", table["benchmark"] == AVERAGE_BENCHMARK],
                          [2, 1], 0),
        "benchmark": positions(table["benchmark"]),
        "domain": positions(table["domain"]),
        "metric": positions(table["metric"]),
    })
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return table.loc[order].reset_index(drop=True)
