"""Validation: cross-validation schemes, forecast scores and the harness that compares models."""

from metaq.validation.harness import (
    MODELS,
    ValidationResult,
    cross_validate,
    summarise,
)
from metaq.validation.schemes import SCHEMES, Fold, make_folds
from metaq.validation.scores import crps, log_predictive_density, ranking_scores

__all__ = [
    "MODELS",
    "SCHEMES",
    "Fold",
    "ValidationResult",
    "crps",
    "cross_validate",
    "log_predictive_density",
    "make_folds",
    "ranking_scores",
    "summarise",
]
