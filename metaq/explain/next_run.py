"""Which fine-tuning run to do next: rank candidate runs by the uncertainty they would remove.

A candidate run is "fine-tune model m on dataset d and evaluate it on the benchmarks". Its
value is the expected reduction of the posterior variance of the forecasts the user cares
about (``interest``: datasets x target models x benchmarks), computed without refitting by
preposterior importance weighting (:mod:`metaq.explain._preposterior`): outcomes of the run
are simulated from the current posterior, every posterior draw is re-weighted by how likely
it makes the simulated outcome, and the weighted variance of the forecasts is averaged.

Assumptions, stated with every table: the run's outcome on each benchmark is Gaussian on the
logit scale given a draw, with the model's run-to-run spread plus the binomial noise of the
benchmark's items (its count in the training runs); the benchmarks of one run share a run
effect, so their outcomes are equicorrelated with the correlation the fit measured between a
run's residuals (``run_correlation_``); the current draws cover the updated posterior (the
reported effective sample size of the weights says how well). A run on a model
size the predictor has not seen informs that size's offsets only through the draws it shares
with the forecasts, which the joint evaluation below keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from metaq.explain._model import run_outcome_draws
from metaq.explain._names import check_known
from metaq.explain._preposterior import expected_posterior_variance


def rank_next_runs(model, candidates: pd.DataFrame | Sequence[dict], features: pd.DataFrame,
                   *, interest_datasets: Sequence[str], interest_models,
                   benchmarks: Sequence[str] | None = None,
                   interest_benchmarks: Sequence[str] | None = None,
                   n_items: int | None = None, n_outcomes: int = 200,
                   random_seed: int = 0) -> pd.DataFrame:
    """Rank candidate (dataset, model) runs by expected reduction of forecast variance.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    candidates : DataFrame or sequence of dict
        One row per candidate run: ``dataset_id`` and ``name`` (the model; a name the
        predictor saw, or with ``params_b`` [and ``family``] for any size).
    features : pandas.DataFrame
        Features rows of every candidate and interest dataset.
    interest_datasets : sequence of str
        Datasets whose forecasts the user cares about.
    interest_models : sequence
        Target models of those forecasts (names or ``{"name", "params_b", "family"}``).
    benchmarks : sequence of str, optional
        Benchmarks a candidate run would be evaluated on; all the predictor knows by default.
    interest_benchmarks : sequence of str, optional
        Benchmarks of the forecasts of interest; `benchmarks` by default.
    n_items : int, optional
        Items of a benchmark whose count the training runs did not record (binomial noise
        of a future score); benchmarks with a stored count use it.
    n_outcomes : int, default 200
        Simulated outcomes per candidate.
    random_seed : int, default 0
        Seed of the forecast draws and of the simulation.

    Returns
    -------
    pandas.DataFrame
        One row per candidate, best first: ``dataset_id, target_model, params_b,
        variance_before, expected_variance_after, expected_reduction, reduction_share``
        (variances summed over the forecasts of interest, on the model's target scale) and
        ``weights_ess`` (mean effective sample size of the importance weights).
    """
    candidates = pd.DataFrame(list(candidates) if not isinstance(candidates, pd.DataFrame)
                              else candidates)
    interest_models = list(interest_models)
    all_models = _unique_models([*candidates.drop(columns="dataset_id").to_dict("records"),
                                 *[{"name": m} if isinstance(m, str) else dict(m)
                                   for m in interest_models]])
    datasets = list(dict.fromkeys([*candidates["dataset_id"], *interest_datasets]))
    check_known(datasets, features["dataset_id"], kind="dataset")
    chosen = features.loc[features["dataset_id"].isin(datasets)]
    rows, change, mean, sd = run_outcome_draws(
        model, chosen, all_models, benchmarks, n_items=n_items, random_seed=random_seed)
    interest_names = [m if isinstance(m, str) else m["name"] for m in interest_models]
    wanted = (rows["dataset_id"].isin(interest_datasets)
              & rows["target_model"].isin(interest_names))
    if interest_benchmarks is not None:
        wanted &= rows["benchmark"].isin(interest_benchmarks)
    quantity = change[:, wanted.to_numpy()]
    before = float(quantity.var(axis=0).sum())
    out = []
    for i, candidate in enumerate(candidates.itertuples(index=False)):
        run = ((rows["dataset_id"] == candidate.dataset_id)
               & (rows["target_model"] == candidate.name)).to_numpy()
        after, ess = expected_posterior_variance(quantity, mean[:, run], sd[:, run],
                                                 correlation=model.run_correlation_,
                                                 n_outcomes=n_outcomes,
                                                 random_seed=random_seed + i)
        out.append({"dataset_id": candidate.dataset_id, "target_model": candidate.name,
                    "params_b": rows.loc[run, "params_b"].iloc[0],
                    "variance_before": before, "expected_variance_after": float(after.sum()),
                    "weights_ess": ess})
    table = pd.DataFrame(out)
    table["expected_reduction"] = table["variance_before"] - table["expected_variance_after"]
    table["reduction_share"] = table["expected_reduction"] / before if before > 0 else np.nan
    return table.sort_values("expected_reduction", ascending=False, kind="stable"
                             ).reset_index(drop=True)


def _unique_models(models: list[dict]) -> list[dict]:
    """Drop repeated model names, keeping the first (most complete) specification."""
    seen: dict[str, dict] = {}
    for spec in models:
        clean = {k: v for k, v in spec.items() if v is not None and not _is_nan(v)}
        seen.setdefault(str(clean["name"]), clean)
    return list(seen.values())


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)
