"""Per-feature contributions on a known posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fake_predictor import FEATURES, slope_draws_by_hand

from metaq.explain.contributions import TOTAL, feature_contributions


def test_contribution_is_standardised_value_times_slope(fake_predictor):
    # validity +1 SD, redundancy at the mean, perplexity -1 SD
    data = pd.DataFrame({"dataset_id": ["x"], "validity": [0.95], "redundancy_ratio": [0.5],
                         "perplexity": [1.2]})
    table = feature_contributions(fake_predictor, data, target_models=["large-70b"],
                                  benchmarks=["bench_b"])
    assert table["term"].tolist() == [*FEATURES, TOTAL]
    by_term = table.set_index("term")
    np.testing.assert_allclose(by_term.loc[FEATURES, "value_z"], [1.0, 0.0, -1.0], atol=1e-9)
    slopes = slope_draws_by_hand(fake_predictor)[:, 1, :]
    assert by_term.loc["validity", "estimate"] == pytest.approx(slopes[:, 0].mean(), abs=1e-9)
    assert by_term.loc["redundancy_ratio", "estimate"] == pytest.approx(0.0, abs=1e-12)
    assert by_term.loc["perplexity", "estimate"] == pytest.approx(-slopes[:, 2].mean(), abs=1e-9)
    total = slopes[:, 0] - slopes[:, 2]
    assert by_term.loc[TOTAL, "estimate"] == pytest.approx(total.mean(), abs=1e-9)
    assert by_term.loc[TOTAL, "prob_positive"] == 1.0


def test_missing_feature_contribution_is_integrated_over(fake_predictor):
    data = pd.DataFrame({"dataset_id": ["x"], "validity": [0.95], "redundancy_ratio": [0.5],
                         "perplexity": [np.nan]})
    table = feature_contributions(fake_predictor, data, target_models=["small-1b"],
                                  benchmarks=["bench_a"]).set_index("term")
    assert np.isnan(table.loc["perplexity", "value_z"])
    # drawn from the training datasets (perplexity z in {0, -1, +1, 0}): a spread, not a point
    assert table.loc["perplexity", "lower"] < -0.2 and table.loc["perplexity", "upper"] > 0.2
