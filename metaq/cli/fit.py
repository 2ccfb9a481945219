"""``metaq fit``: fit the hierarchical predictor to a runs table and a features table."""

from __future__ import annotations

import argparse

from metaq.cli._types import int_at_least
from metaq.datasets import study_path

EPILOG = """\
examples:
  # refit the default predictor from the study's tables (the defaults)
  metaq fit --out models/my_study.nc --seed 1

  # your own runs and features, forecasting absolute accuracy points
  metaq fit --runs runs.csv --features features.parquet --target abs --out my_model.nc

  # a quick look (fewer draws; check the printed diagnostics before trusting it)
  metaq fit --runs runs.csv --features features.csv --out quick.nc --draws 300 --tune 300
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fit`` subcommand."""
    parser = subparsers.add_parser(
        "fit", help="fit the Bayesian predictor to past fine-tuning runs",
        description="Fit the hierarchical model of benchmark score changes (model scale as a "
                    "group) to a runs table and the features of its datasets; save it as one "
                    "netCDF file plus a JSON card, and print its diagnostics.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=str(study_path("runs")),
                        help="runs table, CSV or Parquet (default: the study's runs)")
    parser.add_argument("--features", default=str(study_path("features")),
                        help="features table, CSV or Parquet (default: the study's features)")
    parser.add_argument("--out", default="model.nc",
                        help="model file to write (.nc; the card goes beside it as .json)")
    parser.add_argument("--target", choices=("logit", "abs", "rel"), default="logit",
                        help="scale of the forecasts (default: logit)")
    parser.add_argument("--metrics", default=None,
                        help="comma-separated metric columns to use (default: all)")
    parser.add_argument("--seed", type=int, default=None, help="sampler seed")
    parser.add_argument("--draws", type=int_at_least(1), default=None,
                        help="posterior draws per chain")
    parser.add_argument("--tune", type=int_at_least(0), default=None,
                        help="tuning steps per chain")
    parser.add_argument("--chains", type=int_at_least(1), default=None, help="number of chains")
    parser.add_argument("--mass-matrix", choices=("diag", "low_rank"), default=None,
                        help="NUTS mass matrix (default diag); low_rank (nutpie) for runs "
                             "without untuned scores, where chains that disagree on the "
                             "untuned level are the sign it is needed")
    parser.add_argument("--max-draws", type=int_at_least(1), default=None,
                        help="thin the saved draws to at most this many (smaller file)")
    parser.add_argument("--prior-predictive", action="store_true",
                        help="also draw what the priors alone imply for the runs, print it "
                             "beside the observed values and keep it in the card (the report "
                             "shows it)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fit, save and print the diagnostics; returns 0."""
    from metaq._outputs import check_output_path
    from metaq.modeling.diagnostics import diagnostic_problems
    from metaq.modeling.hierarchical import fit_predictor
    from metaq.modeling.persistence import card_path

    check_output_path(args.out, option="--out", suffixes=(".nc",))
    check_output_path(card_path(args.out), option="--out (its JSON card)")
    sampler = {key: getattr(args, key) for key in ("draws", "tune", "chains", "mass_matrix")
               if getattr(args, key) is not None}
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    model = fit_predictor(args.runs, args.features, out=args.out, target=args.target,
                          random_seed=args.seed, sampler=sampler, features_used=metrics,
                          max_draws=args.max_draws, prior_predictive=args.prior_predictive)
    d = model.diagnostics_
    print(f"fitted on {model.n_runs_} runs, {len(model.features_)} features, "
          f"{len(model.encoding_.models)} base models, {len(model.encoding_.tasks)} tasks "
          f"({model.likelihood_} likelihood, target {model.target})")
    print(f"R-hat max {d['max_rhat']:.3f}  ESS bulk min {d['min_ess_bulk']:.0f}  "
          f"ESS tail min {d['min_ess_tail']:.0f}  divergences {d['divergences']}")
    print(f"PSIS-LOO elpd {d['elpd_loo']:.1f} (se {d['elpd_loo_se']:.1f}), max Pareto k "
          f"{d['max_pareto_k']:.2f}; predictive {d['ppc_prob']:.0%} intervals cover "
          f"{d['ppc_coverage']:.0%} of runs")
    for problem in diagnostic_problems(d):
        print(f"warning: {problem}")
    if "prior_predictive" in d:
        import pandas as pd

        print("prior predictive check (the priors alone, 90 % interval, vs the observed runs):")
        print(pd.DataFrame(d["prior_predictive"]).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"saved {args.out}")
    return 0
