"""Table files as users have them: broken files, index columns, inf, implausible sizes."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.datasets import study_path
from metaq.exceptions import SchemaError
from metaq.tables import read_features, read_runs, validate_features, validate_runs
from metaq.tables.base_scores import read_base_scores

RUNS_HEADER = "dataset_id,base_model,params_b,family,benchmark,score_base,score_ft,n_items\n"
RUNS_ROW = "d1,m,7,llama,gsm8k,0.4,0.5,100\n"


def write(path, content: str | bytes):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "message"), [
    ("", r"is empty \(no header line\)"),
    ("# only a comment\n\n", r"is empty \(no header line\)"),
    (RUNS_HEADER, r"the runs table has no rows"),
    (b"dataset_id,base_model\n\xff\xfe,x\n", r":2: byte \d+ is not valid UTF-8"),
    ((RUNS_HEADER + RUNS_ROW).encode("utf-16"), r"is UTF-16 text"),
    (RUNS_HEADER + "d1,m,7,llama,gsm8k,0.4,0.5,100,extra,more\n", r"malformed CSV"),
    ("," + RUNS_HEADER + "0," + RUNS_ROW, r"\['Unnamed: 0'\] have no name.*index=False"),
    (RUNS_HEADER.replace("family", "score_ft") + RUNS_ROW, r"\['score_ft'\] appear more than"),
    (RUNS_HEADER + RUNS_ROW.replace("0.5", "inf"), r"column 'score_ft': inf is infinite"),
    (RUNS_HEADER + RUNS_ROW.replace(",7,", ",inf,"), r"column 'params_b': inf is infinite"),
    (RUNS_HEADER + RUNS_ROW.replace(",7,", ",1e300,"), r"1e\+300 is not a size in billions"),
    (RUNS_HEADER + RUNS_ROW.replace(",7,", ",7000000000,"), r"divided by 1e9"),
    (RUNS_HEADER + 'd1,m,7,llama,gsm8k,"0,4",0.5,100\n', r"'0,4' is not a number.*decimal point"),
])
def test_bad_runs_files_are_one_clear_error(tmp_path, content, message):
    path = write(tmp_path / "runs.csv", content)
    with pytest.raises(SchemaError, match=message):
        read_runs(path)


def test_a_utf8_bom_is_read_and_a_good_file_passes(tmp_path):
    path = write(tmp_path / "runs.csv", ("\ufeff" + RUNS_HEADER + RUNS_ROW).encode("utf-8"))
    assert read_runs(path)["dataset_id"].tolist() == ["d1"]


def test_corrupt_parquet_and_a_folder(tmp_path):
    path = write(tmp_path / "runs.parquet", b"PAR1 this is not parquet")
    with pytest.raises(SchemaError, match=r"not a readable Parquet file.*Fix:"):
        read_runs(path)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(SchemaError, match=r"it is a folder"):
        read_features(tmp_path / "dir.csv")


def test_the_index_column_of_to_csv_is_refused_as_a_metric(tmp_path):
    path = tmp_path / "features.csv"
    pd.read_csv(study_path("features")).to_csv(path)  # index=True: an unnamed first column
    with pytest.raises(SchemaError, match=r"Unnamed: 0"):
        read_features(path)
    frame = pd.read_csv(path)  # the same frame given through the API
    with pytest.raises(SchemaError, match=r"Unnamed: 0"):
        validate_features(frame)


def test_infinite_features_and_standard_errors_are_refused():
    features = pd.read_csv(study_path("features"))
    features.loc[1, "validity"] = float("inf")
    with pytest.raises(SchemaError, match=r"row 2, column 'validity': inf is infinite"):
        validate_features(features, allow_missing=True)
    features = pd.read_csv(study_path("features"))
    features["validity__se"] = [0.01, float("-inf"), 0.01, 0.01]
    with pytest.raises(SchemaError, match=r"column 'validity__se': -inf is infinite"):
        validate_features(features)


def test_runs_with_no_rows_through_the_api():
    with pytest.raises(SchemaError, match="has no rows"):
        validate_runs(pd.read_csv(study_path("runs")).iloc[:0])


def test_untuned_scores_files(tmp_path):
    path = write(tmp_path / "u.csv", "base_model,benchmark,score_base\nm,gsm8k,-inf\n")
    with pytest.raises(SchemaError, match="is infinite"):
        read_base_scores(path)
    path = write(tmp_path / "u.csv", "base_model,benchmark,score_base\n")
    with pytest.raises(SchemaError, match="untuned-scores table has no rows"):
        read_base_scores(path)
