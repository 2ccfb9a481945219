"""Out-of-sample validation of the predictor against its baselines on every shipped data set.

Run from the repository root: ``python analyses/03_validate.py [--only ...]``; with more than
one table selected, each table runs in its own process. For each data set
and cross-validation scheme it fits every model on the training folds, scores the held-out
forecasts and writes the report folder (predictions, scores, folds, calibration plot) under
``analyses/out/03_validate/<data set>__<scheme>/``, plus ``summary.md`` with one table per
data set and the verdict across every table run so far (from the saved predictions and the
paired bootstrap differences). The numbers are copied into docs/validation.md.

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

from metaq.datasets import data_path, study_path
from metaq.modeling.simulate import simulate_runs
from metaq.tables import read_features, read_runs
from metaq.validation import MODELS, cross_validate
from metaq.validation.scores import cluster_bootstrap_interval, wilson_interval

OUT = Path(__file__).resolve().parent / "out" / "03_validate"
PUBLISHED = data_path() / "published"
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
         "pairwise_acc_beyond_noise", "pairwise_acc_beyond_noise_lo",
         "pairwise_acc_beyond_noise_hi", "n_pairs_beyond_noise", "n_dataset_pairs_beyond_noise"]
DIFFERENCES = ["model", "crps", "crps_diff", "lo", "hi", "beyond_noise", "n_units"]


def data_sets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]]:
    """Name -> (runs, features, schemes), cheapest first."""
    sim = simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=3, random_seed=11)
    # the same design with an effect of each dataset its features do not explain
    sim_effects = simulate_runs(n_datasets=6, params_b=(1.0, 8.0, 70.0), n_tasks=3,
                                dataset_sd=0.3, random_seed=11)
    every = ("loo-dataset", "leave-pair-out", "loo-size", "kfold")
    no_size = ("loo-dataset", "leave-pair-out", "kfold")
    sets = {
        "study": (read_runs(study_path("runs")), read_features(study_path("features")), every),
        "simulated": (sim.runs, sim.features, every),
        "simulated_dataset_effects": (sim_effects.runs, sim_effects.features, no_size),
    }
    for name, schemes in [("dart_math", every),
                          ("cherry_ifd_v2", every),
                          ("tulu1_13b", no_size),
                          ("limo_32b", no_size),
                          ("openthoughts2_7b", no_size),
                          ("deita", every),
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
    parser.add_argument("--max-pairs", type=int, default=10,
                        help="pairs of datasets of leave-pair-out at most (default 10)")
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
                  "--max-pairs", str(args.max_pairs),
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
    chosen = args.models.split(",") if args.models else list(MODELS)
    if runs["base_model"].nunique() == 1 and "pooled" in chosen and "hierarchical" in chosen:
        # one base model: no scale contrast, so pooled is the hierarchical model (a second fit
        # of the same model would only measure Monte Carlo noise)
        chosen.remove("pooled")
    result = cross_validate(runs, features, scheme=scheme, random_seed=0, models=chosen,
                            max_pairs=args.max_pairs,
                            sampler={"draws": args.draws, "tune": args.tune, "chains": 2,
                                     "mass_matrix": args.mass_matrix},
                            item_noise=args.item_noise, label=name)
    result.save(args.out / f"{name}__{scheme}")
    failed = result.folds[result.folds["error"] != ""]
    rhat = result.folds.get("max_rhat", pd.Series(dtype=float)).max()
    text = (f"\n## {name}, {scheme} (outcome {result.outcome}; {len(runs)} runs; "
            f"{time.perf_counter() - start:.0f} s; worst fold R-hat {rhat:.3f}; "
            f"{len(failed)} failed fits)\n\n{markdown(result.scores)}\n\n"
            f"CRPS minus the best model's, 95 % paired bootstrap interval over "
            f"{int(result.differences['n_units'].max())} held-out units:\n\n"
            f"{markdown(result.differences, DIFFERENCES)}\n")
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
    """`model` on every saved table: CRPS against the best other, coverage, ranking.

    A model is ahead of or behind another only where the paired bootstrap interval of their
    CRPS difference (``differences.csv``) excludes 0; coverage per table and pooled with a
    bootstrap interval over held-out units; pairwise accuracy of unseen datasets from the
    leave-pair-out tables (pairs beyond the benchmark's noise), with its interval over pairs
    of datasets.
    """
    rows, pooled = [], []
    for folder in sorted(out.glob("*__*")):
        if not (folder / "differences.csv").exists():
            continue
        diffs = pd.read_csv(folder / "differences.csv").set_index("model")
        scores = pd.read_csv(folder / "scores.csv").set_index("model")
        if model not in diffs.index:
            continue
        own = pd.read_csv(folder / "predictions.csv").query("model == @model")
        scheme = folder.name.split("__")[-1]
        pooled.append(pd.DataFrame({"scheme": scheme, "covered": own["covered_90"].to_numpy(),
                                    "unit": folder.name + "/" + own["unit"].astype(str)}))
        rows.append({"table": folder.name, "runs": len(own), **_crps_verdict(diffs, model),
                     "cov90": scores.at[model, "coverage_90"],
                     "cov90 interval": (f"[{scores.at[model, 'coverage_90_lo']:.2f}, "
                                        f"{scores.at[model, 'coverage_90_hi']:.2f}]"),
                     "pairs beyond noise": _pairs(scores, model)})
    if not rows:
        return ""
    table = pd.DataFrame(rows)
    counts = ", ".join(f"{k} on {v}" for k, v in table["crps verdict"].value_counts().items())
    runs = pd.concat(pooled, ignore_index=True)
    coverage = [pooled_coverage(runs, "all")] + [
        pooled_coverage(part, name) for name, part in runs.groupby("scheme")]
    return (f"# Verdict: {model}\n\n{markdown(table, list(table.columns))}\n\n"
            f"- CRPS against every other model, by the paired bootstrap interval over held-out "
            f"units: {counts} of {len(table)} tables.\n"
            f"- 90 % coverage pooled over held-out runs, with a 95 % bootstrap interval over "
            f"held-out units (datasets; sizes under loo-size; pairs under leave-pair-out):"
            f"\n\n{markdown(pd.DataFrame(coverage), list(coverage[0]))}\n")


def _crps_verdict(diffs: pd.DataFrame, model: str) -> dict[str, object]:
    """Where `model` stands: best (and beyond noise of how many others) or behind whom."""
    if len(diffs) == 1:  # every other model failed every fold (see folds.csv)
        return {"crps": diffs.at[model, "crps"], "crps verdict": "no other model forecast it",
                "next": "n/a"}
    best = diffs["crps_diff"].idxmin()
    if model == best:
        others = diffs.drop(index=model)
        ahead = int(others["beyond_noise"].sum())
        runner = others["crps_diff"].idxmin()
        verdict = ("lowest, beyond noise of all" if ahead == len(others) else
                   "lowest, within noise of all" if ahead == 0 else
                   f"lowest, beyond noise of {ahead} of {len(others)}")
        return {"crps": diffs.at[model, "crps"], "crps verdict": verdict,
                "next": f"{runner} +{others.at[runner, 'crps_diff']:.4f} "
                        f"[{others.at[runner, 'lo']:+.4f}, {others.at[runner, 'hi']:+.4f}]"}
    row = diffs.loc[model]
    verdict = f"behind {best}" if row["beyond_noise"] else f"tied with {best}"
    return {"crps": row["crps"], "crps verdict": verdict,
            "next": f"{model} +{row['crps_diff']:.4f} [{row['lo']:+.4f}, {row['hi']:+.4f}]"}


def _pairs(scores: pd.DataFrame, model: str) -> str:
    value = scores.at[model, "pairwise_acc_beyond_noise"]
    if pd.isna(value):
        return "n/a"
    return (f"{value:.2f} [{scores.at[model, 'pairwise_acc_beyond_noise_lo']:.2f}, "
            f"{scores.at[model, 'pairwise_acc_beyond_noise_hi']:.2f}] "
            f"({scores.at[model, 'n_pairs_beyond_noise']:.0f} pairs of "
            f"{scores.at[model, 'n_dataset_pairs_beyond_noise']:.0f} dataset pairs)")


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
