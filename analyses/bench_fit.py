"""Benchmark: predictor fit time (nutpie vs PyMC's default NUTS) and forecast time.

Run from the repository root: ``python analyses/bench_fit.py [--quick]``. Fits
:class:`metaq.HierarchicalDeltaModel` with each sampler backend on

* the reference study's tables (72 runs, 14 features, 2 base models, 9 tasks), and
* simulated run tables of 1,000 and 5,000 runs (12 features, 5 scale groups, 4 tasks),

timing each fit from a fresh model object (so nutpie's compilation is included), then times
a forecast for 100 candidate datasets (x 2 models x 9 tasks) from a model loaded from disk.
Prints the table (with nutpie's compilation time, ``compile_s``, apart) and the ratio of each
sampler's time to nutpie's in the same run, and writes ``analyses/out/bench_fit/results.csv``.
``--quick`` uses 500 tune + 500 draws and skips PyMC's sampler on 5,000 runs; ``--data study``
(or ``1000``, ``5000``, comma separated) times only those tables.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from metaq import HierarchicalDeltaModel
from metaq.datasets import study_path
from metaq.modeling.simulate import simulate_runs

OUT = Path(__file__).resolve().parent / "out" / "bench_fit"
SIZES = (1.0, 3.0, 8.0, 30.0, 70.0)
N_TASKS = 4
SLOPES = np.linspace(-0.3, 0.3, 12)
SIZE_SLOPES = np.r_[0.3, np.zeros(11)]


def simulated(n_runs: int):
    n_datasets = n_runs // (len(SIZES) * N_TASKS)
    sim = simulate_runs(n_datasets=n_datasets, params_b=SIZES, n_tasks=N_TASKS, slope=SLOPES,
                        size_slope=SIZE_SLOPES, random_seed=n_runs)
    return sim.runs, sim.features


def time_fit(runs, features, backend: str, sampler: dict, seed: int):
    model = HierarchicalDeltaModel(sampler={**sampler, "backend": backend})
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(runs, features, random_seed=seed)
    return time.perf_counter() - start, model


def time_forecast(model: HierarchicalDeltaModel, rng: np.random.Generator) -> float:
    with tempfile.TemporaryDirectory() as folder:
        loaded = HierarchicalDeltaModel.load(model.save(Path(folder) / "m.nc", max_draws=1000))
    scaler = loaded.feature_scaler_
    raw = scaler.inverse_transform(rng.standard_normal((100, len(scaler.features))))
    candidates = pd.DataFrame(raw, columns=scaler.features)
    candidates.insert(0, "dataset_id", [f"cand{i:03d}" for i in range(100)])
    models = loaded.encoding_.models["name"].tolist()
    loaded.predict(candidates.head(2), models, random_seed=0)  # warm-up (imports)
    start = time.perf_counter()
    forecast = loaded.predict(candidates, models, random_seed=0)
    forecast.summary()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default="study,1000,5000",
                        help="tables to time: study, 1000, 5000 (comma separated)")
    args = parser.parse_args()
    chosen = set(args.data.split(","))
    sampler = {"draws": 500, "tune": 500} if args.quick else {}
    rng = np.random.default_rng(0)
    tables = {"study": ("study (72 runs)", lambda: (study_path("runs"), study_path("features"))),
              "1000": ("simulated 1,000 runs", lambda: simulated(1000)),
              "5000": ("simulated 5,000 runs", lambda: simulated(5000))}
    unknown = chosen - set(tables)
    if unknown:
        parser.error(f"--data: unknown table(s) {sorted(unknown)}; choose from {list(tables)}")
    data = {name: make() for key, (name, make) in tables.items() if key in chosen}
    forecast_s = float("nan")
    rows = []
    for name, (runs, features) in data.items():
        for backend in ("nutpie", "pymc"):
            if args.quick and backend == "pymc" and "5,000" in name:
                continue
            seconds, model = time_fit(runs, features, backend, sampler, seed=1)
            d = model.diagnostics_
            rows.append({"data": name, "sampler": backend, "fit_s": seconds,
                         "compile_s": model.idata_.posterior.attrs["compile_seconds"],
                         "max_rhat": d["max_rhat"], "divergences": d["divergences"],
                         "min_ess_bulk": d["min_ess_bulk"]})
            print(rows[-1], flush=True)
            if backend == "nutpie" and name.startswith("study"):
                forecast_s = time_forecast(model, rng)
    table = pd.DataFrame(rows)
    nutpie = table[table["sampler"] == "nutpie"].set_index("data")["fit_s"]
    table["ratio_to_nutpie"] = table["fit_s"] / table["data"].map(nutpie)
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "results.csv", index=False)
    print(f"\ncores: {os.cpu_count()}  load average at end: {os.getloadavg()}")
    print(table.round(3).to_string(index=False))
    print(f"\nforecast, 100 candidates x 2 models x 9 tasks from a loaded model (1,000 draws): "
          f"{forecast_s:.3f} s")


if __name__ == "__main__":
    main()
