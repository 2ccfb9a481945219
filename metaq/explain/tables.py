"""One entry point that computes any explain table by name (what ``metaq explain`` runs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from metaq.exceptions import InvalidParameterError

ExplainWhat = Literal["importance", "scale-contrast", "permutation", "contributions", "whatif",
                      "sweep", "rank", "next-run"]


def explain_table(what: ExplainWhat, *, model=None,
                  features: pd.DataFrame | str | Path | None = None,
                  runs: pd.DataFrame | str | Path | None = None,
                  datasets: Sequence[str] | None = None, target_models=None,
                  benchmarks: Sequence[str] | None = None,
                  changes: Sequence[str] | None = None, feature: str | None = None,
                  grid: Sequence[float] | None = None,
                  candidates: Sequence[str] | None = None,
                  interest: Sequence[str] | None = None, n_permutations: int = 20,
                  prob: float = 0.9,
                  random_seed: int = 0, plot: bool = False) -> tuple[pd.DataFrame, Any]:
    """Compute one explain table (and optionally its figure) from plain options.

    Parameters
    ----------
    what : {"importance", "scale-contrast", "permutation", "contributions", "whatif", \
"sweep", "rank", "next-run"}
        Which table.
    model : HierarchicalDeltaModel or path, optional
        The predictor; the shipped default when None.
    features : DataFrame or path, optional
        Features of the datasets to explain (contributions, whatif, sweep baseline, rank,
        next-run); for ``permutation`` the training features (default: the study's).
    runs : DataFrame or path, optional
        Training runs for ``permutation`` (default: the study's).
    datasets : sequence of str, optional
        Keep only these dataset ids of `features`.
    target_models : sequence, optional
        Target models (names or ``{"name", "params_b", "family"}``).
    benchmarks : sequence of str, optional
        Benchmarks.
    changes : sequence of str, optional
        What-if changes (``"redundancy_ratio=-20%"``).
    feature : str, optional
        The feature of a sweep.
    grid : sequence of float, optional
        Sweep values.
    candidates : sequence of str, optional
        Next-run candidates as ``"DATASET@MODEL"`` (a model named in `target_models` takes
        its size from there).
    interest : sequence of str, optional
        Next-run: datasets whose forecasts matter (default: the candidates').
    n_permutations : int, default 20
        Permutation importance: shuffles per feature.
    prob : float, default 0.9
        Interval mass.
    random_seed : int, default 0
        Seed.
    plot : bool, default False
        Also draw the table.

    Returns
    -------
    table : pandas.DataFrame
    figure : matplotlib.figure.Figure or None

    Raises
    ------
    InvalidParameterError
        When an option the table needs is missing (e.g. ``--set`` for whatif).
    """
    from metaq.explain import plots
    from metaq.explain.contributions import feature_contributions
    from metaq.explain.importance import feature_importance, permutation_importance, scale_contrast
    from metaq.explain.ranking import rank_candidates
    from metaq.explain.whatif import sweep, what_if
    from metaq.forecasting import load_predictor

    predictor = load_predictor(model)
    common = {"prob": prob, "random_seed": random_seed}
    scope = {"target_models": target_models, "benchmarks": benchmarks, **common}
    if what == "importance":
        table, draw = feature_importance(predictor, **scope), plots.draw_importance
    elif what == "scale-contrast":
        table = scale_contrast(predictor, benchmarks=benchmarks, **common)
        draw = plots.draw_scale_contrast
    elif what == "permutation":
        train_runs, train_features = _training_tables(runs, features)
        table = permutation_importance(predictor, train_runs, train_features,
                                       n_permutations=n_permutations, **common)
        draw = plots.draw_permutation_importance
    elif what == "contributions":
        table = feature_contributions(predictor, _features(features, datasets, what),
                                            **scope)
        draw = plots.draw_contributions
    elif what == "whatif":
        if not changes:
            raise InvalidParameterError("whatif needs at least one change. Fix: add e.g. "
                                        "--set redundancy_ratio=-20%")
        table = what_if(predictor, _features(features, datasets, what), list(changes),
                              **scope)
        draw = plots.draw_what_if
    elif what == "sweep":
        if not feature:
            raise InvalidParameterError("sweep needs --feature NAME (a feature of the model: "
                                        f"{predictor.features_})")
        baseline = _features(features, datasets, what) if features is not None else None
        table = sweep(predictor, feature, grid, baseline=baseline, **scope)
        draw = plots.draw_sweep
    elif what == "rank":
        forecast = predictor.predict(_features(features, datasets, what),
                                     _targets(predictor, target_models),
                                     _benchmarks(predictor, benchmarks), prob=prob,
                                     random_seed=random_seed)
        table = rank_candidates(forecast, benchmarks=benchmarks, prob=prob)
        draw = plots.draw_ranking
    elif what == "next-run":
        table = _next_runs(predictor, _features(features, datasets, what), candidates,
                           interest, target_models, benchmarks, random_seed)
        draw = plots.draw_next_runs
    else:
        raise InvalidParameterError(f"unknown explain table {what!r}")
    return table, (draw(table) if plot else None)


def _features(features, datasets: Sequence[str] | None, what: str) -> pd.DataFrame:
    from metaq.explain._names import check_known
    from metaq.modeling.design import as_features_table

    if features is None:
        raise InvalidParameterError(f"{what} needs the features of the datasets. Fix: add "
                                    f"--features FEATURES.csv")
    table = as_features_table(features, allow_missing=True)
    table = table.loc[table["domain"] == ""].reset_index(drop=True)
    if datasets:
        check_known(datasets, table["dataset_id"].tolist(), kind="dataset")
        table = table.loc[table["dataset_id"].isin(datasets)].reset_index(drop=True)
    return table


def _training_tables(runs, features) -> tuple[pd.DataFrame, pd.DataFrame]:
    from metaq.datasets import study_path
    from metaq.modeling.design import as_features_table, as_runs_table

    return (as_runs_table(study_path("runs") if runs is None else runs),
            as_features_table(study_path("features") if features is None else features))


def _targets(predictor, target_models) -> pd.DataFrame:
    return predictor.resolve_target_models(target_models)


def _benchmarks(predictor, benchmarks) -> list[str]:
    return predictor.resolve_benchmarks(benchmarks)["label"].tolist()


def _next_runs(predictor, features: pd.DataFrame, candidates, interest, target_models,
               benchmarks, random_seed: int) -> pd.DataFrame:
    from metaq.explain.next_run import rank_next_runs

    if not candidates:
        raise InvalidParameterError("next-run needs candidate runs. Fix: add --candidate "
                                    "DATASET@MODEL for each run you could do")
    targets = _targets(predictor, target_models)
    by_name = {row["name"]: row for row in targets.to_dict(orient="records")}
    runs = []
    for spec in candidates:
        dataset, sep, name = spec.partition("@")
        if not sep or not dataset or not name:
            raise InvalidParameterError(f"candidate {spec!r} is not DATASET@MODEL. Fix: e.g. "
                                        f"--candidate Detailed@PLLuM-8B-instruct")
        runs.append({"dataset_id": dataset, **by_name.get(name, {"name": name})})
    interest = list(interest) if interest else list(dict.fromkeys(r["dataset_id"] for r in runs))
    return rank_next_runs(predictor, runs, features, interest_datasets=interest,
                          interest_models=targets.to_dict(orient="records"),
                          benchmarks=benchmarks, random_seed=random_seed)
