"""``metaq report``: write the self-contained HTML (and PDF) uncertainty report."""

from __future__ import annotations

import argparse

from metaq.cli._types import finite_float

EPILOG = """\
examples:
  # report of the shipped predictor on the reference study, with a forecast, plus a PDF
  metaq report --forecast forecast.csv --out report.html --pdf

  # your own predictor, runs and features
  metaq report --model models/mine.nc --runs runs.csv --features features.csv \\
      --forecast forecast.csv --out out/report.html

  # the data and correlations only, no model
  metaq report --no-model --runs runs.csv --features features.csv --out data_report.html
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report", help="write the HTML/PDF uncertainty report",
        description="Write one self-contained HTML file (no network requests, figures "
                    "embedded) with the forecasts and their intervals, what drives them per "
                    "model scale, what-if curves, the data, diagnostics and caveats; "
                    "optionally a PDF printed by headless Chromium.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--model", help="fitted predictor (.nc); default: the shipped one")
    which.add_argument("--no-model", action="store_true",
                       help="report the data only, without a predictor")
    parser.add_argument("--forecast", help="forecast table from `metaq forecast` (CSV/Parquet)")
    parser.add_argument("--candidates", metavar="FEATURES",
                        help="features of the forecast's datasets (the features.csv that "
                             "`metaq forecast --out DIR` writes), for contribution breakdowns")
    parser.add_argument("--runs", help="runs table (default: the reference study's)")
    parser.add_argument("--features", help="features table (default: the reference study's)")
    parser.add_argument("--out", required=True, help="HTML file to write")
    parser.add_argument("--pdf", nargs="?", const=True, default=False, metavar="PDF",
                        help="also print a PDF (beside the HTML, or to PDF)")
    parser.add_argument("--pdf-engine", choices=("chromium", "weasyprint"), default="chromium",
                        help="HTML engine for the PDF (default: chromium)")
    parser.add_argument("--prob", type=finite_float,
                        help="interval mass (default: the forecast's)")
    parser.add_argument("--title", default="metaq forecast report", help="report heading")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report and print where it went."""
    from metaq._outputs import check_output_path
    from metaq.report.build import make_report
    from metaq.report.contracts import ReportConfig

    check_output_path(args.out, option="--out", suffixes=(".html",))
    if isinstance(args.pdf, str):
        check_output_path(args.pdf, option="--pdf", suffixes=(".pdf",))
    files = make_report(
        args.out, model=args.model, forecast=args.forecast, candidates=args.candidates,
        runs=args.runs,
        features=args.features, use_default_model=not args.no_model, pdf=args.pdf,
        pdf_engine=args.pdf_engine, prob=args.prob, config=ReportConfig(title=args.title),
        random_seed=args.seed)
    print(f"wrote {files.html}")
    if files.pdf:
        print(f"wrote {files.pdf}")
    for problem in files.failed_checks:
        print(f"warning: {problem}")
    return 0
