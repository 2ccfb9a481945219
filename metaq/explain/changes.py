"""What-if changes of dataset features: parse them, apply them, keep them in valid ranges.

A change is written ``FEATURE=VALUE``:

- ``validity=0.9`` sets the feature to 0.9;
- ``validity=+0.05`` / ``validity=-0.05`` adds to it (a signed number);
- ``redundancy_ratio=-20%`` / ``=+10%`` changes it relative to its current value.

In Python a change may also be a number (set) or a callable ``old -> new``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from metaq.exceptions import MetaqError
from metaq.explain._names import check_known
from metaq.explain.ranges import check_in_range

ChangeKind = Literal["set", "add", "relative", "function"]
ChangeValue = float | str | Callable[[float], float]

_SPEC = re.compile(r"^\s*(?P<feature>[^=\s]+)\s*=\s*(?P<value>\S+)\s*$")
_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"


class ChangeSpecError(MetaqError, ValueError):
    """A what-if change is not written as ``FEATURE=VALUE``, ``=+X``, ``=-X`` or ``=±X%``."""


@dataclass(frozen=True)
class FeatureChange:
    """One change of one feature.

    Attributes
    ----------
    feature : str
        The feature (metric) name.
    kind : {"set", "add", "relative", "function"}
        How `amount` is applied.
    amount : float or callable
        New value (set), increment (add), fraction such as -0.2 (relative), or ``old -> new``.
    label : str
        How the change reads in tables (e.g. ``"redundancy_ratio=-20%"``).
    """

    feature: str
    kind: ChangeKind
    amount: float | Callable[[float], float]
    label: str

    def apply(self, value: float) -> float:
        """Return the changed value of a feature whose current value is `value`."""
        if self.kind == "set":
            return float(self.amount)
        if self.kind == "add":
            return float(value) + float(self.amount)
        if self.kind == "relative":
            return float(value) * (1.0 + float(self.amount))
        return float(self.amount(float(value)))


def parse_change(spec: str) -> FeatureChange:
    """Parse one change written ``FEATURE=VALUE``, ``FEATURE=+X``, ``FEATURE=-X%`` ....

    Raises
    ------
    ChangeSpecError
        When `spec` does not follow one of the forms, naming it and giving examples.

    Examples
    --------
    >>> parse_change("redundancy_ratio=-20%").apply(0.5)
    0.4
    >>> parse_change("validity=+0.05").kind
    'add'
    """
    match = _SPEC.match(spec)
    if match is None:
        raise _bad_spec(spec)
    feature, value = match["feature"], match["value"]
    if re.fullmatch(rf"[-+]{_NUMBER}%", value):
        return FeatureChange(feature, "relative", float(value[:-1]) / 100.0, spec.strip())
    if re.fullmatch(rf"[-+]{_NUMBER}", value):
        return FeatureChange(feature, "add", float(value), spec.strip())
    if re.fullmatch(_NUMBER, value):
        return FeatureChange(feature, "set", float(value), spec.strip())
    raise _bad_spec(spec)


def _bad_spec(spec: str) -> ChangeSpecError:
    return ChangeSpecError(
        f"cannot read the what-if change {spec!r}. Fix: write FEATURE=VALUE to set it "
        f"(validity=0.9), FEATURE=+X or =-X to add (validity=+0.05), or FEATURE=-X% to change "
        f"it relative to its value (redundancy_ratio=-20%)."
    )


def as_changes(changes: Mapping[str, ChangeValue] | list[str] | str) -> list[FeatureChange]:
    """Normalise changes given as spec strings or a ``{feature: value}`` mapping.

    A mapping value may be a number (set), a spec value string (``"+0.05"``, ``"-20%"``) or a
    callable ``old -> new``.

    Examples
    --------
    >>> [c.label for c in as_changes({"validity": "+0.05", "perplexity": 1.5})]
    ['validity=+0.05', 'perplexity=1.5']
    """
    if isinstance(changes, str):
        return [parse_change(changes)]
    if isinstance(changes, list | tuple):
        return [parse_change(spec) for spec in changes]
    out = []
    for feature, value in changes.items():
        if callable(value):
            label = f"{feature}={getattr(value, '__name__', 'f')}(·)"
            out.append(FeatureChange(feature, "function", value, label))
        else:
            out.append(parse_change(f"{feature}={value}"))
    return out


def apply_changes(features: pd.DataFrame, changes: list[FeatureChange],
                  known: list[str]) -> pd.DataFrame:
    """Return a copy of a features table with every change applied to every row.

    Parameters
    ----------
    features : pandas.DataFrame
        Features table rows (``dataset_id`` plus metric columns).
    changes : list of FeatureChange
        The changes (see :func:`as_changes`).
    known : list of str
        The features the predictor uses; a change of any other name is refused.

    Returns
    -------
    pandas.DataFrame
        The changed rows; standard-error columns are kept as they are.

    Raises
    ------
    UnknownNameError
        For a feature the predictor does not use (with a did-you-mean suggestion).
    OutOfRangeError
        When a changed value leaves the metric's valid range (see :mod:`metaq.explain.ranges`).
    ChangeSpecError
        When a relative or additive change hits a missing (NaN) value.
    """
    check_known([c.feature for c in changes], known, kind="feature")
    changed = features.copy()
    for change in changes:
        new_values = []
        for row, old in enumerate(changed[change.feature].to_numpy(dtype=float)):
            dataset = changed["dataset_id"].iloc[row]
            if np.isnan(old) and change.kind != "set":
                raise ChangeSpecError(
                    f"dataset {dataset!r} has no value of {change.feature!r}, so the change "
                    f"{change.label!r} has nothing to start from. Fix: set it (FEATURE=VALUE) "
                    f"or extract the feature first."
                )
            new = change.apply(old)
            check_in_range(change.feature, new,
                           context=f"dataset {dataset!r}, change {change.label!r}")
            new_values.append(new)
        changed[change.feature] = new_values
    return changed
