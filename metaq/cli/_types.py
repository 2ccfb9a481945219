"""Argument types of the command line: numbers with a range, checked when parsed."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """Return an argparse type that parses an integer >= `minimum`.

    Examples
    --------
    >>> int_at_least(1)("3")
    3
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum {minimum}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


def finite_float(text: str) -> float:
    """Parse a finite number (no ``nan``/``inf``); an argparse type.

    Examples
    --------
    >>> finite_float("0.9")
    0.9
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def comma_floats(text: str) -> list[float]:
    """Parse comma-separated finite numbers, e.g. ``0.1,0.2``; an argparse type.

    Examples
    --------
    >>> comma_floats("0.1, 0.5")
    [0.1, 0.5]
    """
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty item; write e.g. 0.1,0.2,0.3")
    return [finite_float(item) for item in items]
