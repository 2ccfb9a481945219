"""Speed of correlate()'s library calls against hand-written numpy versions (same run).

metaq's permutation tests call ``scipy.stats.permutation_test`` (one call per model x
benchmark x domain, with a statistic vectorised over orderings and metrics) and its FDR is
``scipy.stats.false_discovery_control``. The hand-written alternatives below do the same in
numpy: every ordering of a group scored in one matrix product, and Benjamini-Hochberg by a
sort and a running minimum. Each case checks that both give the same p- and q-values, then
times both; ``ratio`` is library time over hand-written time. ``correlate()`` rows time the
whole call with the hand-written functions patched in. Cases: the study (n = 4 datasets,
exact, 14 metrics x 18 groups) and simulated tables of the same shape with 8 datasets (exact)
and 30 datasets (Monte Carlo, 9,999 orderings). Writes a CSV under analyses/out/bench_correlate/.

Run from the repository root: ``python analyses/bench_correlate.py``.
"""

from __future__ import annotations

import itertools
import timeit
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

import metaq.stats.correlation as correlation
from metaq.datasets import load_study
from metaq.modeling.simulate import simulate_runs
from metaq.stats import PermutationTest, benjamini_hochberg, correlate
from metaq.stats._coefficients import pearson, to_scores

OUT = Path(__file__).resolve().parent / "out" / "bench_correlate"
N_METRICS, N_TASKS, MODELS = 14, 9, (8.0, 11.0)  # the study's shape: 2 models x 9 columns


def handwritten_test(x: np.ndarray, y: np.ndarray, *, method: str = "spearman",
                     n_permutations: int = 9999,
                     rng: np.random.Generator | None = None) -> PermutationTest:
    """All n! orderings (n <= 8) or random ones, every metric in one matrix product."""
    x_scores, y_scores = to_scores(x, method, axis=0), to_scores(y, method, axis=0)
    n = len(y_scores)
    if n <= 8:
        orderings = np.array(list(itertools.permutations(range(n))))
    else:
        orderings = rng.permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)
    observed = pearson(y_scores, x_scores)
    reached = (np.abs(pearson(y_scores[orderings], x_scores))
               >= np.abs(observed) - 1e-10).sum(axis=0)
    exact = n <= 8
    p_value = reached / len(orderings) if exact else (reached + 1) / (n_permutations + 1)
    label = "exact" if exact else f"monte_carlo:{n_permutations}"
    return PermutationTest(observed, np.where(np.isnan(observed), np.nan, p_value), label)


def handwritten_bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values; NaN stays NaN and out of the family."""
    p = np.asarray(p_values, dtype=float)
    finite = np.isfinite(p)
    tested = p[finite]
    order = np.argsort(tested)
    scaled = tested[order] * tested.size / np.arange(1, tested.size + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    q = np.full(p.shape, np.nan)
    q[np.flatnonzero(finite)[order]] = q_sorted
    return q


def best_of(function: Callable[[], object], repeats: int = 3) -> float:
    return min(timeit.repeat(function, number=1, repeat=repeats))


def tables(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    if name == "study":
        return load_study()
    sim = simulate_runs(n_datasets=int(name), params_b=MODELS, n_tasks=N_TASKS,
                        slope=np.linspace(-0.3, 0.3, N_METRICS), size_slope=[0.0] * N_METRICS,
                        random_seed=0)
    return sim.runs, sim.features


def groups_of(runs: pd.DataFrame, features: pd.DataFrame) -> list[tuple[np.ndarray, ...]]:
    """The (metrics, outcome) pairs correlate() tests, one per model x benchmark x domain."""
    seen = []

    def record(x, y, **options):
        seen.append((x, y))
        return handwritten_test(x, y, **options)

    with mock.patch.object(correlation, "correlation_permutation_test", record):
        correlate(runs, features)
    return seen


def permutation_rows(name: str) -> list[dict[str, object]]:
    runs, features = tables(name)
    groups = groups_of(runs, features)
    n, k = groups[0][0].shape

    def library() -> list[PermutationTest]:
        rng = np.random.default_rng(0)
        return [correlation.correlation_permutation_test(x, y, rng=rng) for x, y in groups]

    def handwritten() -> list[PermutationTest]:
        rng = np.random.default_rng(0)
        return [handwritten_test(x, y, rng=rng) for x, y in groups]

    np.testing.assert_array_equal(np.concatenate([t.p_value for t in library()]),
                                  np.concatenate([t.p_value for t in handwritten()]))
    with mock.patch.object(correlation, "correlation_permutation_test", handwritten_test), \
            mock.patch.object(correlation, "benjamini_hochberg", handwritten_bh):
        hand_table = correlate(runs, features)
        hand_whole = best_of(lambda: correlate(runs, features))
    lib_table = correlate(runs, features)
    pd.testing.assert_frame_equal(lib_table, hand_table, check_exact=False, rtol=1e-15)
    lib_whole = best_of(lambda: correlate(runs, features))
    source = "study" if name == "study" else "simulated"
    label = f"{source}, {len(groups)} groups x {k} metrics, n = {n} ({library()[0].p_method})"
    hand_step, lib_step = best_of(handwritten), best_of(library)
    return [{"case": f"{label}, permutation tests", "handwritten_s": hand_step,
             "library_s": lib_step, "ratio": lib_step / hand_step},
            {"case": f"{label}, whole correlate()", "handwritten_s": hand_whole,
             "library_s": lib_whole, "ratio": lib_whole / hand_whole}]


def fdr_rows() -> list[dict[str, object]]:
    runs, features = tables("study")
    study_p = correlate(runs, features)["p_value"].to_numpy()
    uniform_p = np.random.default_rng(0).uniform(size=100_000)
    np.testing.assert_array_equal(benjamini_hochberg(study_p), handwritten_bh(study_p))
    np.testing.assert_allclose(benjamini_hochberg(uniform_p), handwritten_bh(uniform_p),
                               rtol=1e-15)
    rows = []
    for label, p in [("study's 252 p-values (+ 28 NaN)", study_p),
                     ("100,000 uniform p-values", uniform_p)]:
        hand = best_of(lambda p=p: handwritten_bh(p), 20)
        lib = best_of(lambda p=p: benjamini_hochberg(p), 20)
        rows.append({"case": f"Benjamini-Hochberg, {label}", "handwritten_s": hand,
                     "library_s": lib, "ratio": lib / hand})
    return rows


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [row for name in ("study", "8", "30") for row in permutation_rows(name)]
    table = pd.DataFrame(rows + fdr_rows())
    table.to_csv(OUT / "timings.csv", index=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
