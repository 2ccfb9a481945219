"""Prior predictive check: what the priors alone say about changes and scores of the runs.

Before the data speak, the model's priors imply a distribution for every run's fine-tuned
score and change, for how much datasets differ, and for how much a run varies beyond item
noise. Setting those next to the same quantities in the observed runs shows whether the
priors are generous (the data sit well inside) or constrain the answer (the data sit at
an edge), which matters most where the data are thin: on a table without untuned scores the
split between untuned level and change comes from the prior alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from metaq.modeling.design import TrainingData

PRIOR_COLUMNS = ("quantity", "unit", "prior_lo", "prior_median", "prior_hi", "observed")


def prior_predictive_table(model: Any, tensors: dict[str, Any], data: TrainingData, *,
                           draws: int = 500, prob: float = 0.9,
                           random_seed: int | None = None) -> pd.DataFrame:
    """Prior quantiles of run-level quantities beside their observed values.

    Parameters
    ----------
    model : pymc.Model
        The model of :func:`metaq.modeling.pymc_model.build_pymc_model`.
    tensors : dict
        Its named tensors (``mu``, and ``p_ft`` and ``theta_run`` for the binomial
        likelihood).
    data : TrainingData
        The arrays the model was built from (observed outcomes for the comparison).
    draws : int, default 500
        Prior draws.
    prob : float, default 0.9
        Mass of the prior interval ``prior_lo..prior_hi``.
    random_seed : int, optional
        Seed of the prior draws.

    Returns
    -------
    pandas.DataFrame
        One row per quantity (:data:`PRIOR_COLUMNS`): a run's fine-tuned score and its
        spread between datasets (sd over datasets within each base model x task, averaged),
        its change in accuracy points and the change's spread between datasets (binomial
        likelihood with untuned scores; the change on the model's outcome scale for the
        Student-t one) and the run-to-run sd beyond item noise. ``observed`` is the same
        statistic of the training runs (the median for per-run quantities), NaN where the
        data do not show it.
    """
    import pymc as pm

    tails = ((1 - prob) / 2, 0.5, (1 + prob) / 2)
    cells = data.run_model * (data.run_task.max() + 1) + data.run_task
    rows = []
    if data.y is None:
        p_ft, level, run_sd = pm.draw([tensors["p_ft"], tensors["theta_run"], model["run_sd"]],
                                      draws=draws, random_seed=random_seed)
        observed_ft = data.k_ft / data.n_ft
        rows.append(_row("fine-tuned score of a run", "accuracy", p_ft.ravel(), tails,
                         np.median(observed_ft)))
        rows.append(_row("between-dataset sd of the fine-tuned score", "accuracy points",
                         _between_dataset_sd(p_ft, cells), tails,
                         _between_dataset_sd(observed_ft[None], cells)[0]))
        if len(data.base_cells):
            change = p_ft - expit(level)
            observed = _observed_change(data)
            rows.append(_row("change of a run", "accuracy points", change.ravel(), tails,
                             np.nanmedian(observed)))
            rows.append(_row("between-dataset sd of the change", "accuracy points",
                             _between_dataset_sd(change, cells), tails,
                             _between_dataset_sd(observed[None], cells)[0]))
        rows.append(_row("run-to-run sd beyond item noise", "sd of p / sqrt(p (1 - p))",
                         run_sd, tails, np.nan))
    else:
        y = pm.draw(model["y"], draws=draws, random_seed=random_seed)
        change = y * data.y_scale
        observed = data.y * data.y_scale
        rows.append(_row("change of a run", "outcome scale", change.ravel(), tails,
                         np.median(observed)))
        rows.append(_row("between-dataset sd of the change", "outcome scale",
                         _between_dataset_sd(change, cells), tails,
                         _between_dataset_sd(observed[None], cells)[0]))
    return pd.DataFrame(rows, columns=list(PRIOR_COLUMNS))


def _row(quantity: str, unit: str, values: np.ndarray, tails: tuple[float, ...],
         observed: float) -> dict[str, Any]:
    lo, median, hi = np.quantile(values[np.isfinite(values)], tails)
    return {"quantity": quantity, "unit": unit, "prior_lo": float(lo),
            "prior_median": float(median), "prior_hi": float(hi), "observed": float(observed)}


def _observed_change(data: TrainingData) -> np.ndarray:
    """Observed change of each run in accuracy points (NaN where its cell has no untuned).

    With a study level a run's change is from the untuned score its own study printed.
    """
    cell_study = (data.base_cell_study if data.has_study_level
                  else np.zeros(len(data.base_cells), dtype=int))
    run_study = data.run_study if data.has_study_level else np.zeros(len(data.run_row), int)
    base = np.full((max(len(data.studies), 1), data.size_z.shape[0],
                    int(data.run_task.max()) + 1), np.nan)
    base[cell_study, data.base_cells[:, 0], data.base_cells[:, 1]] = data.k_base / data.n_base
    return data.k_ft / data.n_ft - base[run_study, data.run_model, data.run_task]


def _between_dataset_sd(change: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Per draw, the sd of the change over the runs of each cell, averaged over cells."""
    spreads = [np.nanstd(change[:, cells == c], axis=1, ddof=1) for c in np.unique(cells)
               if (cells == c).sum() > 1]
    if not spreads:
        return np.full(len(change), np.nan)
    return np.nanmean(np.column_stack(spreads), axis=1)
