"""``metaq validate``: cross-validate the predictor and its baselines on a runs table."""

from __future__ import annotations

import argparse
from pathlib import Path

from metaq.cli._types import int_at_least
from metaq.exceptions import MetaqError

EPILOG = """\
examples:
  # the reference study, leave one dataset variant out, every model side by side
  metaq validate --out out/validate-study

  # forecast a model size never seen, on a published table
  metaq validate --runs data/published/dart_math/runs.csv \\
      --features data/published/dart_math/features.csv --scheme loo-size --out out/dart

  # forecast under a study never seen (its evaluation protocol and recipe): a runs table
  # with a study column, one study held out at a time
  metaq validate --runs corpus_runs.csv --features corpus_features.csv --scheme loo-study \
      --models hierarchical,no_feature,two_way --out out/studies

  # rank two datasets never seen with one fit (up to 15 pairs of datasets)
  metaq validate --scheme leave-pair-out --max-pairs 15 --out out/pairs

  # random run-level folds, the Bayesian models against ridge, more posterior draws
  metaq validate --scheme kfold --k 5 --models hierarchical,pooled,ridge --draws 1000 \
      --out out/kf

Writes predictions.csv (one row per model x held-out run), scores.csv (one row per model:
CRPS, log density, MAE, 50/90 % coverage with a bootstrap interval over held-out units,
Spearman and pairwise decision accuracy within each fit), differences.csv (each model's CRPS
minus the best one's with a paired bootstrap interval over held-out units), folds.csv (fit
status and sampler diagnostics) and calibration.png.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` command."""
    from metaq.datasets import study_path

    parser = subparsers.add_parser(
        "validate", help="cross-validate the predictor against baselines",
        description="Hold out datasets, model sizes, studies or random runs; fit every "
                    "model on the rest; score the held-out forecasts.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=str(study_path("runs")),
                        help="runs table (default: study)")
    parser.add_argument("--features", default=str(study_path("features")),
                        help="features table (default: study)")
    parser.add_argument("--scheme", default="loo-dataset",
                        choices=("loo-dataset", "loo-size", "loo-study", "leave-pair-out",
                                 "kfold"),
                        help="how runs are held out (default loo-dataset; loo-study needs a "
                             "study column in --runs)")
    parser.add_argument("--k", type=int_at_least(2), default=5,
                        help="folds of --scheme kfold (default 5)")
    parser.add_argument("--max-pairs", type=int_at_least(1), default=15,
                        help="pairs of datasets of --scheme leave-pair-out at most, drawn at "
                             "random beyond it (default 15)")
    parser.add_argument("--models", help="comma-separated models among hierarchical, pooled, "
                                         "no_feature, two_way, study_rank, ridge, "
                                         "gradient_boosting (default: all)")
    parser.add_argument("--target", default="abs", choices=("abs", "logit", "rel"),
                        help="scale of the change forecast and scored (default abs)")
    parser.add_argument("--draws", type=int_at_least(1), default=300,
                        help="posterior draws per chain")
    parser.add_argument("--tune", type=int_at_least(0), default=500,
                        help="tuning steps per chain")
    parser.add_argument("--chains", type=int_at_least(1), default=2, help="chains")
    parser.add_argument("--mass-matrix", choices=("diag", "low_rank"), default="diag",
                        help="NUTS mass matrix of the Bayesian models (default diag; low_rank "
                             "needs nutpie)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--item-noise", action=argparse.BooleanOptionalAction, default=True,
                        help="Bayesian models forecast the recorded score, with the binomial "
                             "sampling of the benchmark's items (default); --no-item-noise "
                             "forecasts the model's accuracy (an ablation)")
    parser.add_argument("--out", required=True, help="folder for the report files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Cross-validate, write the report folder and print the scores table."""
    from metaq._outputs import check_output_path
    from metaq.validation import cross_validate

    check_output_path(args.out, option="--out", folder=True)
    models = {"models": args.models.split(",")} if args.models else {}
    result = cross_validate(
        args.runs, args.features, **models, scheme=args.scheme, k=args.k,
        max_pairs=args.max_pairs,
        target=args.target, sampler={"draws": args.draws, "tune": args.tune,
                                     "chains": args.chains, "mass_matrix": args.mass_matrix},
        random_seed=args.seed, item_noise=args.item_noise, label=Path(args.runs).parent.name)
    result.save(args.out)
    columns = ["model", "n_runs", "crps", "mae", "coverage_90", "coverage_90_lo",
               "coverage_90_hi", "pairwise_acc_beyond_noise", "pairwise_acc_beyond_noise_lo",
               "pairwise_acc_beyond_noise_hi", "n_dataset_pairs_beyond_noise"]
    print(f"{args.scheme} on {args.runs} (outcome: {result.outcome})")
    print(result.scores[[c for c in columns if c in result.scores]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
    print("CRPS minus the best model's, 95 % paired bootstrap interval over held-out units:")
    print(result.differences[["model", "crps_diff", "lo", "hi", "beyond_noise"]].to_string(
        index=False, float_format=lambda v: f"{v:+.4f}"))
    failed = result.folds[result.folds["error"] != ""]
    if len(failed) == len(result.folds):
        first = str(failed["error"].iloc[0]).splitlines()[0]
        raise MetaqError(f"every one of the {len(failed)} fit(s) failed (first: {first}); see "
                         f"{args.out}/folds.csv. Fix: check the tables and sampler settings.")
    if len(failed):
        print(f"{len(failed)} fit(s) failed; see {args.out}/folds.csv")
    print(f"wrote {args.out}/")
    return 0
