"""The main job (README's first command) end to end on the shipped data."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.cli import main
from metaq.demo import DEMO_TARGETS, NOT_COMPARABLE, sample_datasets


def test_sample_datasets_split_the_trace_styles(tmp_path):
    paths = sample_datasets(tmp_path)
    assert [p.stem for p in paths] == ["gsm8k_equations_only", "gsm8k_natural",
                                       "gsm8k_socratic", "marco_o1_cot"]
    for path in paths[:3]:
        assert len(pd.read_json(path, lines=True)) == 100


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "126 of 126" in printed and "54 of 54" in printed
    assert "unseen-3B" in printed and "extrapolation" in printed

    features = pd.read_csv(out / "features.csv", keep_default_na=False)
    assert sorted(features["dataset_id"]) == ["gsm8k_equations_only", "gsm8k_natural",
                                              "gsm8k_socratic", "marco_o1_cot"]
    assert features.set_index("dataset_id").loc["gsm8k_equations_only", "n_skipped"] == 1
    forecast = pd.read_csv(out / "forecast" / "forecast.csv", keep_default_na=False)
    assert set(forecast["target_model"]) == {t["name"] for t in DEMO_TARGETS}
    for metric in NOT_COMPARABLE:  # measured, but integrated over in the forecast
        assert forecast["missing_features"].str.contains(metric).all()
    ranking = pd.read_csv(out / "forecast" / "ranking.csv")
    for _, rows in ranking.groupby("target_model"):
        assert rows["prob_best"].sum() == pytest.approx(1.0, abs=1e-9)
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("summary", "drivers", "diagnostics", "caveats"):
        assert f'data-section="{section}"' in html
    assert "training standard deviations beyond the datasets" in html
    assert (out / "reference_study" / "table7_reproduced.csv").is_file()
