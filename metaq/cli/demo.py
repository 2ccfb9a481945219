"""``metaq demo``: the main job on the shipped data."""

from __future__ import annotations

import argparse

from metaq.cli._types import finite_float

EPILOG = """\
examples:
  metaq demo                          # everything into outputs/demo/
  metaq demo --out /tmp/metaq --pdf   # also print the report to PDF
  metaq demo --quick --out /tmp/q     # model-free metrics only (no embedding model)

What it does, with no download and no GPU: reproduces the reference study's correlation
tables (p-values, FDR, heatmaps), measures the shipped sample datasets, forecasts them with
the shipped predictor for PLLuM-8B, Bielik-11B and an unseen 3B model, ranks them, and
writes the HTML uncertainty report.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="run the main job end to end on the shipped data",
        description="Run the main job end to end on the shipped data.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/demo", help="output folder")
    parser.add_argument("--model", default=None, help="fitted predictor (.nc); default shipped")
    parser.add_argument("--prob", type=finite_float, default=0.9,
                        help="interval mass (default 0.9)")
    parser.add_argument("--pdf", action="store_true", help="also print the report to PDF")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--quick", action="store_true",
                        help="measure only the model-free metrics (no embedding model)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and print a compact summary and where everything went."""
    import pandas as pd

    from metaq._outputs import check_output_path
    from metaq.demo import run_demo

    check_output_path(args.out, option="--out", folder=True)
    result = run_demo(args.out, model=args.model, prob=args.prob, pdf=args.pdf,
                      random_seed=args.seed, progress=not args.quiet, quick=args.quick)
    summary = result.reference_study["summary"].read_text(encoding="utf-8").splitlines()
    print("Reference study:")
    for line in summary:
        if line.startswith("- Table") or line.startswith("- **Nothing survives"):
            print(" ", line.removeprefix("- ").replace("**", ""))
    from metaq.tables.targets import TARGETS

    forecast = pd.read_csv(result.forecast["forecast"], keep_default_na=False)
    target = TARGETS[forecast["target"].iloc[0]]
    pct = f"{100 * args.prob:g}%"
    print(f"\nCandidate ranking ({target.label} averaged over benchmarks, in {target.unit}; "
          f"{pct} interval, P(best), expected regret):")
    ranking = result.ranking
    for model, rows in ranking.groupby("target_model", sort=False):
        print(f"  {model}")
        for _, row in rows.iterrows():
            print(f"    {row['rank']}. {row['dataset_id']:<22} {row['estimate']:+.3f} "
                  f"[{row['lower']:+.3f}, {row['upper']:+.3f}]  P(best) {row['prob_best']:.2f}"
                  f"  regret {row['expected_regret']:.3f}")
    far = forecast.drop_duplicates("dataset_id")
    far = far[far["extrapolated_features"] != ""]
    for _, row in far.iterrows():
        print(f"  note: {row['dataset_id']} is an extrapolation (up to "
              f"{float(row['extrapolation_sd']):.1f} training sd beyond the study's datasets on "
              f"{row['extrapolated_features'].replace(',', ', ')})")
    print(f"\nfeatures:  {result.features}\nforecast:  {result.forecast['forecast']}\n"
          f"report:    {result.report}\nall files: {result.out_dir}/")
    return 0
