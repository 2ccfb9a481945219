"""Targets derived from runs, checked against hand computations and the study's Table 5."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import UnknownNameError
from metaq.tables import TARGETS, derive_target, read_runs
from metaq.tables.targets import clipped_logit

PAPER = Path(study_path("runs")).parent / "paper"


@pytest.fixture
def runs() -> pd.DataFrame:
    return pd.DataFrame({"score_base": [0.5, 0.2, 0.8, np.nan, 0.0],
                         "score_ft": [0.6, 0.1, 1.0, 0.7, 0.3],
                         "n_items": [900, 900, 100, 900, 10]})


def test_absolute_change(runs):
    values = derive_target(runs, "abs")
    assert values.name == "delta_abs"
    np.testing.assert_allclose(values.iloc[:3], [0.1, -0.1, 0.2])
    assert np.isnan(values.iloc[3])


def test_relative_change_in_percent(runs):
    values = derive_target(runs, "rel")
    np.testing.assert_allclose(values.iloc[:3], [20.0, -50.0, 25.0])
    assert np.isnan(values.iloc[3])  # no score_base
    assert np.isnan(values.iloc[4])  # a base of 0 has no relative change


def test_logit_change_by_hand(runs):
    values = derive_target(runs, "logit")
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    assert values.iloc[0] == pytest.approx(logit(0.6) - logit(0.5))
    assert values.iloc[1] == pytest.approx(logit(0.1) - logit(0.2))
    # 1.0 on 100 items is clipped by half an item to 0.995; 0.0 on 10 items to 0.05
    assert values.iloc[2] == pytest.approx(logit(0.995) - logit(0.8))
    assert values.iloc[4] == pytest.approx(logit(0.3) - logit(0.05))
    assert np.isnan(values.iloc[3])


def test_logit_without_item_counts_clips_at_one_in_a_thousand():
    np.testing.assert_allclose(clipped_logit(np.array([0.0, 1.0])),
                               [math.log(0.001 / 0.999), math.log(0.999 / 0.001)])


def test_unknown_target(runs):
    with pytest.raises(UnknownNameError, match=r"unknown target 'ratio'; choose one of "
                                               r"\['abs', 'logit', 'rel'\]"):
        derive_target(runs, "ratio")
    assert set(TARGETS) == {"abs", "rel", "logit"}


def test_relative_change_reproduces_table_5():
    runs = read_runs(study_path("runs"))
    runs = runs[runs["domain"] == ""].assign(rel=derive_target(runs, "rel"))
    paper = pd.read_csv(PAPER / "table5_relative_change.csv", comment="#").drop(columns="avg")
    paper = paper.melt(id_vars=["model", "variant"], var_name="benchmark", value_name="printed")
    merged = paper.merge(runs, left_on=["model", "variant", "benchmark"],
                         right_on=["base_model", "dataset_id", "benchmark"], validate="one_to_one")
    assert len(merged) == 48
    # Table 5 prints one decimal of changes computed from three-decimal accuracies
    assert (merged["rel"] - merged["printed"]).abs().max() <= 0.05 + 1e-9
