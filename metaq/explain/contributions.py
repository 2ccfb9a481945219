"""Decompose a forecast into per-feature contributions, per posterior draw.

The model's change on its linear-predictor scale is ``intercept + sum_k x_k * slope_k`` with
``x_k`` the standardised feature (0 = the training mean). A feature's contribution is its term
``x_k * slope_k`` in each draw: how much the dataset's distance from a typical training dataset
on that feature moves the forecast for this model and benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from metaq.explain._model import contribution_draws, model_features
from metaq.explain._summary import summarise_draws
from metaq.modeling.forecast import check_prob

TOTAL = "all features"


def feature_contributions(model, features: pd.DataFrame, *, target_models=None,
                          benchmarks: Sequence[str] | None = None, prob: float | None = None,
                          random_seed: int = 0) -> pd.DataFrame:
    """Per-feature contributions to the forecast of each dataset, model and benchmark.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor.
    features : pandas.DataFrame
        Features table rows of the datasets to explain.
    target_models : sequence or DataFrame, optional
        Target models; every training base model by default.
    benchmarks : sequence of str, optional
        Benchmarks; all the predictor knows by default.
    prob : float, optional
        Mass of the central interval.
    random_seed : int, default 0
        Seed of new-group offsets and feature draws.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset_id, target_model, params_b, benchmark, term): ``term`` is a
        feature or ``"all features"`` (their per-draw sum: how far the forecast sits from
        that of a typical training dataset); ``value_z`` is the standardised feature (NaN
        where missing, then integrated over); ``estimate``, ``lower``, ``upper``,
        ``prob_positive`` in the predictor's linear-predictor unit
        (``model.linear_predictor_unit``).
    """
    prob = check_prob(prob)
    rows, terms, x_mean = contribution_draws(model, features, target_models, benchmarks,
                                             random_seed)
    names = [*model_features(model), TOTAL]
    n_rows, n_terms = terms.shape[1], terms.shape[2]
    table = summarise_draws(terms.reshape(terms.shape[0], -1), prob).drop(
        columns="prob_direction")
    keys = rows.loc[np.repeat(np.arange(n_rows), n_terms),
                    ["dataset_id", "target_model", "params_b", "benchmark"]]
    table.insert(0, "value_z", np.column_stack([x_mean, np.full(n_rows, np.nan)]).ravel())
    table.insert(0, "term", np.tile(np.asarray(names, dtype=object), n_rows))
    return pd.concat([keys.reset_index(drop=True), table], axis=1)
