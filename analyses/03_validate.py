"""Out-of-sample validation of the predictor against its baselines on every shipped data set.

Run from the repository root: ``python analyses/03_validate.py [--only ...]``; with more than
one table selected, each table runs in its own process. For each data set
and cross-validation scheme it fits every model on the training folds, scores the held-out
forecasts and writes the report folder (predictions, scores, folds, calibration plot) under
``analyses/out/03_validate/<data set>__<scheme>/``, plus ``summary.md`` with one table per
data set. The numbers are copied into docs/validation.md.

Data sets: the reference study (leave one variant out = loo-dataset; loo-size), two simulated
tables with known structure (datasets fully described by their features, and the same design
with an unexplained dataset effect), and the published tables of data/published/ (see
data/README.md).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from metaq._paths import DATA_DIR, STUDY_FEATURES, STUDY_RUNS
from metaq.modeling.simulate import simulate_runs
from metaq.tables import read_features, read_runs
from metaq.validation import cross_validate

OUT = Path(__file__).resolve().parent / "out" / "03_validate"
PUBLISHED = DATA_DIR / "published"
SHOWN = ["model", "n_runs", "crps", "log_density", "mae", "coverage_50", "coverage_90",
         "spearman", "pairwise_acc", "pairwise_acc_weighted", "pairwise_acc_beyond_noise",
         "n_pairs", "n_pairs_beyond_noise"]


def data_sets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]]:
    """Name -> (runs, features, schemes), cheapest first."""
    sim = simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=3, random_seed=11)
    # the same design with an effect of each dataset its features do not explain
    sim_effects = simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=3,
                                dataset_sd=0.3, random_seed=11)
    sets = {
        "study": (read_runs(STUDY_RUNS), read_features(STUDY_FEATURES),
                  ("loo-dataset", "loo-size")),
        "simulated": (sim.runs, sim.features, ("loo-dataset", "loo-size")),
        "simulated_dataset_effects": (sim_effects.runs, sim_effects.features,
                                      ("loo-dataset",)),
    }
    for name, schemes in [("dart_math", ("loo-dataset", "loo-size")),
                          ("cherry_ifd_v2", ("loo-dataset", "loo-size")),
                          ("tulu1_13b", ("loo-dataset",)),
                          ("limo_32b", ("loo-dataset",)),
                          ("openthoughts2_7b", ("loo-dataset",)),
                          ("deita", ("loo-dataset", "loo-size")),
                          ("openthoughts1_verify", ("loo-size",))]:
        sets[name] = (read_runs(PUBLISHED / name / "runs.csv"),
                      read_features(PUBLISHED / name / "features.csv"), schemes)
    return sets


def markdown(scores: pd.DataFrame) -> str:
    table = scores[[c for c in SHOWN if c in scores.columns]]
    header = "| " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * len(table.columns)]
    for row in table.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--only", help="comma-separated data set or data set:scheme names")
    parser.add_argument("--models", help="comma-separated models (default: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", category=UserWarning)  # per-fold sampler warnings: folds.csv
    OUT.mkdir(parents=True, exist_ok=True)
    sets = data_sets()
    wanted = set(args.only.split(",")) if args.only else None
    selected = [(name, scheme) for name, (_, _, schemes) in sets.items() for scheme in schemes
                if wanted is None or {name, f"{name}:{scheme}"} & wanted]
    if len(selected) > 1:
        # one process per table: one process compiling ~200 models in a row ran out of the
        # JIT's memory ("LLVM ERROR: Unable to allocate section memory!")
        passed = ["--draws", str(args.draws), "--tune", str(args.tune)]
        passed += ["--models", args.models] if args.models else []
        for name, scheme in selected:
            subprocess.run([sys.executable, __file__, "--only", f"{name}:{scheme}", *passed],
                           check=True)
        return
    for name, scheme in selected:
        runs, features, _ = sets[name]
        validate_table(name, scheme, runs, features, args)


def validate_table(name: str, scheme: str, runs: pd.DataFrame, features: pd.DataFrame,
                   args: argparse.Namespace) -> None:
    """Cross-validate every model on one table and scheme; write its report folder."""
    start = time.perf_counter()
    models = {"models": args.models.split(",")} if args.models else {}
    result = cross_validate(runs, features, scheme=scheme, random_seed=0, **models,
                            sampler={"draws": args.draws, "tune": args.tune,
                                     "chains": 2})
    result.save(OUT / f"{name}__{scheme}")
    failed = result.folds[result.folds["error"] != ""]
    rhat = result.folds.get("max_rhat", pd.Series(dtype=float)).max()
    text = (f"\n## {name}, {scheme} (outcome {result.outcome}; {len(runs)} runs; "
            f"{time.perf_counter() - start:.0f} s; worst fold R-hat {rhat:.3f}; "
            f"{len(failed)} failed fits)\n\n{markdown(result.scores)}\n")
    for row in failed.itertuples():
        text += f"\n- {row.model} failed on {row.fold}: {row.error[:200]}"
    print(text, flush=True)
    (OUT / f"{name}__{scheme}" / "scores.md").write_text(
        f"{text}\n(draws={args.draws}, tune={args.tune}, chains=2)\n")
    write_summary()


def write_summary() -> None:
    """Collect every report folder's scores.md into summary.md (partial runs included)."""
    parts = [path.read_text() for path in sorted(OUT.glob("*/scores.md"))]
    (OUT / "summary.md").write_text("# 03_validate\n" + "".join(parts))


if __name__ == "__main__":
    main()
