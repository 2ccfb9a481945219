"""How far candidate datasets lie outside the datasets the predictor learned from.

A forecast for a dataset whose features sit well outside the training datasets' range rests
on extending a (linear, logit-scale) trend fitted elsewhere. The predictor's intervals widen
with the distance, but the trend itself is an assumption the training data cannot check:
this table makes the distance visible so the CLI, the forecast table and the report can say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metaq.modeling.design import as_features_table, dataset_rows

#: Distance (in standardised units beyond the training range: training sds, floored at 10 %
#: of the feature's typical magnitude, see :class:`metaq.modeling.design.FeatureScaler`)
#: above which a forecast is called an extrapolation.
EXTRAPOLATION_SD = 1.0


def extrapolation(model, features: pd.DataFrame | str) -> pd.DataFrame:
    """Distance of each candidate's features from the training datasets' range.

    Parameters
    ----------
    model : HierarchicalDeltaModel
        A fitted predictor (its feature scaler and training feature rows are used).
    features : DataFrame or path
        Features of the candidates (one row per dataset, the whole-dataset row where there
        is one; missing values allowed).

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, feature): ``dataset_id, feature, value, train_min, train_max,
        z`` (standardised value) and ``outside_sd``, the distance beyond the nearest end of the
        training range in training standard deviations (0 inside the range, NaN when the
        feature is missing and so integrated over).

    Examples
    --------
    >>> from metaq.forecasting import load_predictor
    >>> table = extrapolation(load_predictor(), "data/study/features.csv")  # doctest: +SKIP
    >>> float(table["outside_sd"].max())  # doctest: +SKIP
    0.0
    """
    rows = dataset_rows(as_features_table(features, allow_missing=True))
    scaler = model.feature_scaler_
    z = scaler.transform(rows)
    train = np.asarray(model.training_x_, dtype=float)
    low, high = np.nanmin(train, axis=0), np.nanmax(train, axis=0)
    outside = np.maximum(np.maximum(low - z, z - high), 0.0)
    n_rows, n_features = z.shape
    return pd.DataFrame({
        "dataset_id": np.repeat(rows["dataset_id"].to_numpy(), n_features),
        "feature": np.tile(scaler.features, n_rows),
        "value": scaler.inverse_transform(z).ravel(),
        "train_min": np.tile(scaler.inverse_transform(low), n_rows),
        "train_max": np.tile(scaler.inverse_transform(high), n_rows),
        "z": z.ravel(),
        "outside_sd": np.where(np.isnan(z), np.nan, outside).ravel(),
    })


def extrapolation_summary(table: pd.DataFrame, *, threshold: float = EXTRAPOLATION_SD
                          ) -> pd.DataFrame:
    """Per dataset: the largest distance beyond the training range and the features beyond it.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`extrapolation`.
    threshold : float, default 1.0
        Features further than this (training sds) beyond the range are listed.

    Returns
    -------
    pandas.DataFrame
        ``dataset_id, extrapolation_sd, extrapolated_features`` (comma-separated, furthest
        first, ``""`` when none).
    """
    rows = []
    for dataset, group in table.groupby("dataset_id", sort=False):
        beyond = group[group["outside_sd"] > threshold].sort_values("outside_sd",
                                                                    ascending=False)
        rows.append({"dataset_id": dataset,
                     "extrapolation_sd": float(group["outside_sd"].max(skipna=True))
                     if group["outside_sd"].notna().any() else 0.0,
                     "extrapolated_features": ",".join(beyond["feature"])})
    return pd.DataFrame(rows, columns=["dataset_id", "extrapolation_sd",
                                       "extrapolated_features"])
