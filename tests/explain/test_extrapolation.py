from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.explain.extrapolation import extrapolation, extrapolation_summary
from metaq.forecasting import load_predictor


@pytest.fixture(scope="module")
def predictor():
    return load_predictor()


def test_training_datasets_lie_inside_their_own_range(predictor):
    table = extrapolation(predictor, study_path("features"))
    assert set(table["dataset_id"]) == {"Detailed", "Summarized", "BabyThink", "Lengthy"}
    assert table["outside_sd"].max() == pytest.approx(0.0, abs=1e-9)
    summary = extrapolation_summary(table)
    assert (summary["extrapolated_features"] == "").all()


def test_distance_beyond_the_range_in_training_sds(predictor):
    study = pd.read_csv(study_path("features"), comment="#")
    sd = study["symbolic_fraction"].std(ddof=1)
    candidate = pd.DataFrame({"dataset_id": ["dense"], "symbolic_fraction": [0.201 + 3 * sd],
                              "redundancy_ratio": [0.5]})
    table = extrapolation(predictor, candidate).set_index("feature")
    assert table.loc["symbolic_fraction", "outside_sd"] == pytest.approx(3.0, rel=1e-6)
    assert table.loc["redundancy_ratio", "outside_sd"] == 0.0  # 0.441 <= 0.5 <= 0.629
    assert np.isnan(table.loc["validity", "outside_sd"])  # missing: integrated over
    summary = extrapolation_summary(table.reset_index())
    assert summary.loc[0, "extrapolated_features"] == "symbolic_fraction"
    assert summary.loc[0, "extrapolation_sd"] == pytest.approx(3.0, rel=1e-6)
