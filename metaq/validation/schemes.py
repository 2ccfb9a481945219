"""Cross-validation schemes over a runs table, matching the questions a forecast answers.

* ``loo-dataset``: hold out every run of one dataset (forecast a dataset never seen; for the
  reference study this is leave-one-variant-out).
* ``loo-size``: hold out every run of the base models of one size (forecast a size never
  seen).
* ``leave-pair-out``: hold out every run of two datasets (rank two datasets never seen with
  one fit: the decision "which of these two should I fine-tune on?").
* ``loo-study``: hold out every run of one study (forecast under an evaluation protocol and
  a training recipe never seen: a new study); needs a ``study`` column.
* ``kfold``: random run-level folds (interpolation between seen datasets and models).

Each scheme also names the held-out *unit* whose surprise a fold's runs share (a dataset, a
size, a pair of datasets, a study): bootstrap intervals of scores resample those units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, UnknownNameError
from metaq.tables.runs import STUDY


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


def leave_one_study_out(runs: pd.DataFrame) -> list[Fold]:
    """One fold per study (the runs table's ``study`` column), holding out all of its runs.

    Raises
    ------
    InvalidParameterError
        When `runs` has no ``study`` column, or runs of fewer than two studies.
    """
    if STUDY not in runs.columns:
        raise InvalidParameterError(
            "scheme 'loo-study' (metaq validate --scheme loo-study) holds out one study at a "
            f"time and needs a {STUDY!r} column in the runs table (`runs`, --runs); this one "
            f"has {list(runs.columns)}. Fix: add the column (metaq.load_corpus() has one) or "
            f"use another scheme.")
    return _leave_one_group_out(runs, STUDY, "study")


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


#: Pairs held out by ``leave-pair-out`` at most (a random subset beyond it: each pair is a fit).
MAX_PAIRS = 15


def leave_pair_out(runs: pd.DataFrame, *, max_pairs: int | None = MAX_PAIRS,
                   random_seed: int | None = 0) -> list[Fold]:
    """One fold per pair of datasets, holding out all runs of both.

    Ranking the two held-out datasets compares forecasts of one fit, which is the decision
    a user makes between two candidates; pairing forecasts from different folds instead
    compares fits trained on different data (a model that predicts the other datasets'
    mean then ranks a held-out dataset against the others *reversed*).

    Parameters
    ----------
    runs : pandas.DataFrame
        A validated runs table.
    max_pairs : int, optional
        At most this many pairs, drawn at random without replacement (all when None or
        when there are fewer).
    random_seed : int, optional
        Seed of that draw.

    Raises
    ------
    InvalidParameterError
        With fewer than three datasets (a pair held out must leave one to train on), or
        ``max_pairs < 1``.
    """
    datasets = sorted(pd.unique(runs["dataset_id"]))
    if len(datasets) < 3:
        raise InvalidParameterError(
            f"leave-pair-out needs runs of at least three datasets (two held out, one to learn "
            f"from); the table has {datasets}. Fix: use another scheme (e.g. kfold).")
    if max_pairs is not None and max_pairs < 1:
        raise InvalidParameterError(f"max_pairs={max_pairs!r} must be at least 1")
    pairs = list(combinations(datasets, 2))
    if max_pairs is not None and len(pairs) > max_pairs:
        chosen = np.random.default_rng(random_seed).choice(len(pairs), max_pairs, replace=False)
        pairs = [pairs[i] for i in sorted(chosen)]
    values = runs["dataset_id"].to_numpy()
    return [Fold(f"pair={a}|{b}", np.flatnonzero((values != a) & (values != b)),
                 np.flatnonzero((values == a) | (values == b))) for a, b in pairs]


SCHEMES: dict[str, Callable[..., list[Fold]]] = {
    "loo-dataset": leave_one_dataset_out,
    "loo-size": leave_one_size_out,
    "loo-study": leave_one_study_out,
    "leave-pair-out": leave_pair_out,
    "kfold": kfold,
}


def make_folds(runs: pd.DataFrame, scheme: str, *, k: int = 5,
               max_pairs: int | None = MAX_PAIRS, random_seed: int | None = 0) -> list[Fold]:
    """Return the folds of a named scheme (see :data:`SCHEMES`).

    Parameters
    ----------
    runs : pandas.DataFrame
        A validated runs table.
    scheme : {"loo-dataset", "loo-size", "loo-study", "leave-pair-out", "kfold"}
        The scheme.
    k : int, default 5
        Number of folds of ``kfold``.
    max_pairs : int, optional
        Pairs of ``leave-pair-out`` at most (:data:`MAX_PAIRS`).
    random_seed : int, optional
        Seed of ``kfold``'s shuffle and of the pairs drawn.

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
    >>> from metaq.datasets import study_path
    >>> [f.name for f in make_folds(read_runs(study_path("runs")), "loo-size")]
    ['size=8', 'size=11']
    """
    if scheme not in SCHEMES:
        raise UnknownNameError(f"unknown cross-validation scheme {scheme!r}; choose one of "
                               f"{sorted(SCHEMES)}")
    if scheme == "kfold":
        return kfold(runs, k=k, random_seed=random_seed)
    if scheme == "leave-pair-out":
        return leave_pair_out(runs, max_pairs=max_pairs, random_seed=random_seed)
    return SCHEMES[scheme](runs)


def held_out_unit(scheme: str, folds: pd.Series, datasets: pd.Series) -> pd.Series:
    """Label each held-out run by the unit whose surprise it shares with other runs.

    A whole fold under ``loo-size`` (a size), ``loo-study`` (a study) and
    ``leave-pair-out`` (a pair of datasets); the run's dataset under ``loo-dataset`` and
    ``kfold``. Bootstrap intervals of pooled scores resample these units, not runs.

    Examples
    --------
    >>> held_out_unit("kfold", pd.Series(["fold=1/5"]), pd.Series(["ds1"])).tolist()
    ['ds1']
    """
    return (folds if scheme in ("loo-size", "loo-study", "leave-pair-out")
            else datasets).astype(str)


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
