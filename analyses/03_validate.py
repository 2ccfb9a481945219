"""Out-of-sample validation of the predictor against its baselines on every shipped data set.

Run from the repository root: ``python analyses/03_validate.py [--only ...]``; with more than
one table selected, each table runs in its own process. For each data set
and cross-validation scheme it fits every model on the training folds, scores the held-out
forecasts and writes the report folder (predictions, scores, folds, calibration plot) under
``analyses/out/03_validate/<data set>__<scheme>/``, plus ``summary.md`` with one table per
data set and the verdict against the issue's targets across every table run so far (from the
saved predictions). The numbers are copied into docs/validation.md.

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
from metaq.validation.scores import cluster_bootstrap_interval, wilson_interval

OUT = Path(__file__).resolve().parent / "out" / "03_validate"
PUBLISHED = DATA_DIR / "published"
TIE = 0.003  # CRPS differences below this: Monte Carlo noise of 200-draw chains
# Each published table's features for the per-table fits: the properties it states for every
# one of its datasets (the corpus vocabulary of data/README.md leaves unstated ones missing).
TABLE_FEATURES = {
    "tulu1_13b": ["log_n_examples", "avg_rounds", "log_prompt_length", "log_completion_length",
                  "source_nlp_datasets", "source_human_written"],
    "dart_math": ["log_n_examples", "teacher_gpt35", "prop_to_difficulty"],
    "cherry_ifd_v2": ["log_n_examples", "selected"],
    "limo_32b": ["log_n_examples"],
    "openthoughts2_7b": ["log_n_examples"],
    "deita": ["log_n_examples", "selected"],
    "openthoughts1_verify": ["log_n_examples", "verified"],
}
SHOWN = ["model", "n_runs", "crps", "log_density", "mae", "coverage_50", "coverage_90",
         "coverage_90_lo", "coverage_90_hi", "spearman", "pairwise_acc",
         "pairwise_acc_weighted", "pairwise_acc_beyond_noise", "n_pairs", "n_pairs_beyond_noise"]


def data_sets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]]:
    """Name -> (runs, features, schemes), cheapest first."""
    sim = simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=3, random_seed=11)
    # the same design with an effect of each dataset its features do not explain
    sim_effects = simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=3,
                                dataset_sd=0.3, random_seed=11)
    sets = {
        "study": (read_runs(STUDY_RUNS), read_features(STUDY_FEATURES),
                  ("loo-dataset", "loo-size", "kfold")),
        "simulated": (sim.runs, sim.features, ("loo-dataset", "loo-size", "kfold")),
        "simulated_dataset_effects": (sim_effects.runs, sim_effects.features,
                                      ("loo-dataset", "kfold")),
    }
    for name, schemes in [("dart_math", ("loo-dataset", "loo-size", "kfold")),
                          ("cherry_ifd_v2", ("loo-dataset", "loo-size", "kfold")),
                          ("tulu1_13b", ("loo-dataset", "kfold")),
                          ("limo_32b", ("loo-dataset", "kfold")),
                          ("openthoughts2_7b", ("loo-dataset", "kfold")),
                          ("deita", ("loo-dataset", "loo-size", "kfold")),
                          ("openthoughts1_verify", ("loo-size", "kfold"))]:
        features = read_features(PUBLISHED / name / "features.csv", allow_missing=True)
        sets[name] = (read_runs(PUBLISHED / name / "runs.csv"),
                      features[["dataset_id", "domain", *TABLE_FEATURES[name]]], schemes)
    return sets


def markdown(scores: pd.DataFrame, shown: list[str] = SHOWN) -> str:
    table = scores[[c for c in shown if c in scores.columns]]
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
    parser.add_argument("--mass-matrix", choices=("diag", "low_rank"), default="diag",
                        help="NUTS mass matrix of the Bayesian models")
    parser.add_argument("--item-noise", action=argparse.BooleanOptionalAction, default=True,
                        help="Bayesian forecasts of the recorded score (binomial item noise; "
                             "default), or of the model's accuracy (--no-item-noise)")
    parser.add_argument("--out", type=Path, default=OUT, help="report folder root")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", category=UserWarning)  # per-fold sampler warnings: folds.csv
    args.out.mkdir(parents=True, exist_ok=True)
    sets = data_sets()
    wanted = set(args.only.split(",")) if args.only else None
    selected = [(name, scheme) for name, (_, _, schemes) in sets.items() for scheme in schemes
                if wanted is None or {name, f"{name}:{scheme}"} & wanted]
    if len(selected) > 1:
        # one process per table: one process compiling ~200 models in a row ran out of the
        # JIT's memory ("LLVM ERROR: Unable to allocate section memory!")
        passed = ["--draws", str(args.draws), "--tune", str(args.tune), "--out", str(args.out),
                  "--mass-matrix", args.mass_matrix]
        passed += ["--item-noise" if args.item_noise else "--no-item-noise"]
        passed += ["--models", args.models] if args.models else []
        for name, scheme in selected:
            subprocess.run([sys.executable, __file__, "--only", f"{name}:{scheme}", *passed],
                           check=True)
        return
    for name, scheme in selected:
        runs, features, _ = sets[name]
        validate_table(name, scheme, runs, features, args)
    if not selected:  # `--only none`: rebuild summary.md from the saved folders
        write_summary(args.out)


def validate_table(name: str, scheme: str, runs: pd.DataFrame, features: pd.DataFrame,
                   args: argparse.Namespace) -> None:
    """Cross-validate every model on one table and scheme; write its report folder."""
    start = time.perf_counter()
    models = {"models": args.models.split(",")} if args.models else {}
    result = cross_validate(runs, features, scheme=scheme, random_seed=0, **models,
                            sampler={"draws": args.draws, "tune": args.tune, "chains": 2,
                                     "mass_matrix": args.mass_matrix},
                            item_noise=args.item_noise)
    result.save(args.out / f"{name}__{scheme}")
    failed = result.folds[result.folds["error"] != ""]
    rhat = result.folds.get("max_rhat", pd.Series(dtype=float)).max()
    text = (f"\n## {name}, {scheme} (outcome {result.outcome}; {len(runs)} runs; "
            f"{time.perf_counter() - start:.0f} s; worst fold R-hat {rhat:.3f}; "
            f"{len(failed)} failed fits)\n\n{markdown(result.scores)}\n")
    for row in failed.itertuples():
        text += f"\n- {row.model} failed on {row.fold}: {row.error[:200]}"
    print(text, flush=True)
    (args.out / f"{name}__{scheme}" / "scores.md").write_text(
        f"{text}\n(draws={args.draws}, tune={args.tune}, chains=2, {args.mass_matrix} mass matrix"
        f"{'' if args.item_noise else ', no item noise'})\n")
    write_summary(args.out)


def write_summary(out: Path) -> None:
    """Collect every report folder's scores.md into summary.md, then the verdict."""
    parts = [path.read_text() for path in sorted(out.glob("*/scores.md"))]
    (out / "summary.md").write_text("# 03_validate\n" + "".join(parts) + "\n" + verdict(out))


def verdict(out: Path, model: str = "hierarchical") -> str:
    """`model` against the targets on every saved table: CRPS rank, coverage, ranking.

    CRPS differences below :data:`TIE` are ties (the Monte Carlo noise of short chains).
    Coverage per table is given with its 95 % Wilson interval over runs, which understates
    the uncertainty (misses come per held-out dataset); the pooled coverage, overall and per
    scheme, with a bootstrap interval over held-out units (:func:`held_out_unit`).
    """
    rows, pooled = [], []
    for folder in sorted(out.glob("*__*")):
        if not (folder / "predictions.csv").exists():
            continue
        scores = pd.read_csv(folder / "scores.csv").set_index("model")
        if model not in scores.index:
            continue
        own = pd.read_csv(folder / "predictions.csv").query("model == @model")
        others = scores.drop(index=model)["crps"].dropna()
        if others.empty:  # a run of this model alone: nothing to compare with
            continue
        scheme = folder.name.split("__")[-1]
        pooled.append(pd.DataFrame({"scheme": scheme, "covered": own["covered_90"].to_numpy(),
                                    "unit": held_out_unit(folder.name, own)}))
        best = others.idxmin()
        gap = scores.at[model, "crps"] - others.min()
        hits = int(own["covered_90"].sum())
        lo, hi = wilson_interval(hits, len(own))
        pair = scores.at[model, "pairwise_acc_beyond_noise"]
        rows.append({
            "table": folder.name, "runs": len(own), "crps": scores.at[model, "crps"],
            "best other": f"{best} {others.min():.3f}",
            "crps verdict": ("lowest" if gap < -TIE else "behind" if gap > TIE
                             else "tie (lower)" if gap < 0 else "tie"),
            "cov90": hits / len(own), "cov90 interval": f"[{lo:.2f}, {hi:.2f}]",
            "0.9 inside": lo <= 0.9 <= hi,
            "pair beyond noise": (f"{pair:.2f} (n={scores.at[model, 'n_pairs_beyond_noise']:.0f})"
                                  if pd.notna(pair) else "n/a")})
    if not rows:
        return ""
    table = pd.DataFrame(rows)
    counts = ", ".join(f"{k} on {v}" for k, v in table["crps verdict"].value_counts().items())
    runs = pd.concat(pooled, ignore_index=True)
    coverage = [pooled_coverage(runs, "all")] + [
        pooled_coverage(part, name) for name, part in runs.groupby("scheme")]
    return (f"# Verdict: {model}\n\n{markdown(table, list(table.columns))}\n\n"
            f"- CRPS against the best other model: {counts} of {len(table)} tables (a tie is "
            f"a difference below {TIE}).\n"
            f"- 0.9 inside the 90 % coverage's Wilson interval on "
            f"{int(table['0.9 inside'].sum())} of {len(table)} tables.\n"
            f"- 90 % coverage pooled over held-out runs, with a 95 % bootstrap interval over "
            f"held-out units (datasets; model sizes under loo-size):\n\n"
            f"{markdown(pd.DataFrame(coverage), list(coverage[0]))}\n")


def held_out_unit(table: str, predictions: pd.DataFrame) -> pd.Series:
    """Label each held-out run by the unit whose surprise it shares (dataset; loo-size: fold)."""
    column = "fold" if table.endswith("__loo-size") else "dataset_id"
    return table + "/" + predictions[column].astype(str)


def pooled_coverage(runs: pd.DataFrame, name: str) -> dict[str, object]:
    """Return the coverage of `runs` (columns covered, unit) with Wilson and cluster intervals."""
    hits, n = int(runs["covered"].sum()), len(runs)
    wilson = wilson_interval(hits, n)
    cluster = cluster_bootstrap_interval(runs["covered"].to_numpy(), runs["unit"])
    return {"scheme": name, "runs": n, "units": runs["unit"].nunique(), "cov90": hits / n,
            "Wilson (runs independent)": f"[{wilson[0]:.3f}, {wilson[1]:.3f}]",
            "bootstrap over units": f"[{cluster[0]:.3f}, {cluster[1]:.3f}]"}


if __name__ == "__main__":
    main()
