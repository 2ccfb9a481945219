"""metaq's CRPS against scoringrules' ``crps_ensemble`` (same run): equal values, speed.

metaq computes the CRPS of predictive draws with the exact sorted-sample formula
(``metaq.validation.scores.crps``). scoringrules' quantile-decomposition estimator (``"qd"``,
its default) is the same quantity; the bench checks the two agree to 1e-12 relative on the
default predictor's draws for the study's 72 runs, on the held-out draws of the study's
leave-one-dataset-out cross-validation (the two point baselines: 144 runs) and on (draws x
rows) arrays of 1,000 x 1,000 and 4,000 x 10,000, then times both, with scoringrules' numpy
and numba backends (numba after a warm-up call). ``ratio`` is scoringrules time over metaq
time. It also times ``import scoringrules`` in a fresh interpreter, which compiles its numba
functions. Writes a CSV under analyses/out/bench_scores/.

Run from the repository root: ``python analyses/bench_scores.py``.
"""

from __future__ import annotations

import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import scoringrules

import metaq.validation.scores as scores
from metaq.datasets import load_default_predictor, load_study
from metaq.tables import derive_target
from metaq.validation import cross_validate
from metaq.validation.scores import crps

OUT = Path(__file__).resolve().parent / "out" / "bench_scores"
KEY = ["dataset_id", "base_model", "benchmark", "domain"]


def library(draws: np.ndarray, observed: np.ndarray, backend: str) -> np.ndarray:
    return scoringrules.crps_ensemble(observed, draws, m_axis=0, estimator="qd",
                                      backend=backend)


def best_of(function: Callable[[], object], repeats: int = 3) -> float:
    return min(timeit.repeat(function, number=1, repeat=repeats))


def study_draws() -> tuple[np.ndarray, np.ndarray]:
    """The default predictor's draws of the study's runs and the observed changes."""
    runs, features = load_study()
    columns = runs[["benchmark", "domain"]].drop_duplicates().itertuples(index=False)
    benchmarks = [(name, domain) if domain else name for name, domain in columns]
    forecast = load_default_predictor().predict(features, sorted(runs["base_model"].unique()),
                                                benchmarks, random_seed=0)
    rows = forecast.rows.rename(columns={"target_model": "base_model"})[KEY]
    observed = rows.merge(runs.assign(observed=derive_target(runs, "abs")), on=KEY,
                          how="left", validate="one_to_one")["observed"].to_numpy()
    return forecast.values, observed


def held_out_draws() -> tuple[np.ndarray, np.ndarray]:
    """The draws the validation harness scores: every fold's held-out runs, side by side."""
    seen = []

    def record(draws, observed):
        seen.append((draws, observed))
        return crps(draws, observed)

    with mock.patch.object(scores, "crps", record):
        cross_validate(*load_study(), models=["no_feature", "ridge"], scheme="loo-dataset")
    return np.hstack([d for d, _ in seen]), np.concatenate([o for _, o in seen])


def synthetic(n_draws: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centre = rng.normal(0.0, 0.05, size=n_rows)
    return (centre + rng.normal(0.0, 0.03, size=(n_draws, n_rows)),
            centre + rng.normal(0.0, 0.04, size=n_rows))


def import_seconds() -> float:
    code = ("import time; start = time.perf_counter(); import scoringrules; "
            "print(time.perf_counter() - start)")
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cases = {"default predictor, study runs": study_draws(),
             "cross-validation of the study, held out": held_out_draws(),
             "synthetic": synthetic(1000, 1000), "synthetic, large": synthetic(4000, 10_000)}
    rows = []
    for name, (draws, observed) in cases.items():
        ours = crps(draws, observed)
        agreement = {backend: float(np.max(np.abs(library(draws, observed, backend) / ours - 1)))
                     for backend in ("numpy", "numba")}
        assert max(agreement.values()) < 1e-12, agreement
        metaq_s = best_of(lambda d=draws, o=observed: crps(d, o))
        for backend in ("numpy", "numba"):
            library_s = best_of(lambda d=draws, o=observed, b=backend: library(d, o, b))
            rows.append({"case": f"{name}, {draws.shape[0]} draws x {draws.shape[1]} rows",
                         "backend": backend, "max_rel_diff": agreement[backend],
                         "metaq_s": metaq_s, "scoringrules_s": library_s,
                         "ratio": library_s / metaq_s})
    table = pd.DataFrame(rows)
    table.to_csv(OUT / "timings.csv", index=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"import scoringrules (fresh interpreter): {import_seconds():.2f} s")


if __name__ == "__main__":
    main()
