"""The ``metaq`` command: argparse root and one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser and sets
``func`` to a ``run(args) -> int`` function. Subcommand modules import nothing heavy at
module level, so ``metaq --help`` is fast; the library is imported inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import NoReturn

from metaq import __version__
from metaq.exceptions import MetaqError, UnknownTargetSizeError

# Order is the order shown by `metaq --help`.
COMMANDS: tuple[str, ...] = (
    "demo",
    "correlate",
    "runs",
    "extract",
    "inspect",
    "metrics",
    "report",
    "fit",
    "forecast",
    "explain",
    "validate",
)


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` and a pointer to ``--help``, then exit 2."""
        self.exit(2, f"{self.prog}: error: {message}. Fix: see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the root parser with every subcommand registered."""
    parser = OneLineErrorParser(
        prog="metaq",
        description=(
            "Forecast what a reasoning fine-tuning dataset will do to a model before you "
            "fine-tune on it: extract data metrics, fit a Bayesian model of past runs, "
            "forecast, explain and report with uncertainty."
        ),
    )
    parser.add_argument("--version", action="version", version=f"metaq {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"metaq.cli.{name.replace('-', '_')}").register(subparsers)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    if verbose < 2:  # third-party chatter only with -vv
        for noisy in ("pymc", "pytensor", "arviz", "matplotlib", "numba", "filelock", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Run the ``metaq`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success, 2 on a metaq error (one line printed to stderr).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    _configure_logging(args.verbose, args.quiet)
    try:
        return int(args.func(args) or 0)
    except MetaqError as err:
        print(f"metaq {args.command}: error: {cli_message(err)}", file=sys.stderr)
        return 2


def cli_message(err: MetaqError) -> str:
    """Word the error for a command-line user: fixes in terms of flags.

    Library errors name Python parameters; the few whose fix is an option of the command
    line are reworded here.
    """
    if isinstance(err, UnknownTargetSizeError):
        return (f"target model {err.model_name!r} has no size: the predictor did not see it "
                f"(it knows {err.known}). Fix: give its size in billions of parameters, e.g. "
                f"`--target-model {err.model_name} --params-b 3` (and --family if known).")
    return str(err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
