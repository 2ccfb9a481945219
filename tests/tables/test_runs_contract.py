"""The runs table contract: every validation error names file, row, column and fix."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import SchemaError
from metaq.tables import check_runs_have_features, read_features, read_runs, validate_runs


@pytest.fixture
def raw_runs() -> pd.DataFrame:
    return pd.read_csv(study_path("runs"), keep_default_na=True)


def write(frame: pd.DataFrame, tmp_path: Path, comment: str | None = None) -> Path:
    path = tmp_path / "runs.csv"
    text = frame.to_csv(index=False)
    path.write_text((f"# {comment}\n" if comment else "") + text, encoding="utf-8")
    return path


def test_study_runs_are_valid_and_complete():
    runs = read_runs(study_path("runs"))
    # Table 4: 2 models x 4 variants x 6 benchmarks; Table 6: 2 x 4 x 3 domains
    assert len(runs) == 2 * 4 * 6 + 2 * 4 * 3
    assert (runs["domain"] == "").sum() == 48
    assert set(runs.loc[runs["domain"] != "", "benchmark"]) == {"mot_pl_eval"}
    assert runs["n_items"].dtype == "Int64"
    # the domain item counts add up to the 900 items of MoT-PL-eval
    domains = runs[(runs["domain"] != "") & (runs["dataset_id"] == "Detailed")
                   & (runs["base_model"] == "PLLuM-8B-instruct")]
    assert int(domains["n_items"].sum()) == 900
    row = runs.query("base_model == 'PLLuM-8B-instruct' and dataset_id == 'Detailed' "
                     "and benchmark == 'lightr1' and domain == ''")
    assert row[["score_base", "score_ft", "params_b"]].iloc[0].tolist() == [0.172, 0.094, 8.0]


def test_missing_columns_are_listed(raw_runs, tmp_path):
    path = write(raw_runs.drop(columns=["score_ft", "family"]), tmp_path)
    with pytest.raises(SchemaError) as err:
        read_runs(path)
    message = str(err.value)
    assert str(path) in message
    assert "missing column(s) ['family', 'score_ft']" in message
    assert "Fix: add them" in message and "data/README.md" in message


def test_non_numeric_score_names_row_line_and_column(raw_runs, tmp_path):
    raw_runs["score_ft"] = raw_runs["score_ft"].astype(object)
    raw_runs.loc[2, "score_ft"] = "0.5x"
    path = write(raw_runs, tmp_path, comment="a comment line before the header")
    # data row 3 is file line 5: comment, header, then rows 1 and 2
    expected = f"{path}, row 3 (line 5), column 'score_ft': '0.5x' is not a number"
    with pytest.raises(SchemaError, match=re.escape(expected) + ".*Fix: write a plain decimal"):
        read_runs(path)


@pytest.mark.parametrize("value", [1.2, -0.01, 61.3])
def test_accuracy_outside_unit_interval(raw_runs, value):
    raw_runs.loc[4, "score_base"] = value
    with pytest.raises(SchemaError, match=rf"row 5, column 'score_base': {value!r} is an "
                                          r"accuracy and must lie in \[0, 1\].*divide by 100"):
        validate_runs(raw_runs)


def test_accuracy_bounds_are_inclusive(raw_runs):
    raw_runs.loc[0, "score_ft"] = 1.0
    raw_runs.loc[1, "score_ft"] = 0.0
    assert validate_runs(raw_runs)["score_ft"].iloc[:2].tolist() == [1.0, 0.0]


def test_missing_score_ft_is_rejected(raw_runs):
    raw_runs.loc[6, "score_ft"] = np.nan
    with pytest.raises(SchemaError, match=r"row 7, column 'score_ft': value is missing \(NaN\)"):
        validate_runs(raw_runs)


def test_duplicate_key_rows_point_to_the_first(raw_runs):
    duplicated = pd.concat([raw_runs, raw_runs.iloc[[3]]], ignore_index=True)
    first = raw_runs.iloc[3]
    with pytest.raises(SchemaError) as err:
        validate_runs(duplicated)
    message = str(err.value)
    assert f"row {len(raw_runs) + 1}: duplicate run row" in message
    assert f"dataset_id={first['dataset_id']!r}" in message and "repeats" in message
    assert "row 4" in message
    assert "Fix: keep one row per (dataset_id, base_model, benchmark, domain)" in message


def test_same_benchmark_in_two_domains_is_not_a_duplicate(raw_runs):
    runs = validate_runs(raw_runs)
    assert runs.duplicated(["dataset_id", "base_model", "benchmark"]).any()


@pytest.mark.parametrize("value", [0, -8])
def test_params_b_must_be_positive(raw_runs, value):
    raw_runs.loc[0, "params_b"] = value
    with pytest.raises(SchemaError, match=rf"row 1, column 'params_b': {float(value)!r} must be "
                                          r"positive"):
        validate_runs(raw_runs)


def test_one_model_has_one_size(raw_runs):
    first = raw_runs["base_model"].iloc[0]
    raw_runs.loc[raw_runs.index[-1], "base_model"] = first  # a row of the other model
    raw_runs.loc[raw_runs.index[-1], "benchmark"] = "new_bench"
    with pytest.raises(SchemaError, match=rf"base_model '{first}' has several values of "
                                          r"'params_b': \['11.0', '8.0'\]"):
        validate_runs(raw_runs)


@pytest.mark.parametrize("value", [0, 2.5])
def test_n_items_must_be_a_positive_whole_number(raw_runs, value):
    raw_runs["n_items"] = raw_runs["n_items"].astype(float)
    raw_runs.loc[1, "n_items"] = value
    with pytest.raises(SchemaError, match=r"row 2, column 'n_items'.*positive whole number"):
        validate_runs(raw_runs)


def test_empty_text_cell(raw_runs):
    raw_runs["benchmark"] = raw_runs["benchmark"].astype(object)
    raw_runs.loc[5, "benchmark"] = "  "
    with pytest.raises(SchemaError, match=r"row 6, column 'benchmark': value is missing"):
        validate_runs(raw_runs)


def test_missing_score_base_is_accepted_and_logged(raw_runs, caplog):
    raw_runs.loc[[0, 1], "score_base"] = np.nan
    with caplog.at_level(logging.INFO, logger="metaq.tables.runs"):
        runs = validate_runs(raw_runs, source="my runs")
    assert runs["score_base"].isna().sum() == 2
    assert "my runs: 2 run(s) have no score_base" in caplog.text


def test_optional_columns_may_be_absent(raw_runs):
    runs = validate_runs(raw_runs.drop(columns=["domain", "n_items"]).drop_duplicates(
        ["dataset_id", "base_model", "benchmark"]))
    assert (runs["domain"] == "").all()
    assert runs["n_items"].isna().all()


def test_extra_columns_are_kept_after_the_contract(raw_runs):
    runs = validate_runs(raw_runs.assign(note="x"))
    assert list(runs.columns)[-1] == "note"


def test_a_study_column_joins_the_run_key(raw_runs):
    twice = pd.concat([raw_runs.assign(study=" paper_a "), raw_runs.assign(study="paper_b")],
                      ignore_index=True)
    runs = validate_runs(twice)
    assert len(runs) == 2 * len(raw_runs)
    assert set(runs["study"]) == {"paper_a", "paper_b"}  # stripped text labels
    with pytest.raises(SchemaError, match=r"duplicate run row.*study"):
        validate_runs(pd.concat([twice, twice.iloc[[0]]], ignore_index=True))


def test_a_study_label_may_not_be_empty(raw_runs):
    raw_runs["study"] = "paper_a"
    raw_runs.loc[2, "study"] = None
    with pytest.raises(SchemaError, match=r"row 3, column 'study': value is missing"):
        validate_runs(raw_runs)


def test_a_table_without_a_study_column_gets_none(raw_runs):
    assert "study" not in validate_runs(raw_runs).columns


def test_parquet_round_trip(raw_runs, tmp_path):
    path = tmp_path / "runs.parquet"
    raw_runs.to_parquet(path)
    pd.testing.assert_frame_equal(read_runs(path), read_runs(study_path("runs")))


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(SchemaError, match=r"runs\.xlsx: unsupported table format '\.xlsx'"):
        (tmp_path / "runs.xlsx").write_text("x")
        read_runs(tmp_path / "runs.xlsx")
    with pytest.raises(SchemaError, match=r"nope\.csv: no such file"):
        read_runs(tmp_path / "nope.csv")


def test_dataset_without_features(raw_runs):
    raw_runs.loc[0, "dataset_id"] = "Mystery"
    runs = validate_runs(raw_runs)
    with pytest.raises(SchemaError, match=r"runs\.csv: dataset\(s\) \['Mystery'\] have runs but "
                                          r"no row in feats\.csv \(it has \['BabyThink', "
                                          r"'Detailed', 'Lengthy', 'Summarized'\]\).*metaq "
                                          r"extract"):
        check_runs_have_features(runs, read_features(study_path("features")), runs_name="runs.csv",
                                 features_name="feats.csv")


def test_study_runs_have_features():
    check_runs_have_features(read_runs(study_path("runs")), read_features(study_path("features")))
