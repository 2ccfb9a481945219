"""Rank candidate datasets for a target model: P(best), expected regret, benchmarks helped/hurt.

Works on a forecast's posterior draws (``HierarchicalDeltaModel.predict`` or
:func:`metaq.forecasting.forecast_datasets`), so the ranking is consistent with the printed
forecast and the candidates' shared uncertainty (common coefficients) is kept: P(best) and
regret are computed within each draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from metaq.explain._decision import expected_regret, prob_best
from metaq.explain._model import forecast_draws
from metaq.explain._names import check_known
from metaq.explain._summary import summarise_draws
from metaq.modeling.forecast import check_prob

VERDICTS = ("helps", "hurts", "unclear")


def rank_candidates(forecast, *, benchmarks: Sequence[str] | None = None,
                    weights: Mapping[str, float] | None = None,
                    prob: float | None = None) -> pd.DataFrame:
    """Rank the forecast's datasets per target model by their benchmark-averaged change.

    Per posterior draw, a candidate's utility is the weighted mean over `benchmarks` of its
    forecast change; P(best) is the share of draws in which it has the highest utility, and
    the expected regret is the mean shortfall against the best candidate of that draw. The
    draws are the forecast's own: with run-to-run noise (``predict``'s default) they rank the
    outcome of one fine-tuning run, without it the expected outcome. Only whole-benchmark
    rows are used (not per-domain ones).

    Parameters
    ----------
    forecast : Forecast
        Forecast of the candidate datasets (rows: dataset x target model x benchmark).
    benchmarks : sequence of str, optional
        Benchmarks to average over; all of the forecast's by default.
    weights : mapping of str to float, optional
        Relative weight of each benchmark (default equal); need not sum to 1.
    prob : float, optional
        Mass of the central interval of the utility.

    Returns
    -------
    pandas.DataFrame
        One row per (target_model, dataset_id): ``estimate``, ``lower``, ``upper``,
        ``prob_positive`` of the utility, ``prob_best``, ``expected_regret``, ``rank`` (1 =
        lowest regret), ``helps`` and ``hurts`` (benchmarks, see :func:`benchmark_effects`).

    Raises
    ------
    UnknownNameError
        For a benchmark (or weight key) the forecast does not have.
    """
    prob = check_prob(prob)
    rows, draws = forecast_draws(forecast)
    chosen = _chosen_benchmarks(rows, benchmarks, weights)
    effects = benchmark_effects(forecast, benchmarks=chosen, prob=prob)
    tables = []
    for target, part in rows.groupby("target_model", sort=False):
        datasets, utility = _utility_draws(part, draws, chosen, weights)
        table = summarise_draws(utility, prob)
        table.insert(0, "dataset_id", datasets)
        table.insert(0, "target_model", target)
        table["prob_best"] = prob_best(utility)
        table["expected_regret"] = expected_regret(utility)
        tables.append(table.sort_values("expected_regret", kind="stable"))
    ranked = pd.concat(tables, ignore_index=True)
    ranked["rank"] = ranked.groupby("target_model").cumcount() + 1
    for verdict in VERDICTS[:2]:
        picked = effects.loc[effects["verdict"] == verdict]
        names = picked.groupby(["target_model", "dataset_id"])["benchmark"].agg(",".join)
        keys = zip(ranked["target_model"], ranked["dataset_id"], strict=True)
        ranked[verdict] = [names.get(key, "") for key in keys]
    return ranked.drop(columns="prob_direction")


def benchmark_effects(forecast, *, benchmarks: Sequence[str] | None = None,
                      prob: float | None = None, decisive: float = 0.9) -> pd.DataFrame:
    """Which benchmarks each candidate helps or hurts, with the probability of the direction.

    Parameters
    ----------
    forecast : Forecast
        Forecast of the candidate datasets.
    benchmarks : sequence of str, optional
        Benchmarks to report; all of the forecast's by default.
    prob : float, optional
        Mass of the central interval.
    decisive : float, default 0.9
        A candidate "helps" a benchmark when P(gain) >= `decisive`, "hurts" it when
        P(gain) <= 1 - `decisive`; otherwise the direction is "unclear".

    Returns
    -------
    pandas.DataFrame
        One row per (target_model, dataset_id, benchmark): ``estimate``, ``lower``, ``upper``,
        ``prob_positive`` (= P(gain)), ``verdict``.
    """
    prob = check_prob(prob)
    decisive = check_prob(decisive)
    rows, draws = forecast_draws(forecast)
    chosen = _chosen_benchmarks(rows, benchmarks, None)
    keep = rows["benchmark"].isin(chosen).to_numpy()
    table = summarise_draws(draws[:, keep], prob).drop(columns="prob_direction")
    keys = rows.loc[keep, ["target_model", "dataset_id", "benchmark"]].reset_index(drop=True)
    table = pd.concat([keys, table], axis=1)
    table["verdict"] = np.select(
        [table["prob_positive"] >= decisive, table["prob_positive"] <= 1.0 - decisive],
        VERDICTS[:2], VERDICTS[2])
    return table


def _chosen_benchmarks(rows: pd.DataFrame, benchmarks: Sequence[str] | None,
                       weights: Mapping[str, float] | None) -> list[str]:
    available = list(dict.fromkeys(rows["benchmark"]))
    chosen = list(benchmarks) if benchmarks is not None else available
    check_known(chosen, available, kind="benchmark")
    if weights is not None:
        check_known(list(weights), chosen, kind="benchmark")
    return chosen


def _utility_draws(part: pd.DataFrame, draws: np.ndarray, benchmarks: list[str],
                   weights: Mapping[str, float] | None) -> tuple[list[str], np.ndarray]:
    """(datasets, draws of shape (sample, dataset)) of the weighted benchmark mean."""
    weight_of = {b: float((weights or {}).get(b, 1.0 if weights is None else 0.0))
                 for b in benchmarks}
    datasets = list(dict.fromkeys(part["dataset_id"]))
    utility = np.zeros((draws.shape[0], len(datasets)))
    total = np.zeros(len(datasets))
    for position, row in part.loc[part["benchmark"].isin(benchmarks)].iterrows():
        column = datasets.index(row["dataset_id"])
        utility[:, column] += weight_of[row["benchmark"]] * draws[:, position]
        total[column] += weight_of[row["benchmark"]]
    return datasets, utility / np.where(total > 0, total, 1.0)
