"""Cross-validation schemes over a runs table, matching the questions a forecast answers.

* ``loo-dataset``: hold out every run of one dataset (forecast a dataset never seen; for the
  reference study this is leave-one-variant-out).
* ``loo-size``: hold out every run of the base models of one size (forecast a size never
  seen).
* ``kfold``: random run-level folds (interpolation between seen datasets and models).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, UnknownNameError


@dataclass(frozen=True)
class Fold:
    """One train/test split: positions into the runs table.

    Attributes
    ----------
    name : str
        What is held out, e.g. ``"dataset=Lengthy"``.
    train : numpy.ndarray
        Positions of the training runs.
    test : numpy.ndarray
        Positions of the held-out runs.
    """

    name: str
    train: np.ndarray
    test: np.ndarray


def leave_one_dataset_out(runs: pd.DataFrame) -> list[Fold]:
    """One fold per dataset, holding out all of its runs.

    Raises
    ------
    InvalidParameterError
        With fewer than two datasets.
    """
    return _leave_one_group_out(runs, "dataset_id", "dataset")


def leave_one_size_out(runs: pd.DataFrame) -> list[Fold]:
    """One fold per model size (``params_b``), holding out all runs of models of that size.

    Raises
    ------
    InvalidParameterError
        With fewer than two sizes.
    """
    return _leave_one_group_out(runs, "params_b", "size")


def kfold(runs: pd.DataFrame, *, k: int = 5, random_seed: int | None = 0) -> list[Fold]:
    """`k` random run-level folds of (nearly) equal size.

    Raises
    ------
    InvalidParameterError
        Unless ``2 <= k <= len(runs)``.
    """
    if not 2 <= k <= len(runs):
        raise InvalidParameterError(f"k={k} folds needs 2 <= k <= {len(runs)} (the number of "
                                    f"runs). Fix: choose a k in that range.")
    order = np.random.default_rng(random_seed).permutation(len(runs))
    positions = np.arange(len(runs))
    return [Fold(f"fold={i + 1}/{k}", np.setdiff1d(positions, test), np.sort(test))
            for i, test in enumerate(np.array_split(order, k))]


SCHEMES: dict[str, Callable[..., list[Fold]]] = {
    "loo-dataset": leave_one_dataset_out,
    "loo-size": leave_one_size_out,
    "kfold": kfold,
}


def make_folds(runs: pd.DataFrame, scheme: str, *, k: int = 5,
               random_seed: int | None = 0) -> list[Fold]:
    """Return the folds of a named scheme (see :data:`SCHEMES`).

    Parameters
    ----------
    runs : pandas.DataFrame
        A validated runs table.
    scheme : {"loo-dataset", "loo-size", "kfold"}
        The scheme.
    k : int, default 5
        Number of folds of ``kfold``.
    random_seed : int, optional
        Seed of ``kfold``'s shuffle.

    Returns
    -------
    list of Fold

    Raises
    ------
    UnknownNameError
        For an unknown scheme.

    Examples
    --------
    >>> from metaq.tables import read_runs
    >>> from metaq._paths import STUDY_RUNS
    >>> [f.name for f in make_folds(read_runs(STUDY_RUNS), "loo-size")]
    ['size=8', 'size=11']
    """
    if scheme not in SCHEMES:
        raise UnknownNameError(f"unknown cross-validation scheme {scheme!r}; choose one of "
                               f"{sorted(SCHEMES)}")
    if scheme == "kfold":
        return kfold(runs, k=k, random_seed=random_seed)
    return SCHEMES[scheme](runs)


def _leave_one_group_out(runs: pd.DataFrame, column: str, label: str) -> list[Fold]:
    values = runs[column].to_numpy()
    groups = pd.unique(values)
    if len(groups) < 2:
        raise InvalidParameterError(
            f"leave-one-{label}-out needs runs of at least two {label}s; the table has only "
            f"{column}={groups.tolist()}. Fix: use another scheme (e.g. kfold).")
    return [Fold(f"{label}={_format(g)}", np.flatnonzero(values != g),
                 np.flatnonzero(values == g)) for g in sorted(groups)]


def _format(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
