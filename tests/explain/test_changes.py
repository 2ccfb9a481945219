"""What-if change specs: parsing, application to real study features, valid ranges, names."""

from __future__ import annotations

import numpy as np
import pytest

from metaq.datasets import study_path
from metaq.exceptions import UnknownNameError
from metaq.explain.changes import ChangeSpecError, apply_changes, as_changes, parse_change
from metaq.explain.ranges import OutOfRangeError, valid_range
from metaq.tables import metric_columns, read_features


@pytest.fixture
def study_features():
    return read_features(study_path("features"))


@pytest.mark.parametrize(("spec", "kind", "start", "expected"), [
    ("redundancy_ratio=-20%", "relative", 0.5, 0.4),
    ("redundancy_ratio=+10%", "relative", 0.5, 0.55),
    ("validity=+0.05", "add", 0.9, 0.95),
    ("validity=-0.05", "add", 0.9, 0.85),
    ("perplexity=1.5", "set", 2.4, 1.5),
    (" reasoning_chars = 1e3 ", "set", 5.0, 1000.0),
])
def test_parse_change_forms(spec, kind, start, expected):
    change = parse_change(spec)
    assert change.kind == kind
    assert change.apply(start) == pytest.approx(expected)


@pytest.mark.parametrize("spec", ["validity", "validity=", "validity=abc", "=0.5",
                                  "validity=5%", "validity=+-1"])
def test_parse_change_rejects_bad_specs_with_forms(spec):
    with pytest.raises(ChangeSpecError, match="FEATURE=VALUE"):
        parse_change(spec)


def test_as_changes_accepts_mapping_with_numbers_strings_and_callables():
    changes = as_changes({"validity": "+0.05", "perplexity": 1.5, "utility": lambda v: v / 2})
    assert [c.kind for c in changes] == ["add", "set", "function"]
    assert changes[2].apply(0.8) == pytest.approx(0.4)


def test_apply_changes_moves_only_the_named_feature(study_features):
    known = metric_columns(study_features)
    changed = apply_changes(study_features, as_changes(["redundancy_ratio=-20%"]), known)
    np.testing.assert_allclose(changed["redundancy_ratio"],
                               0.8 * study_features["redundancy_ratio"])
    others = [m for m in known if m != "redundancy_ratio"]
    assert changed[others].equals(study_features[others])
    assert study_features.loc[0, "redundancy_ratio"] == 0.623  # input untouched


def test_apply_changes_refuses_leaving_a_share_range(study_features):
    # Lengthy has validity 0.952; +0.05 takes it past 1
    with pytest.raises(OutOfRangeError, match=r"validity=1\.002.*Lengthy.*\[0, 1\]"):
        apply_changes(study_features, as_changes(["validity=+0.05"]),
                      metric_columns(study_features))


def test_apply_changes_refuses_perplexity_below_one(study_features):
    with pytest.raises(OutOfRangeError, match=r"perplexity.*\[1, inf\]"):
        apply_changes(study_features, as_changes(["perplexity=-50%"]),
                      metric_columns(study_features))


def test_apply_changes_suggests_the_closest_feature(study_features):
    with pytest.raises(UnknownNameError, match="did you mean 'redundancy_ratio'"):
        apply_changes(study_features, as_changes(["redundancy_ration=-20%"]),
                      metric_columns(study_features))


def test_relative_change_of_a_missing_value_is_refused(study_features):
    features = study_features.copy()
    features.loc[0, "validity"] = np.nan
    with pytest.raises(ChangeSpecError, match="'Detailed' has no value of 'validity'"):
        apply_changes(features, as_changes(["validity=+1%"]), metric_columns(features))


@pytest.mark.parametrize(("metric", "lower", "upper"), [
    ("factuality", 0.0, 1.0), ("symbolic_fraction", 0.0, 1.0), ("redundancy_ratio", 0.0, 1.0),
    ("semantic_alignment", -1.0, 1.0), ("perplexity", 1.0, np.inf),
    ("reasoning_tokens_pllum", 0.0, np.inf), ("total_seq_chars", 0.0, np.inf),
    ("syntactic_depth", 0.0, np.inf), ("some_new_score", -np.inf, np.inf),
    ("ppl_ratio", 0.0, np.inf), ("conditional_perplexity", 1.0, np.inf),
    ("answer_present", 0.0, 1.0), ("near_duplicate_rate", 0.0, 1.0),
    ("language_share", 0.0, 1.0), ("answer_chars", 0.0, np.inf),
])
def test_valid_ranges_follow_metric_definitions(metric, lower, upper):
    assert (valid_range(metric).lower, valid_range(metric).upper) == (lower, upper)


def test_every_study_feature_lies_in_its_valid_range(study_features):
    for metric in metric_columns(study_features):
        assert study_features[metric].map(valid_range(metric).contains).all(), metric
