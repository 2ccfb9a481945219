"""How numbers read in a report: changes with their unit, probabilities, table cells."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# target name -> (factor, unit suffix, axis unit) for showing a change on that target's scale
_CHANGE_UNITS: dict[str, tuple[float, str, str]] = {
    "abs": (100.0, " points", "accuracy points"),
    "rel": (1.0, " %", "% of the untuned score"),
    "logit": (1.0, " log-odds", "log-odds"),
}
_DEFAULT_UNIT = (1.0, "", "target units")
_ZERO = 1e-9  # floating-point residue below this prints as 0


def text_column(values: pd.Series) -> pd.Series:
    """Return a column as text with ``""`` for missing cells (CSV reads empty text as NaN).

    Examples
    --------
    >>> text_column(pd.Series([float("nan"), float("nan")])).tolist()
    ['', '']
    """
    return values.astype(object).where(values.notna(), "").astype(str)


def forecast_target(forecast: pd.DataFrame | None) -> str:
    """Return the target scale of a forecast table (its ``target`` column), ``""`` when unknown.

    Examples
    --------
    >>> forecast_target(pd.DataFrame({"target": ["abs", "abs"]}))
    'abs'
    """
    if forecast is None or "target" not in forecast.columns or forecast.empty:
        return ""
    return str(forecast["target"].iloc[0])


def change_unit(target: str) -> str:
    """Return the unit a change on `target` is shown in, for axis labels.

    Examples
    --------
    >>> change_unit("abs")
    'accuracy points'
    """
    return _CHANGE_UNITS.get(target, _DEFAULT_UNIT)[2]


def change_factor(target: str) -> float:
    """Return the factor turning a change on `target` into its display unit (100 for ``abs``).

    Examples
    --------
    >>> change_factor("abs"), change_factor("rel")
    (100.0, 1.0)
    """
    return _CHANGE_UNITS.get(target, _DEFAULT_UNIT)[0]


def format_change(value: float, target: str) -> str:
    """Format a signed change in its display unit, e.g. ``+2.1 points`` for ``abs`` 0.021.

    Examples
    --------
    >>> format_change(0.021, "abs")
    '+2.1 points'
    >>> format_change(-3.456, "rel")
    '-3.5 %'
    """
    factor, suffix, _ = _CHANGE_UNITS.get(target, _DEFAULT_UNIT)
    return f"{value * factor:+.1f}{suffix}" if target in _CHANGE_UNITS else f"{value:+.3g}"


def format_probability(value: float) -> str:
    """Format a probability with two decimals, keeping tiny and near-certain values honest.

    Examples
    --------
    >>> format_probability(0.8), format_probability(0.9991), format_probability(0.0004)
    ('0.80', '> 0.99', '< 0.01')
    """
    if value > 0.99:
        return "> 0.99"
    if value < 0.01:
        return "< 0.01"
    return f"{value:.2f}"


def format_cell(value: object) -> str:
    """Format one table cell: floats to 3-4 significant digits, p-values kept exact.

    Examples
    --------
    >>> format_cell(0.083333333), format_cell(2613.0), format_cell(-3.5e-16), format_cell(True)
    ('0.08333', '2613', '0', 'yes')
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if abs(value) < _ZERO:
            return "0"
        if float(value).is_integer() and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def format_table(frame: pd.DataFrame, *, max_rows: int) -> tuple[list[str], list[list[str]], int]:
    """Turn a table into header and cell text for rendering.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    max_rows : int
        Rows beyond this are left out (their number is returned).

    Returns
    -------
    columns : list of str
        Column headers.
    rows : list of list of str
        Cell text, row by row.
    hidden : int
        How many rows were left out.

    Examples
    --------
    >>> format_table(pd.DataFrame({"a": [1.0, 0.5, 2.25]}), max_rows=2)
    (['a'], [['1'], ['0.5']], 1)
    """
    shown = frame.head(max_rows)
    rows = [[format_cell(v) for v in record] for record in shown.itertuples(index=False)]
    return [str(c) for c in frame.columns], rows, max(0, len(frame) - max_rows)
