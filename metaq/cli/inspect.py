"""``metaq inspect``: show how the first records of a dataset parse, before extracting."""

from __future__ import annotations

import argparse

from metaq.cli._types import int_at_least

EPILOG = """\
examples:
  metaq inspect data/samples/gsm8k_train.jsonl
  metaq inspect puzzles.jsonl --columns question=puzzle,reasoning=completion -n 5
  metaq inspect chats.jsonl --chat-turns each

It prints the field mapping (detected, or from --columns) and, for each record, the examples
it becomes (id, question, reasoning, answer, domain, shortened) or why it is a bad record and
what to pass. `metaq extract` and `metaq forecast` read the records the same way.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand."""
    from metaq.cli.extract import add_reading_options

    parser = subparsers.add_parser(
        "inspect", help="show how the first records of a dataset parse",
        description="Parse the first records of a dataset file or folder as `metaq extract` "
                    "would and show the mapping and what each record becomes.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="PATH", help="dataset file or folder")
    parser.add_argument("-n", type=int_at_least(1), default=3, help="records to show (3)")
    parser.add_argument("--width", type=int_at_least(20), default=100,
                        help="characters shown of each part (default 100)")
    parser.add_argument("--split", help="split of a `datasets` folder (default train)")
    add_reading_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the mapping and the first records' examples or problems."""
    from metaq.cli.extract import column_mappings
    from metaq.exceptions import MetaqError
    from metaq.io.preview import preview_records

    (mapping,) = column_mappings(args)[:1]
    preview = preview_records(args.path, n=args.n, mapping=mapping, split=args.split)
    if not preview.records:
        raise MetaqError(f"{args.path}: holds no records. Fix: check the file.")
    described = preview.mapping.describe() if preview.mapping else ""
    print(f"{args.path}: fields {described or 'none detected'}")
    for record in preview.records:
        if record.problem:
            print(f"{record.location}: bad record: {record.problem.split(': ', 1)[1]}")
            continue
        print(f"{record.location}: {len(record.examples)} example(s) from fields "
              f"{list(record.fields)}")
        for example in record.examples:
            for part in ("id", "question", "reasoning", "answer", "domain"):
                print(f"  {part:<9} {_shown(getattr(example, part), args.width)}")
    return 0


def _shown(text: str, width: int) -> str:
    flat = " ".join(text.split())
    more = f" ... ({len(text):,} chars)" if len(flat) > width else ""
    return (flat[:width] + more) if flat else "(empty)"
