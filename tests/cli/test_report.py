from __future__ import annotations

import pandas as pd
import pytest

from metaq.cli import main


def _forecast() -> pd.DataFrame:
    """Two candidates for the 8B model on one benchmark; A is best with probability 0.85."""
    return pd.DataFrame({
        "dataset_id": ["A", "B"], "target_model": "PLLuM-8B-instruct", "params_b": 8.0,
        "benchmark": "mot_pl_eval", "domain": "", "estimate": [0.02, -0.01], "sd": 0.01,
        "lower": [0.004, -0.026], "upper": [0.036, 0.006], "prob_gain": [0.97, 0.2],
        "prob_best": [0.85, 0.15], "target": "abs", "prob": 0.8})


def test_data_only_report_from_the_study_tables(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "--no-model", "--out", str(out), "--title", "Study data"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<title>Study data</title>" in html and 'id="data"' in html
    assert "No fitted model was given" in html
    assert capsys.readouterr().out.strip() == f"wrote {out}"


def test_report_with_a_forecast_table_and_a_weasyprint_pdf(tmp_path, capsys):
    pytest.importorskip("weasyprint")
    forecast = tmp_path / "forecast.csv"
    _forecast().to_csv(forecast, index=False)
    out = tmp_path / "r.html"
    assert main(["report", "--no-model", "--forecast", str(forecast), "--out", str(out),
                 "--pdf", str(tmp_path / "r.pdf"), "--pdf-engine", "weasyprint"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "A is the better choice for PLLuM-8B-instruct (8B) with probability 0.85" in html
    assert "intervals hold 80% posterior mass" in html  # taken from the forecast's prob column
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert capsys.readouterr().out.splitlines() == [f"wrote {out}", f"wrote {tmp_path / 'r.pdf'}"]


def test_bad_forecast_file_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "forecast.csv"
    bad.write_text("dataset_id,estimate\nx,0.1\n", encoding="utf-8")
    assert main(["report", "--no-model", "--forecast", str(bad),
                 "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert f"metaq report: error: {bad}: ReportData.forecast is missing column(s) " \
           "['target_model', 'benchmark', 'lower', 'upper', 'prob_gain']" in err
    assert main(["report", "--no-model", "--forecast", str(tmp_path / "none.csv"),
                 "--out", str(tmp_path / "r.html")]) == 2
    assert "none.csv: no such forecast file" in capsys.readouterr().err


def test_model_and_no_model_exclude_each_other(tmp_path):
    with pytest.raises(SystemExit):
        main(["report", "--model", "m.nc", "--no-model", "--out", str(tmp_path / "r.html")])


@pytest.mark.parametrize(("column", "value", "message"), [
    ("prob_gain", 1.7, r"column 'prob_gain': 1.7 is a probability and must lie in \[0, 1\]"),
    ("prob_best", -0.1, r"column 'prob_best': -0.1 is a probability"),
    ("lower", float("nan"), r"column 'lower': value is missing"),
    ("upper", float("inf"), r"column 'upper': inf is infinite"),
    ("lower", 0.5, r"column 'lower': 0.5 lies above upper"),
])
def test_forecast_numbers_that_cannot_be_reported_are_refused(tmp_path, capsys, column, value,
                                                              message):
    import re

    table = _forecast()
    table.loc[0, column] = value
    path = tmp_path / "forecast.csv"
    table.to_csv(path, index=False)
    assert main(["report", "--no-model", "--forecast", str(path),
                 "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def test_candidates_with_domain_rows_are_explained_per_dataset(tmp_path, capsys):
    from metaq.datasets import study_path

    whole = pd.read_csv(study_path("features")).assign(domain="")
    candidates = tmp_path / "candidates.csv"  # as `metaq extract --by-domain` writes them
    pd.concat([whole, whole.assign(domain="math")]).to_csv(candidates, index=False)
    out = tmp_path / "r.html"
    assert main(["report", "--candidates", str(candidates), "--out", str(out)]) == 0
    assert "Contributions" in out.read_text(encoding="utf-8")
