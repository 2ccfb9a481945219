"""Tables in other layouts (long, wide, base rows) -> runs rows."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.exceptions import SchemaError
from metaq.importers import import_csv

LONG = pd.DataFrame({
    "data": ["A", "A", "B", "B"], "model": ["m7", "m7", "m7", "m7"],
    "size": [7, 7, 7, 7], "bench": ["GSM", "MATH", "GSM", "MATH"],
    "score": [60.0, 20.0, 55.0, 25.0], "base": [14.6, 2.5, 14.6, 2.5],
})
LONG_MAP = {"dataset_id": "data", "base_model": "model", "params_b": "size",
            "benchmark": "bench", "score_ft": "score", "score_base": "base"}


def test_long_layout_with_percent_and_constants(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("# source: a test table\n" + LONG.to_csv(index=False))
    runs = import_csv(path, columns=LONG_MAP, constants={"family": "llama", "n_items": 1319},
                      percent=True)
    assert runs["score_ft"].tolist() == pytest.approx([0.60, 0.20, 0.55, 0.25])
    assert runs["score_base"].tolist() == pytest.approx([0.146, 0.025, 0.146, 0.025])
    assert (runs["family"] == "llama").all() and (runs["n_items"] == 1319).all()


def test_wide_layout_pairs_base_rows_per_model_and_benchmark():
    wide = pd.DataFrame({"data": ["Vanilla", "SuperNI", "Vanilla", "SuperNI"],
                         "model": ["m7", "m7", "m13", "m13"], "size": [7, 7, 13, 13],
                         "GSM": [10.0, 4.0, 14.5, 4.0], "BBH": [30.0, 31.0, 39.3, 4.5]})
    runs = import_csv(wide, columns={"dataset_id": "data", "base_model": "model",
                                     "params_b": "size"},
                      constants={"family": "llama"}, wide=["GSM", "BBH"],
                      base_rows=("data", "Vanilla"), percent=True)
    got = runs.set_index(["base_model", "benchmark"])[["score_base", "score_ft"]]
    assert got.loc[("m13", "BBH")].tolist() == pytest.approx([0.393, 0.045])
    assert got.loc[("m7", "GSM")].tolist() == pytest.approx([0.10, 0.04])
    assert set(runs["dataset_id"]) == {"SuperNI"} and len(runs) == 4


def test_a_percentage_left_as_is_is_caught_by_the_runs_contract():
    with pytest.raises(SchemaError,
                       match=r"row 1, column 'score_base': .*14.6.* is an accuracy.*divide by 100"):
        import_csv(LONG, columns=LONG_MAP, constants={"family": "llama"})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"columns": {**LONG_MAP, "dataset": "data"}}, r"\['dataset'\] are not runs-table columns"),
    ({"columns": {**LONG_MAP, "family": "fam"}}, r"no column\(s\) \['fam'\]; the table has"),
    ({"columns": LONG_MAP}, r"nothing provides the runs column\(s\) \['family'\]"),
    ({"columns": LONG_MAP, "constants": {"family": "x", "params_b": 7}},
     r"\['params_b'\] given both as a mapped column and as a constant"),
    ({"columns": LONG_MAP, "constants": {"family": "x"}, "wide": ["score"]},
     "do not also map 'benchmark' or 'score_ft'"),
    ({"columns": LONG_MAP, "constants": {"family": "x"}, "base_rows": ("data", "Vanilla")},
     "'score_base' is mapped and also taken from the rows"),
])
def test_mapping_errors_say_what_to_fix(kwargs, message):
    with pytest.raises(SchemaError, match=message):
        import_csv(LONG, **kwargs)


def test_base_rows_value_that_matches_nothing():
    columns = {k: v for k, v in LONG_MAP.items() if k != "score_base"}
    with pytest.raises(SchemaError,
                       match=r"no row has data='Vanilla'.*values include \['A', 'B'\]"):
        import_csv(LONG, columns=columns, constants={"family": "x"},
                   base_rows=("data", "Vanilla"))


def test_percent_on_fractions_is_refused_not_divided_again():
    table = pd.DataFrame({"data": ["Vanilla", "Alpaca"], "GSM": [0.903, 0.91]})
    with pytest.raises(SchemaError, match=r"every score in \['GSM'\] is at most 1.*drop percent"):
        import_csv(table, columns={"dataset_id": "data"}, wide=["GSM"],
                   constants={"base_model": "m", "params_b": 7, "family": "llama"},
                   base_rows=("data", "Vanilla"), percent=True)


def test_a_decimal_comma_names_the_row_of_the_source_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('dataset,model,bench,score\nA,m,gsm8k,51.0\nB,m,gsm8k,"52,1"\n')
    with pytest.raises(SchemaError, match=r"t.csv, row 2 \(line 3\), column 'score': '52,1' is "
                                          r"not a number.*decimal point"):
        import_csv(path, columns={"dataset_id": "dataset", "base_model": "model",
                                  "benchmark": "bench", "score_ft": "score"},
                   constants={"params_b": 7, "family": "llama", "score_base": 0.5},
                   percent=True)
