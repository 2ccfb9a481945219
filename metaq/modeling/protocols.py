"""What every forecaster offers, so the harness, the pipeline and explain take any of them.

The Bayesian models (:class:`~metaq.modeling.hierarchical.HierarchicalDeltaModel`,
:class:`~metaq.modeling.hierarchical.PooledDeltaModel`) and the point baselines
(:mod:`metaq.modeling.baselines`) all satisfy :class:`Forecaster`; scikit-learn's constructor
rule (``__init__`` stores its arguments, :func:`get_params` reads them back) lets
:func:`clone` make an unfitted copy for each fold of a cross-validation.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import pandas as pd

from metaq.modeling.forecast import Forecast
from metaq.modeling.query import Benchmarks, TargetModels


@runtime_checkable
class Forecaster(Protocol):
    """A model of benchmark changes after fine-tuning that forecasts new datasets.

    Attributes
    ----------
    target : {"logit", "abs", "rel"}
        Scale of the change it forecasts.
    learns_untuned_level : bool
        Whether it models the untuned level itself (and so learns from fine-tuned scores
        whose untuned score was not printed), or only the observed change.
    """

    target: str
    learns_untuned_level: ClassVar[bool]

    def fit(self, runs: Any, features: Any, *, random_seed: int | None = None) -> Self:
        """Learn from a runs table and the features of its datasets."""

    def predict(self, features: Any, target_models: TargetModels = None,
                benchmarks: Benchmarks = None, *, prob: float = 0.9,
                random_seed: int | None = None, base_scores: Any = None,
                item_noise: bool = False, study: str | None = None) -> Forecast:
        """Forecast datasets x target models x benchmarks (for a new study by default)."""

    def resolve_target_models(self, target_models: TargetModels = None) -> pd.DataFrame:
        """Read target models as :meth:`predict` does."""

    def resolve_benchmarks(self, benchmarks: Benchmarks = None) -> pd.DataFrame:
        """Read benchmarks as :meth:`predict` does."""


def param_names(cls: type) -> list[str]:
    """Names of the constructor arguments of the class `cls`.

    Examples
    --------
    >>> from metaq.modeling.hierarchical import PooledDeltaModel
    >>> param_names(PooledDeltaModel)
    ['features', 'target', 'priors', 'sampler', 'likelihood']
    """
    return [name for name, parameter in inspect.signature(cls).parameters.items()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD]


def get_params(estimator: Any) -> dict[str, Any]:
    """Read the constructor arguments of `estimator` back from its attributes.

    Examples
    --------
    >>> from metaq.modeling.baselines import RidgeBaseline
    >>> get_params(RidgeBaseline(target="abs"))["target"]
    'abs'
    """
    return {name: getattr(estimator, name) for name in param_names(type(estimator))}


def clone(estimator: Any, **overrides: Any) -> Any:
    """Make an unfitted copy of `estimator` with its constructor arguments (or `overrides`).

    Examples
    --------
    >>> from metaq.modeling.baselines import RidgeBaseline
    >>> clone(RidgeBaseline(target="abs"), residual_scheme="kfold").residual_scheme
    'kfold'
    """
    params = get_params(estimator)
    unknown = set(overrides) - set(params)
    if unknown:
        raise TypeError(f"{type(estimator).__name__} takes no parameter(s) {sorted(unknown)}")
    return type(estimator)(**{**params, **overrides})
