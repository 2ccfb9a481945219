"""``metaq explain``: importance, contributions, what-if, sweeps, ranking, next run."""

from __future__ import annotations

import argparse

from metaq.cli._types import comma_floats, finite_float, int_at_least

#: Figure formats of ``--plot`` (matplotlib writes each by its suffix).
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")

EPILOG = """\
examples:
  # which metrics matter, per training model and for an unseen 70B model
  metaq explain importance --target-model PLLuM-8B-instruct \\
      --target-model Bielik-11B-v2.6-Instruct --target-model big --params-b 70 --out imp.csv

  # the study's question: small vs large model, per draw
  metaq explain scale-contrast --out contrast.csv

  # predictive check: permutation importance on the training runs
  metaq explain permutation --out perm.csv

  # what drives the forecast of one dataset
  metaq explain contributions --features new.csv --dataset Detailed --out contrib.csv

  # what if the traces were 20 % less redundant and validity 5 points higher?
  metaq explain whatif --features data/study/features.csv --dataset Lengthy \\
      --set redundancy_ratio=-20% --set validity=+0.04 --out whatif.csv

  # forecast curves as redundancy moves over its range, per model size, with a figure
  metaq explain sweep --feature redundancy_ratio --target-model PLLuM-8B-instruct \\
      --target-model big --params-b 70 --benchmarks lightr1 --out sweep.csv --plot sweep.png

  # rank candidate datasets for an 8B model: P(best), expected regret, benchmarks helped/hurt
  metaq explain rank --features candidates.csv --target-model PLLuM-8B-instruct --out rank.csv

  # which fine-tuning run to do next to sharpen the forecasts of A and B for a 70B model
  metaq explain next-run --features candidates.csv --candidate A@PLLuM-8B-instruct \\
      --candidate B@big --target-model big --params-b 70 --interest A,B --out next.csv

Every table has estimate, lower, upper (central interval at --prob) and the probability of
the direction, computed per posterior draw. Models default to the shipped default predictor.
"""

WHAT = ("importance", "scale-contrast", "permutation", "contributions", "whatif", "sweep",
        "rank", "next-run")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explain`` subcommand."""
    from metaq.cli.forecast import add_target_model_options

    parser = subparsers.add_parser(
        "explain", help="importance, what-if, sweeps, candidate ranking, next run",
        description=("Explain a fitted predictor's forecasts: feature importance per model "
                     "size, the small-vs-large contrast, permutation importance, per-feature "
                     "contributions, what-if changes, sweeps, candidate ranking and which "
                     "fine-tuning run to do next. Each writes a tidy CSV."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=WHAT, help="what to compute")
    parser.add_argument("--model", metavar="MODEL.nc",
                        help="fitted predictor (default: the shipped default in models/)")
    parser.add_argument("--features", metavar="FEATURES.csv",
                        help="features of the datasets (contributions, whatif, sweep, rank, "
                             "next-run)")
    parser.add_argument("--runs", metavar="RUNS.csv",
                        help="permutation: training runs (default: the study's)")
    parser.add_argument("--dataset", action="append", metavar="ID",
                        help="dataset id(s) of --features to use (default all; repeatable)")
    add_target_model_options(parser)
    parser.add_argument("--benchmarks", metavar="B1,B2", help="comma-separated benchmarks")
    parser.add_argument("--set", dest="changes", action="append", metavar="FEATURE=CHANGE",
                        help="whatif change: validity=0.9, validity=+0.05, "
                             "redundancy_ratio=-20%% (repeatable)")
    parser.add_argument("--feature", help="sweep: the feature to move")
    parser.add_argument("--grid", metavar="V1,V2,...", type=comma_floats,
                        help="sweep: values (default: range)")
    parser.add_argument("--candidate", action="append", metavar="DATASET@MODEL",
                        help="next-run: a run you could do (repeatable)")
    parser.add_argument("--interest", metavar="D1,D2",
                        help="next-run: datasets whose forecasts you care about "
                             "(default: the candidates')")
    parser.add_argument("--permutations", type=int_at_least(1), default=20, metavar="N",
                        help="permutation: shuffles per feature (default 20)")
    parser.add_argument("--prob", type=finite_float, default=0.9,
                        help="interval mass (default 0.9)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, metavar="TABLE.csv",
                        help="output table (.csv or .parquet)")
    parser.add_argument("--plot", metavar="FIGURE.png",
                        help=f"also draw the table ({', '.join(FIGURE_SUFFIXES)})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compute the requested table, write it (and its figure), print its head."""
    from metaq._outputs import TABLE_SUFFIXES, check_output_path, write_table
    from metaq.explain.tables import explain_table

    check_output_path(args.out, option="--out", suffixes=TABLE_SUFFIXES)
    if args.plot is not None:
        check_output_path(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES)
    table, figure = explain_table(
        args.what, model=args.model, features=args.features, runs=args.runs,
        datasets=args.dataset,
        target_models=args.target_models,
        benchmarks=args.benchmarks.split(",") if args.benchmarks else None,
        changes=args.changes, feature=args.feature,
        grid=args.grid,
        candidates=args.candidate,
        interest=args.interest.split(",") if args.interest else None,
        n_permutations=args.permutations, prob=args.prob, random_seed=args.seed,
        plot=args.plot is not None)
    out = write_table(table, args.out)
    print(table.head(12).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {out} ({len(table)} rows)")
    if figure is not None:
        plot = check_output_path(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES)
        plot.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(plot, dpi=120, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return 0
