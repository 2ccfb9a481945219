"""A few numbers that summarise a correlation table: tests, discoveries, strongest per model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError


@dataclass(frozen=True)
class CorrelationSummary:
    """What a correlation table says at a glance.

    Attributes
    ----------
    n_tests : int
        Tests with a p-value (the FDR family; ``avg`` rows and constant metrics excluded).
    n_discoveries : int
        Tests with Benjamini-Hochberg q-value below `alpha`.
    alpha : float
        The FDR level.
    smallest_p, smallest_q : float
        The smallest p- and q-value of the family.
    strongest : pandas.DataFrame
        Per base model, the test with the largest |rho| (the smallest p among equals, then
        table order), with ``n_tied``: how many of the model's tests reach that |rho|.
    """

    n_tests: int
    n_discoveries: int
    alpha: float
    smallest_p: float
    smallest_q: float
    strongest: pd.DataFrame


def summarize_correlations(table: pd.DataFrame, *, alpha: float = 0.05) -> CorrelationSummary:
    """Count the tests and discoveries of a correlation table and find the strongest ones.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`metaq.stats.correlate`.
    alpha : float, default 0.05
        FDR level for counting discoveries (q < alpha).

    Returns
    -------
    CorrelationSummary
        The counts, extremes and strongest test per model.

    Raises
    ------
    InvalidParameterError
        When `alpha` is not in (0, 1).

    Examples
    --------
    >>> from metaq.tables import read_features, read_runs
    >>> from metaq.datasets import study_path
    >>> from metaq.stats import correlate
    >>> summary = summarize_correlations(correlate(read_runs(study_path("runs")),
    ...                                            read_features(study_path("features"))))
    >>> summary.n_tests, summary.n_discoveries, round(summary.smallest_p, 4)
    (252, 0, 0.0833)
    """
    if not 0 < alpha < 1:
        raise InvalidParameterError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    tests = table[table["p_value"].notna()]
    return CorrelationSummary(
        n_tests=len(tests),
        n_discoveries=int((tests["q_value"] < alpha).sum()),
        alpha=alpha,
        smallest_p=float(tests["p_value"].min()) if len(tests) else np.nan,
        smallest_q=float(tests["q_value"].min()) if len(tests) else np.nan,
        strongest=_strongest_per_model(tests),
    )


def _strongest_per_model(tests: pd.DataFrame) -> pd.DataFrame:
    ranked = tests.assign(abs_rho=tests["rho"].abs()).sort_values(
        ["abs_rho", "p_value"], ascending=[False, True], kind="stable")
    strongest = ranked.groupby("base_model", sort=False).head(1)
    top = strongest.set_index("base_model")["abs_rho"]
    n_tied = ranked.groupby("base_model", sort=False)["abs_rho"].apply(
        lambda values: int(np.isclose(values, top[values.name]).sum()))
    columns = ["base_model", "benchmark", "domain", "metric", "n", "rho", "p_value", "q_value"]
    return strongest[columns].assign(
        n_tied=strongest["base_model"].map(n_tied).to_numpy()).reset_index(drop=True)
