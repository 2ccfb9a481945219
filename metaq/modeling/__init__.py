"""The predictor: a Bayesian hierarchical model of benchmark score changes.

Also its baselines, forecasts, diagnostics and persistence.

Heavy libraries (PyMC, ArviZ, scikit-learn) are imported inside the functions that use them.
"""

from metaq.modeling.design import FeatureScaler
from metaq.modeling.diagnostics import SamplingWarning
from metaq.modeling.forecast import Forecast
from metaq.modeling.hierarchical import HierarchicalDeltaModel, PooledDeltaModel, fit_predictor

__all__ = [
    "FeatureScaler",
    "Forecast",
    "HierarchicalDeltaModel",
    "PooledDeltaModel",
    "SamplingWarning",
    "fit_predictor",
]
