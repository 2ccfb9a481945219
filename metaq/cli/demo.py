"""``metaq demo``: the main job on the shipped data."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  metaq demo                          # everything into outputs/demo/
  metaq demo --out /tmp/metaq --pdf   # also print the report to PDF

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
    parser.add_argument("--prob", type=float, default=0.9, help="interval mass (default 0.9)")
    parser.add_argument("--pdf", action="store_true", help="also print the report to PDF")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and print where everything went."""
    from metaq.demo import run_demo

    result = run_demo(args.out, model=args.model, prob=args.prob, pdf=args.pdf,
                      random_seed=args.seed, progress=not args.quiet)
    print((result.reference_study["summary"]).read_text(encoding="utf-8").strip())
    print()
    print("Candidate ranking (P(best) across benchmarks, expected regret):")
    print(result.ranking.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print(f"features:  {result.features}")
    print(f"forecast:  {result.forecast['forecast']}")
    print(f"report:    {result.report}")
    print(f"all files: {result.out_dir}/")
    return 0
