"""``metaq explain``: importance, contributions, what-if, sweeps, ranking, next run."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from metaq.cli._types import comma_floats, finite_float, int_at_least
from metaq.exceptions import InvalidParameterError

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
        "rank", "next-run")  # the keys of TABLES, in the order --help shows them


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
    from metaq.forecasting import load_predictor

    check_output_path(args.out, option="--out", suffixes=TABLE_SUFFIXES)
    if args.plot is not None:
        check_output_path(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES)
    predictor = load_predictor(args.model)
    table, draw = TABLES[args.what](predictor, args)
    out = write_table(table, args.out)
    print(table.head(12).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"wrote {out} ({len(table)} rows)")
    if args.plot is not None:
        plot = check_output_path(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES)
        plot.parent.mkdir(parents=True, exist_ok=True)
        draw(table).savefig(plot, dpi=120, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return 0


def _scope(args: argparse.Namespace) -> dict[str, Any]:
    return {"target_models": args.target_models, "benchmarks": _benchmarks(args),
            "prob": args.prob, "random_seed": args.seed}


def _benchmarks(args: argparse.Namespace) -> list[str] | None:
    return args.benchmarks.split(",") if args.benchmarks else None


def _importance(predictor, args):
    from metaq.explain import plots
    from metaq.explain.importance import feature_importance

    return feature_importance(predictor, **_scope(args)), plots.draw_importance


def _scale_contrast(predictor, args):
    from metaq.explain import plots
    from metaq.explain.importance import scale_contrast

    return (scale_contrast(predictor, benchmarks=_benchmarks(args), prob=args.prob,
                           random_seed=args.seed), plots.draw_scale_contrast)


def _permutation(predictor, args):
    from metaq.datasets import study_path
    from metaq.explain import plots
    from metaq.explain.importance import permutation_importance
    from metaq.tables import read_features, read_runs

    runs = read_runs(args.runs or study_path("runs"))
    features = read_features(args.features or study_path("features"))
    table = permutation_importance(predictor, runs, features, n_permutations=args.permutations,
                                   prob=args.prob, random_seed=args.seed)
    return table, plots.draw_permutation_importance


def _contributions(predictor, args):
    from metaq.explain import plots
    from metaq.explain.contributions import feature_contributions

    return (feature_contributions(predictor, _features(args), **_scope(args)),
            plots.draw_contributions)


def _whatif(predictor, args):
    from metaq.explain import plots
    from metaq.explain.whatif import what_if

    if not args.changes:
        raise InvalidParameterError("whatif needs at least one change. Fix: add e.g. "
                                    "--set redundancy_ratio=-20%")
    return (what_if(predictor, _features(args), list(args.changes), **_scope(args)),
            plots.draw_what_if)


def _sweep(predictor, args):
    from metaq.explain import plots
    from metaq.explain.whatif import sweep

    if not args.feature:
        raise InvalidParameterError(f"sweep needs --feature NAME (a feature of the model: "
                                    f"{predictor.features_})")
    baseline = _features(args) if args.features is not None else None
    return (sweep(predictor, args.feature, args.grid, baseline=baseline, **_scope(args)),
            plots.draw_sweep)


def _rank(predictor, args):
    from metaq.explain import plots
    from metaq.explain.ranking import rank_candidates

    forecast = predictor.predict(_features(args), args.target_models, _benchmarks(args),
                                 prob=args.prob, random_seed=args.seed)
    return (rank_candidates(forecast, benchmarks=_benchmarks(args), prob=args.prob),
            plots.draw_ranking)


def _next_run(predictor, args):
    from metaq.explain import plots
    from metaq.explain.next_run import rank_next_runs

    if not args.candidate:
        raise InvalidParameterError("next-run needs candidate runs. Fix: add --candidate "
                                    "DATASET@MODEL for each run you could do")
    targets = predictor.resolve_target_models(args.target_models)
    by_name = {row["name"]: row for row in targets.to_dict(orient="records")}
    runs = []
    for spec in args.candidate:
        dataset, sep, name = spec.partition("@")
        if not sep or not dataset or not name:
            raise InvalidParameterError(f"candidate {spec!r} is not DATASET@MODEL. Fix: e.g. "
                                        f"--candidate Detailed@PLLuM-8B-instruct")
        runs.append({"dataset_id": dataset, **by_name.get(name, {"name": name})})
    interest = (args.interest.split(",") if args.interest
                else list(dict.fromkeys(r["dataset_id"] for r in runs)))
    table = rank_next_runs(predictor, runs, _features(args), interest_datasets=interest,
                           interest_models=targets.to_dict(orient="records"),
                           benchmarks=_benchmarks(args), random_seed=args.seed)
    return table, plots.draw_next_runs


def _features(args: argparse.Namespace):
    """Read the whole-dataset rows of --features (only the --dataset ids when given)."""
    from metaq.explain._names import check_known
    from metaq.tables import read_features

    if args.features is None:
        raise InvalidParameterError(f"{args.what} needs the features of the datasets. Fix: "
                                    f"add --features FEATURES.csv")
    table = read_features(args.features, allow_missing=True)
    table = table.loc[table["domain"] == ""].reset_index(drop=True)
    if args.dataset:
        check_known(args.dataset, table["dataset_id"].tolist(), kind="dataset")
        table = table.loc[table["dataset_id"].isin(args.dataset)].reset_index(drop=True)
    return table


#: What each ``metaq explain WHAT`` computes: predictor, args -> (table, its drawing).
TABLES: dict[str, Callable[[Any, argparse.Namespace], tuple[Any, Callable]]] = {
    "importance": _importance, "scale-contrast": _scale_contrast, "permutation": _permutation,
    "contributions": _contributions, "whatif": _whatif, "sweep": _sweep, "rank": _rank,
    "next-run": _next_run,
}
