"""The features table contract: metrics, standard errors, counts, provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import SchemaError
from metaq.tables import metric_columns, read_features, validate_features

STUDY_METRICS = [
    "syntactic_depth", "semantic_flow", "semantic_alignment", "perplexity", "redundancy_ratio",
    "symbolic_fraction", "factuality", "validity", "coherence", "utility", "reasoning_chars",
    "total_seq_chars", "reasoning_tokens_pllum", "total_seq_tokens_pllum",
]


@pytest.fixture
def raw_features() -> pd.DataFrame:
    return pd.read_csv(study_path("features"))


def test_study_features_hold_tables_1_to_3():
    features = read_features(study_path("features"))
    assert features["dataset_id"].tolist() == ["Detailed", "Summarized", "BabyThink", "Lengthy"]
    assert metric_columns(features) == STUDY_METRICS
    lengthy = features.set_index("dataset_id").loc["Lengthy"]
    # Table 2 in percent -> share; Table 3 as printed; Table 1 PLLuM tokens
    assert lengthy["validity"] == pytest.approx(0.952)
    assert lengthy["perplexity"] == pytest.approx(1.76)
    assert lengthy["reasoning_tokens_pllum"] == 9930
    assert (features["domain"] == "").all()
    assert features["n_judged"].dtype == "Int64"
    assert features["meta__source"].iloc[0] == "arXiv 2605.13290 Tables 1-3"


def test_metric_columns_skip_keys_errors_counts_and_provenance():
    frame = pd.DataFrame(columns=["dataset_id", "domain", "a", "a__se", "n_examples",
                                  "meta__judge", "b"])
    assert metric_columns(frame) == ["a", "b"]


def test_missing_dataset_id(raw_features):
    with pytest.raises(SchemaError, match=r"features table is missing column\(s\) "
                                          r"\['dataset_id'\]"):
        validate_features(raw_features.drop(columns="dataset_id"))


def test_nan_metric_is_rejected_unless_allowed(raw_features):
    raw_features.loc[2, "utility"] = np.nan
    with pytest.raises(SchemaError, match=r"row 3, column 'utility': metric value is missing "
                                          r"\(NaN\).*forecast with missing features allowed"):
        validate_features(raw_features)
    allowed = validate_features(raw_features, allow_missing=True)
    assert np.isnan(allowed.loc[2, "utility"])


def test_non_numeric_metric_cell(raw_features):
    raw_features["validity"] = raw_features["validity"].astype(object)
    raw_features.loc[1, "validity"] = "high"
    with pytest.raises(SchemaError, match=r"row 2, column 'validity': 'high' is not a number"):
        validate_features(raw_features)


def test_text_metric_column_suggests_the_meta_prefix(raw_features):
    raw_features["judge_model"] = "qwen3"
    with pytest.raises(SchemaError, match=r"column 'judge_model': holds text \('qwen3'\), so it "
                                          r"cannot be a metric.*prefix it with 'meta__'"):
        validate_features(raw_features)


def test_negative_standard_error(raw_features):
    raw_features["factuality__se"] = [0.01, 0.02, -0.005, 0.01]
    with pytest.raises(SchemaError, match=r"row 3, column 'factuality__se': standard error "
                                          r"-0\.005 is negative\. Fix: it must be >= 0"):
        validate_features(raw_features)


def test_standard_error_without_its_metric(raw_features):
    raw_features["fluency__se"] = 0.01
    with pytest.raises(SchemaError, match=r"column 'fluency__se': a standard error without its "
                                          r"metric column 'fluency'\. Fix: add 'fluency' or "
                                          r"drop 'fluency__se'"):
        validate_features(raw_features)


def test_standard_errors_are_kept_as_floats(raw_features):
    raw_features["validity__se"] = [0.007, 0.01, 0.015, 0.006]
    features = validate_features(raw_features)
    assert features["validity__se"].tolist() == [0.007, 0.01, 0.015, 0.006]
    assert "validity__se" not in metric_columns(features)


def test_duplicate_dataset_and_domain(raw_features):
    raw_features.loc[3, "dataset_id"] = "Detailed"
    with pytest.raises(SchemaError, match=r"row 4: duplicate features row \(dataset_id="
                                          r"'Detailed', domain=''\) repeats features table, "
                                          r"row 1"):
        validate_features(raw_features)


def test_domain_rows_are_distinct_keys(raw_features):
    domains = raw_features.iloc[[0, 0]].assign(domain=["math", "code"])
    features = validate_features(pd.concat([raw_features, domains], ignore_index=True))
    assert features["domain"].tolist() == ["", "", "", "", "math", "code"]


def test_table_without_metrics(raw_features):
    with pytest.raises(SchemaError, match=r"no metric column.*add at least one numeric metric"):
        validate_features(raw_features[["dataset_id", "n_examples", "meta__source"]])


def test_missing_dataset_id_cell(raw_features):
    raw_features.loc[0, "dataset_id"] = np.nan
    with pytest.raises(SchemaError, match=r"row 1, column 'dataset_id': value is missing"):
        validate_features(raw_features)
