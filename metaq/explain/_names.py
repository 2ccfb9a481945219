"""Check user-given names against the known ones, suggesting the closest on a typo."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from metaq.exceptions import UnknownNameError


def check_known(names: Iterable[str], known: Iterable[str], *, kind: str) -> None:
    """Raise :class:`UnknownNameError` for the first of `names` not in `known`.

    Parameters
    ----------
    names : iterable of str
        The names given by the user.
    known : iterable of str
        The valid names.
    kind : str
        What the names are, for the message (e.g. ``"feature"``, ``"benchmark"``).

    Raises
    ------
    UnknownNameError
        Naming the unknown value, the closest known names and all valid ones.

    Examples
    --------
    >>> check_known(["validty"], ["validity", "utility"], kind="feature")
    Traceback (most recent call last):
    ...
    metaq.exceptions.UnknownNameError: unknown feature 'validty'; did you mean 'validity'? ...
    """
    known = sorted(set(known))
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise UnknownNameError(
            f"unknown {kind} {name!r}; {hint}The predictor knows these {kind}s: {known}. "
            f"Fix: use one of them."
        )
