"""``metaq metrics``: list the extractors, their metrics and what each needs installed."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  metaq metrics                 # every extractor, its metrics, needs and availability here
  metaq extract data.jsonl --metrics redundancy_ratio,embedding,text --out f.csv

Select metrics in `metaq extract --metrics` by metric name, extractor name or group.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``metrics`` subcommand."""
    parser = subparsers.add_parser(
        "metrics",
        help="list extractors, their metrics and requirements",
        description="List the registered extractors: the metrics each emits, what it needs "
                    "installed or given, and whether it can run in this environment.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one block per extractor, then the groups."""
    from metaq.features.registry import GROUPS, describe_extractors

    for row in describe_extractors():
        print(f"{row['name']}: {row['summary']}")
        print(f"    metrics:   {row['metrics']}")
        print(f"    needs:     {row['needs']}")
        print(f"    available: {row['available']}")
    for name, members in GROUPS.items():
        print(f"group {name}: {', '.join(members)}")
    return 0
