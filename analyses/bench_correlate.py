"""Speed of the vectorised permutation tests against a per-test scipy loop (same run).

Baseline: for every (model, benchmark, domain, metric) test, ``scipy.stats.permutation_test``
with Spearman's rho over all n! orderings of the outcome (what one would write without
vectorising). Candidate: ``metaq.stats.correlation_permutation_test``, which scores every
ordering of every metric of one (model, benchmark, domain) in one matrix product. Both give the
same p-values (checked). Writes a CSV under analyses/out/bench_correlate/ and prints ratios.

Run from the repository root: ``python analyses/bench_correlate.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from metaq.datasets import study_path
from metaq.stats import correlate, correlation_permutation_test
from metaq.tables import read_features, read_runs

OUT = Path(__file__).resolve().parent / "out" / "bench_correlate"


def scipy_loop(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def abs_rho(permuted_y: np.ndarray, column: np.ndarray) -> float:
        return abs(stats.spearmanr(column, permuted_y).statistic)

    return np.array([
        stats.permutation_test((y,), lambda v, c=x[:, j]: abs_rho(v, c),
                               permutation_type="pairings", n_resamples=np.inf,
                               alternative="greater").pvalue
        for j in range(x.shape[1])
    ])


def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = []
    for n, k, groups in [(4, 14, 18), (6, 14, 1)]:
        cases = [(rng.normal(size=(n, k)), rng.normal(size=n)) for _ in range(groups)]
        metaq_p = [correlation_permutation_test(x, y).p_value for x, y in cases]
        scipy_p = [scipy_loop(x, y) for x, y in cases]
        np.testing.assert_allclose(np.concatenate(metaq_p), np.concatenate(scipy_p), atol=1e-9)
        vectorised = best_of(lambda cases=cases: [correlation_permutation_test(x, y)
                                                  for x, y in cases])
        loop = best_of(lambda cases=cases: [scipy_loop(x, y) for x, y in cases], repeats=1)
        rows.append({"case": f"{groups} group(s) x {k} metrics, n={n} (exact)",
                     "scipy_loop_s": loop, "metaq_s": vectorised, "speedup": loop / vectorised})
    runs, features = read_runs(study_path("runs")), read_features(study_path("features"))
    whole = best_of(lambda: correlate(runs, features))
    rows.append({"case": "correlate() on the full study table (252 tests + avg)",
                 "scipy_loop_s": np.nan, "metaq_s": whole, "speedup": np.nan})
    table = pd.DataFrame(rows)
    table.to_csv(OUT / "timings.csv", index=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
