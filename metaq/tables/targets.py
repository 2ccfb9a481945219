"""Targets derived from a runs row: the change a fine-tuning run made to a benchmark score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from metaq.exceptions import UnknownNameError

TargetName = Literal["abs", "rel", "logit"]


@dataclass(frozen=True)
class Target:
    """A named change measure: its label and unit for tables and plots."""

    name: str
    label: str
    unit: str


#: The targets a runs row can be turned into, by name: what each change is and its unit.
TARGETS: dict[str, Target] = {
    "abs": Target("abs", "absolute change", "accuracy points (0-1 scale)"),
    "rel": Target("rel", "relative change", "% of the untuned score"),
    "logit": Target("logit", "logit change", "log-odds"),
}


def clipped_logit(p: np.ndarray | pd.Series, n_items: np.ndarray | pd.Series | None = None
                  ) -> np.ndarray:
    """Logit of accuracies, clipped away from 0 and 1 by half an item.

    With ``n_items`` known, a score is clipped to ``[0.5/n, 1 - 0.5/n]`` (the usual continuity
    correction); otherwise to ``[0.001, 0.999]``.
    """
    p = np.asarray(p, dtype=float)
    if n_items is None:
        eps = np.full_like(p, 1e-3)
    else:
        if isinstance(n_items, pd.Series):  # a nullable Int64 column: pd.NA -> NaN
            n_items = n_items.astype("Float64").fillna(np.nan)
        n = np.asarray(n_items, dtype=float)
        with np.errstate(divide="ignore"):
            eps = np.where(np.isfinite(n) & (n > 0), 0.5 / n, 1e-3)
    p = np.clip(p, eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def derive_target(runs: pd.DataFrame, target: str) -> pd.Series:
    """Compute the change of each run on a named scale.

    Parameters
    ----------
    runs : pandas.DataFrame
        A validated runs table.
    target : {"abs", "rel", "logit"}
        ``abs`` = ``score_ft - score_base``; ``rel`` = ``100 * (score_ft - score_base) /
        score_base`` (the study's Table 5); ``logit`` = ``logit(score_ft) - logit(score_base)``
        with scores clipped by half an item (see :func:`clipped_logit`).

    Returns
    -------
    pandas.Series
        One value per run, NaN where ``score_base`` is missing.

    Raises
    ------
    UnknownNameError
        For an unknown target name.

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"score_base": [0.5], "score_ft": [0.6], "n_items": [900]})
    >>> round(float(derive_target(runs, "rel").iloc[0]), 6)
    20.0
    """
    if target not in TARGETS:
        raise UnknownNameError(f"unknown target {target!r}; choose one of {sorted(TARGETS)}")
    base = runs["score_base"].astype(float)
    ft = runs["score_ft"].astype(float)
    if target == "abs":
        values = ft - base
    elif target == "rel":
        values = 100.0 * (ft - base) / base.where(base > 0)
    else:
        n = runs["n_items"] if "n_items" in runs.columns else None
        values = pd.Series(clipped_logit(ft, n) - clipped_logit(base, n), index=runs.index)
    return values.rename(f"delta_{target}")
