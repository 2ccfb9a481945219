"""Benjamini-Hochberg q-values against statsmodels and a hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from metaq.exceptions import InvalidParameterError
from metaq.stats import benjamini_hochberg


def test_hand_computed_example():
    # sorted p: 0.01, 0.03, 0.04, 0.5 -> m*p/rank: 0.04, 0.06, 0.0533, 0.5 -> running min
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])


@pytest.mark.parametrize("m", [1, 7, 252])
def test_matches_statsmodels(rng, m):
    p = rng.uniform(size=m) ** 3
    p[: m // 3] = np.round(p[: m // 3], 2)  # ties
    p[-1] = 1.0
    expected = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), expected, rtol=1e-12)


def test_nan_is_left_out_of_the_family(rng):
    p = rng.uniform(size=20)
    with_nan = np.insert(p, [3, 10], np.nan)
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[[3, 11]]).all()
    np.testing.assert_allclose(q[np.isfinite(q)], multipletests(p, method="fdr_bh")[1])


def test_keeps_shape_and_handles_empty():
    assert benjamini_hochberg(np.full((2, 3), 0.5)).shape == (2, 3)
    assert benjamini_hochberg([]).size == 0


def test_rejects_values_that_are_not_p_values():
    with pytest.raises(InvalidParameterError, match=r"p-value 2\.3 lies outside \[0, 1\]"):
        benjamini_hochberg([0.1, 2.3])
