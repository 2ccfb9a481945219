"""The Forecast: posterior draws of score changes for (dataset, target model, benchmark) rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError

ROW_COLUMNS = ("dataset_id", "target_model", "params_b", "family", "benchmark", "domain",
               "seen_model", "missing_features", "change_identified", "untrained_features")


#: Default probability mass of the central credible intervals (as ``metaq forecast --prob``).
DEFAULT_PROB = 0.9


def check_prob(prob: float | None = None) -> float:
    """Return `prob` as a float (:data:`DEFAULT_PROB` when None), raising unless in (0, 1).

    Raises
    ------
    InvalidParameterError
        When `prob` is not strictly between 0 and 1; the message echoes it.
    """
    if prob is None:
        return DEFAULT_PROB
    value = float(prob)
    if not 0.0 < value < 1.0:
        raise InvalidParameterError(f"prob={prob!r} must lie strictly between 0 and 1 "
                                    f"(e.g. 0.9 for a 90 % interval)")
    return value


def forecast_rows(dataset_ids: Sequence[str], models: pd.DataFrame, tasks: pd.DataFrame,
                  missing: Sequence[str], seen_model: np.ndarray, *,
                  change_identified: np.ndarray | None = None,
                  untrained: Sequence[str] | None = None) -> pd.DataFrame:
    """Row index of a datasets x models x tasks forecast (datasets outermost, tasks innermost).

    Parameters
    ----------
    dataset_ids : sequence of str
        The candidate datasets.
    models : pandas.DataFrame
        ``name``, ``params_b``, ``family`` of the target models.
    tasks : pandas.DataFrame
        ``benchmark``, ``domain`` of the tasks.
    missing : sequence of str
        Per dataset, its missing features (comma separated).
    seen_model : numpy.ndarray
        Per model, whether it was in the training runs.
    change_identified : numpy.ndarray, optional
        ``(model, task)``: whether data inform the untuned level the change is measured
        from (default: everywhere).
    untrained : sequence of str, optional
        Per dataset, the features it differs on that were constant in training (comma
        separated; default none).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ROW_COLUMNS`.
    """
    n_d, n_m, n_t = len(dataset_ids), len(models), len(tasks)
    d = np.repeat(np.arange(n_d), n_m * n_t)
    m = np.tile(np.repeat(np.arange(n_m), n_t), n_d)
    t = np.tile(np.arange(n_t), n_d * n_m)
    identified = (np.ones((n_m, n_t), dtype=bool) if change_identified is None
                  else np.asarray(change_identified, dtype=bool))
    return pd.DataFrame({
        "dataset_id": np.asarray(dataset_ids, dtype=object)[d],
        "target_model": models["name"].to_numpy(dtype=object)[m],
        "params_b": models["params_b"].to_numpy(dtype=float)[m],
        "family": models["family"].to_numpy(dtype=object)[m],
        "benchmark": tasks["benchmark"].to_numpy(dtype=object)[t],
        "domain": tasks["domain"].to_numpy(dtype=object)[t],
        "seen_model": np.asarray(seen_model, dtype=bool)[m],
        "missing_features": np.asarray(missing, dtype=object)[d],
        "change_identified": identified[m, t],
        "untrained_features": np.asarray([""] * n_d if untrained is None else untrained,
                                         dtype=object)[d],
    })


class Forecast:
    """Draws of the change a fine-tuning dataset makes to a model's benchmark score.

    Each row is one (dataset, target model, benchmark[, domain]); each sample one joint draw
    from the predictive distribution, paired across rows (the same posterior draw and the same
    new-group offsets), so differences between datasets are computed per draw.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(sample, row)`` change on the `target` scale.
    scores : numpy.ndarray
        ``(sample, row)`` fine-tuned score (accuracy); NaN where the model cannot tell.
    rows : pandas.DataFrame
        The row index (:data:`ROW_COLUMNS`, the last two optional): ``dataset_id,
        target_model, params_b, family, benchmark, domain, seen_model, missing_features``
        (missing features of the dataset, comma separated, integrated over their training
        distribution), ``change_identified`` (False where no untuned score informs the level
        the change is measured from: the split between that level and the change is then the
        prior's, and for a model fitted without any untuned score the change is the
        difference from the average training dataset's fine-tuned score; the fine-tuned
        score itself stays a forecast) and ``untrained_features`` (features the dataset
        differs on that were constant in training, so the model cannot say what they do).
        A model with studies as a level adds ``study``: the training study the forecast is
        within, empty for a new study.
    target : {"logit", "abs", "rel"}
        Scale of `draws`.
    model_name : str
        What produced the forecast (for tables and reports).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = pd.DataFrame({"dataset_id": ["a", "b"], "target_model": "m", "params_b": 8.0,
    ...                      "family": "llama", "benchmark": "x", "domain": "",
    ...                      "seen_model": True, "missing_features": ""})
    >>> draws = np.array([[0.1, 0.2], [0.3, -0.1]])
    >>> f = Forecast(draws, draws + 0.5, rows, target="abs", model_name="demo")
    >>> f.summary()["prob_best"].tolist()
    [0.5, 0.5]
    """

    def __init__(self, draws: np.ndarray, scores: np.ndarray, rows: pd.DataFrame, *,
                 target: str, model_name: str) -> None:
        self.values = np.asarray(draws, dtype=float)
        self.scores = np.asarray(scores, dtype=float)
        self.rows = rows.reset_index(drop=True)
        self.target = target
        self.model_name = model_name

    def to_xarray(self):
        """Return the change draws as an ``xarray.DataArray`` (sample x row), rows as coords."""
        import xarray as xr

        coords = {column: ("row", self.rows[column].to_numpy()) for column in self.rows.columns}
        return xr.DataArray(self.values, dims=("sample", "row"), coords=coords,
                            name=f"delta_{self.target}")

    @property
    def missing_features(self) -> dict[str, list[str]]:
        """Dataset id -> features that were missing and integrated over."""
        per_dataset = self.rows.drop_duplicates("dataset_id")
        return {d: [f for f in m.split(",") if f] for d, m in
                zip(per_dataset["dataset_id"], per_dataset["missing_features"], strict=True)}

    def summary(self, prob: float = 0.9) -> pd.DataFrame:
        """One row per forecast row: mean, sd, interval, P(gain), P(best), fine-tuned score.

        Parameters
        ----------
        prob : float, default 0.9
            Mass of the equal-tailed interval ``[lower, upper]``.

        Returns
        -------
        pandas.DataFrame
            The row index columns, then ``target, estimate`` (the posterior mean), ``sd,
            lower, upper, prob_gain, prob_best, score_estimate, score_lower, score_upper,
            prob, model``. ``prob_best`` is the probability
            that the row's dataset gives the largest change among the datasets of this
            forecast for the same target model and benchmark (sums to 1 over them).

        Raises
        ------
        InvalidParameterError
            Unless ``0 < prob < 1``.
        """
        prob = check_prob(prob)
        tails = [(1 - prob) / 2, (1 + prob) / 2]
        # quantiles along a contiguous axis: several times faster than down the columns
        lo, hi = np.quantile(np.ascontiguousarray(self.values.T), tails, axis=1)
        has_score = np.isfinite(self.scores).all(axis=0)
        score_q = np.full((3, self.values.shape[1]), np.nan)
        if has_score.any():
            kept = self.scores[:, has_score]
            score_q[:, has_score] = [kept.mean(axis=0), *np.quantile(
                np.ascontiguousarray(kept.T), tails, axis=1)]
        out = self.rows.copy()
        out["target"] = self.target
        out["estimate"] = self.values.mean(axis=0)
        out["sd"] = self.values.std(axis=0, ddof=1) if len(self.values) > 1 else 0.0
        out["lower"], out["upper"] = lo, hi
        out["prob_gain"] = (self.values > 0).mean(axis=0)
        out["prob_best"] = self._prob_best()
        out["score_estimate"], out["score_lower"], out["score_upper"] = score_q
        out["prob"] = prob
        out["model"] = self.model_name
        return out

    def _prob_best(self) -> np.ndarray:
        best = np.zeros(self.values.shape[1])
        groups = self.rows.groupby(["target_model", "benchmark", "domain"], sort=False).indices
        for members in groups.values():
            winner = np.argmax(self.values[:, members], axis=1)
            best[members] = np.bincount(winner, minlength=len(members)) / len(self.values)
        return best

    def draws_frame(self) -> pd.DataFrame:
        """Return the draws in long form: row columns plus ``sample``, ``delta``, ``score``."""
        n_samples, n_rows = self.values.shape
        frame = self.rows.loc[np.tile(np.arange(n_rows), n_samples)].reset_index(drop=True)
        frame.insert(0, "sample", np.repeat(np.arange(n_samples), n_rows))
        frame["delta"] = self.values.ravel()
        frame["score"] = self.scores.ravel()
        return frame

    def to_csv(self, path: str | Path, *, prob: float = 0.9) -> Path:
        """Write :meth:`summary` to a CSV file and return its path."""
        path = Path(path)
        self.summary(prob).to_csv(path, index=False)
        return path

    def to_parquet(self, path: str | Path, *, prob: float = 0.9, draws: bool = False) -> Path:
        """Write :meth:`summary` (or, with ``draws=True``, :meth:`draws_frame`) to Parquet."""
        path = Path(path)
        (self.draws_frame() if draws else self.summary(prob)).to_parquet(path, index=False)
        return path

    def __repr__(self) -> str:
        return (f"Forecast(model={self.model_name!r}, target={self.target!r}, "
                f"rows={self.values.shape[1]}, samples={self.values.shape[0]})")
