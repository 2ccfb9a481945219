"""Shared set-up of the modeling tests: short NUTS fits."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pandas as pd
import pytest

from metaq import HierarchicalDeltaModel

#: Short chains: enough for the checks of a test, not for the convergence checks of a fit.
QUICK_SAMPLER = {"draws": 200, "tune": 200, "chains": 2}


def fit_quickly(runs: pd.DataFrame, features: pd.DataFrame, *, random_seed: int,
                sampler: dict | None = None, **options) -> HierarchicalDeltaModel:
    """Fit with short chains, the convergence warnings they raise silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HierarchicalDeltaModel(sampler={**QUICK_SAMPLER, **(sampler or {})},
                                      **options).fit(runs, features, random_seed=random_seed)


@pytest.fixture(scope="session")
def quick_fit() -> Callable[..., HierarchicalDeltaModel]:
    """:func:`fit_quickly`, for module-scoped fixtures and tests."""
    return fit_quickly
