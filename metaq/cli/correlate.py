"""``metaq correlate``: metric-vs-outcome correlations with exact p-values and FDR."""

from __future__ import annotations

import argparse

from metaq.cli._types import int_at_least
from metaq.datasets import study_path

EPILOG = """\
examples:
  # the reference study's analysis (Tables 7 and 8 plus p-values, q-values, Perplexity)
  metaq correlate                                  # -> outputs/correlations.csv
  metaq correlate --out rho.csv --figures figures/

  # your own tables, Pearson on the logit change, Parquet output
  metaq correlate --runs my_runs.csv --features my_features.parquet \\
      --method pearson --target logit --out rho.parquet

With n <= 8 datasets per test the p-values are exact (all n! orderings); above that they use
--permutations random orderings drawn with --seed. q-values are Benjamini-Hochberg over all
tests of the call (every model x benchmark x domain x metric); rows with benchmark "avg" are
the mean rho over a model's whole benchmarks (the study's "Avg."), not tests.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``correlate`` subcommand."""
    parser = subparsers.add_parser(
        "correlate",
        help="correlate dataset metrics with fine-tuning outcomes (exact p-values, FDR)",
        description="Spearman or Pearson correlation of every dataset metric with the change "
                    "of every (model, benchmark[, domain]) score after fine-tuning, with exact "
                    "permutation p-values, Benjamini-Hochberg q-values and heatmaps.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", default=study_path("runs"),
                        help="runs table, CSV or Parquet (default: the shipped study's)")
    parser.add_argument("--features", default=study_path("features"),
                        help="features table, CSV or Parquet (default: the shipped study's)")
    parser.add_argument("--method", choices=["spearman", "pearson"], default="spearman",
                        help="correlation coefficient (default: %(default)s)")
    parser.add_argument("--target", choices=["rel", "abs", "logit"], default="rel",
                        help="change of the score after fine-tuning (default: %(default)s, "
                             "100*(ft-base)/base)")
    parser.add_argument("--permutations", type=int_at_least(1), default=9999, metavar="N",
                        help="random orderings when a test has more than 8 datasets "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of permutations and bootstrap (default: %(default)s)")
    parser.add_argument("--out", default="outputs/correlations.csv",
                        help="output table, .csv or .parquet (default outputs/correlations.csv)")
    parser.add_argument("--figures", metavar="DIR", help="also save one heatmap PNG per model")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the analysis and print a short summary."""
    from metaq._outputs import TABLE_SUFFIXES, check_output_path
    from metaq.stats import correlate_files

    check_output_path(args.out, option="--out", suffixes=TABLE_SUFFIXES)
    if args.figures is not None:
        check_output_path(args.figures, option="--figures", folder=True)
    outputs = correlate_files(
        args.out, runs=args.runs, features=args.features,
        figures_dir=args.figures, method=args.method, target=args.target,
        n_permutations=args.permutations, random_seed=args.seed,
    )
    summary = outputs.summary
    tests = "test" if summary.n_tests == 1 else "tests"
    print(f"{summary.n_tests} {args.method} {tests}; {summary.n_discoveries} with q < "
          f"{summary.alpha:g} (Benjamini-Hochberg); smallest p = {summary.smallest_p:.4g}, "
          f"smallest q = {summary.smallest_q:.4g}")
    for row in summary.strongest.itertuples(index=False):
        where = row.benchmark + (f"/{row.domain}" if row.domain else "")
        ties = f" (|rho| reached by {row.n_tied} tests)" if row.n_tied > 1 else ""
        print(f"  strongest for {row.base_model}: {row.metric} on {where}: rho = {row.rho:+.2f}, "
              f"p = {row.p_value:.3g}, q = {row.q_value:.3g}, n = {row.n}{ties}")
    print(f"table: {outputs.table_path}")
    for path in outputs.figure_paths:
        print(f"figure: {path}")
    return 0
