"""What a fit learns besides the posterior draws, in one place for fit, save and load.

A fitted model carries each field of :class:`FittedState` as an attribute with a trailing
underscore (scikit-learn's convention: ``features_``, ``encoding_``, ...); the state is built
once by ``fit``, written into the model card by ``save`` and read back by ``load``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from metaq.modeling.design import Encoding, FeatureScaler


@dataclass
class FittedState:
    """The fitted state of a predictor (without its posterior draws).

    Attributes
    ----------
    features : list of str
        Features used, in model order (constant ones dropped).
    feature_scaler : FeatureScaler
        Means and units of the raw features.
    encoding : Encoding
        Training base models, tasks and the size axis.
    likelihood : str
        ``"binomial"`` or ``"student_t"``.
    priors : dict
        The resolved prior scales.
    sampler : dict
        The resolved sampler settings.
    y_scale : float
        Scale of the Student-t outcome (1 for the binomial likelihood).
    training_x : numpy.ndarray
        ``(feature_row, feature)`` standardised training features.
    feature_blocks : numpy.ndarray
        ``(feature,)`` block of near-copy metrics sharing one prior budget.
    constant_features : dict of str to float
        Features dropped because they were constant in training, with that value (NaN: no
        training dataset had one; None in the JSON card).
    run_correlation : float
        Correlation of one run's standardised residuals across its benchmarks (a shared run
        effect the likelihood leaves out; used by what-to-run-next analyses).
    data_hashes : dict of str to str
        Hashes of the training tables.
    random_seed : int or None
        Seed of the fit.
    n_runs : int
        Training runs.
    diagnostics : dict
        Convergence, PSIS-LOO and posterior predictive summaries.
    """

    features: list[str]
    feature_scaler: FeatureScaler
    encoding: Encoding
    likelihood: str
    priors: dict[str, float]
    sampler: dict[str, Any]
    y_scale: float
    training_x: np.ndarray
    feature_blocks: np.ndarray
    constant_features: dict[str, float]
    run_correlation: float
    data_hashes: dict[str, str]
    random_seed: int | None
    n_runs: int
    diagnostics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the model card's ``state``)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["feature_scaler"] = self.feature_scaler.to_dict()
        out["encoding"] = self.encoding.to_dict()
        out["training_x"] = np.asarray(self.training_x, dtype=float).tolist()
        out["feature_blocks"] = np.asarray(self.feature_blocks, dtype=int).tolist()
        out["constant_features"] = {name: None if np.isnan(value) else value
                                    for name, value in self.constant_features.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedState:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["feature_scaler"] = FeatureScaler.from_dict(data["feature_scaler"])
        values["encoding"] = Encoding.from_dict(data["encoding"])
        values["training_x"] = np.asarray(data["training_x"], dtype=float).reshape(
            -1, len(data["features"]))
        values["feature_blocks"] = np.asarray(data["feature_blocks"], dtype=int)
        values["y_scale"] = float(data["y_scale"])
        values["constant_features"] = {name: np.nan if value is None else float(value)
                                       for name, value in data["constant_features"].items()}
        return cls(**values)

    def attach(self, model: Any) -> None:
        """Set every field on `model` as ``<field>_``."""
        for f in fields(self):
            setattr(model, f"{f.name}_", getattr(self, f.name))

    @classmethod
    def of(cls, model: Any) -> FittedState:
        """Collect the state from a fitted `model`'s ``<field>_`` attributes."""
        return cls(**{f.name: getattr(model, f"{f.name}_") for f in fields(cls)})
