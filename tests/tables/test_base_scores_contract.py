"""The untuned-scores table: what a user passes as their model's measured untuned scores."""

import pandas as pd
import pytest

from metaq.exceptions import SchemaError
from metaq.tables.base_scores import read_base_scores, validate_base_scores


def test_a_valid_table_is_normalised(tmp_path):
    path = tmp_path / "untuned.csv"
    pd.DataFrame({"target_model": [" my-3b", "my-3b"], "benchmark": ["gsm8k", "mot"],
                  "domain": [None, "math"], "score_base": [0.41, 0.2],
                  "n_items": [1319, None], "note": ["x", "y"]}).to_csv(path, index=False)
    table = read_base_scores(path)
    assert table.columns.tolist() == ["base_model", "benchmark", "domain", "score_base",
                                      "n_items"]
    assert table["base_model"].tolist() == ["my-3b", "my-3b"]
    assert table["domain"].tolist() == ["", "math"]
    assert table["n_items"].tolist()[0] == 1319 and pd.isna(table["n_items"].iloc[1])


@pytest.mark.parametrize(("edit", "message"), [
    ({"score_base": [41.0]}, "divide by 100"),
    ({"n_items": [12.5]}, "positive whole number"),
    ({"benchmark": [""]}, "missing"),
])
def test_bad_cells_are_named(edit, message):
    frame = pd.DataFrame({"base_model": ["m"], "benchmark": ["b"], "score_base": [0.5],
                          "n_items": [100]})
    with pytest.raises(SchemaError, match=message):
        validate_base_scores(frame.assign(**edit))


def test_missing_columns_and_duplicates_are_refused():
    with pytest.raises(SchemaError, match="missing column"):
        validate_base_scores(pd.DataFrame({"base_model": ["m"], "benchmark": ["b"]}))
    twice = pd.DataFrame({"base_model": ["m", "m"], "benchmark": ["b", "b"],
                          "score_base": [0.5, 0.6]})
    with pytest.raises(SchemaError, match="duplicate"):
        validate_base_scores(twice)
