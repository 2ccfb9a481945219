"""Valid ranges of dataset metrics, so a what-if cannot move a metric where no dataset can be.

A metric's range follows from its definition: shares and rates (the judge's FVCU criteria,
``symbolic_fraction``, ``redundancy_ratio`` of non-trivial traces, duplicate rates) lie in
[0, 1]; cosine similarities (``semantic_alignment``, ``semantic_flow``) in [-1, 1]; lengths,
counts, depths and the perplexity ratio ``ppl_ratio`` are >= 0; a perplexity is
>= 1. Names are matched by the rules in
:data:`RANGE_RULES`, first match wins; a metric no rule matches is unbounded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from metaq.exceptions import MetaqError


class OutOfRangeError(MetaqError, ValueError):
    """A (changed) metric value lies outside the metric's valid range."""


@dataclass(frozen=True)
class ValidRange:
    """Closed interval ``[lower, upper]`` a metric can take, and the reason."""

    lower: float
    upper: float
    reason: str

    def contains(self, value: float) -> bool:
        """Whether `value` lies in the closed interval."""
        return self.lower <= value <= self.upper


_SHARE = ValidRange(0.0, 1.0, "it is a share of steps, characters or examples")
_COSINE = ValidRange(-1.0, 1.0, "it is a cosine similarity")
_NON_NEGATIVE = ValidRange(0.0, math.inf, "it is a length, count, depth or ratio of positives")
_PERPLEXITY = ValidRange(1.0, math.inf, "a perplexity is exp(mean negative log-likelihood)")
UNBOUNDED = ValidRange(-math.inf, math.inf, "no range is known for it")

RANGE_RULES: tuple[tuple[str, ValidRange], ...] = (
    (r"perplexity", _PERPLEXITY),
    (r"^ppl_ratio$", _NON_NEGATIVE),
    (r"^(factuality|validity|coherence|utility)(_|$)", _SHARE),
    (r"(fraction|ratio|share|rate|_present|_in_reasoning)(_|$)", _SHARE),
    (r"^semantic_(alignment|flow)", _COSINE),
    (r"(chars|tokens|length|depth|steps|words)(_|$)", _NON_NEGATIVE),
)
"""(regular expression searched in the metric name, range) pairs, tried in order."""


def valid_range(metric: str) -> ValidRange:
    """Return the valid range of a metric: the first rule of :data:`RANGE_RULES` that matches.

    Examples
    --------
    >>> valid_range("validity").upper
    1.0
    >>> valid_range("perplexity").lower
    1.0
    >>> valid_range("reasoning_tokens_pllum").lower
    0.0
    """
    for pattern, found in RANGE_RULES:
        if re.search(pattern, metric):
            return found
    return UNBOUNDED


def check_in_range(metric: str, value: float, *, context: str = "") -> None:
    """Raise :class:`OutOfRangeError` when `value` leaves the valid range of `metric`.

    Parameters
    ----------
    metric : str
        The metric's name.
    value : float
        The value to check.
    context : str, optional
        Where the value comes from (e.g. ``"dataset 'Detailed', change 'validity=+0.1'"``).

    Raises
    ------
    OutOfRangeError
        Naming the metric, the value, the range and the reason.
    """
    bounds = valid_range(metric)
    if not bounds.contains(float(value)):
        where = f" ({context})" if context else ""
        raise OutOfRangeError(
            f"{metric}={value:.6g}{where} leaves the metric's valid range "
            f"[{bounds.lower:g}, {bounds.upper:g}] because {bounds.reason}. Fix: choose a "
            f"smaller change that keeps {metric} inside that range."
        )
