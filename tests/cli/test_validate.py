"""`metaq validate`, in-process on small simulated tables."""

from __future__ import annotations

import pandas as pd
import pytest

from metaq.cli import main
from metaq.modeling.simulate import simulate_runs


def test_validate_writes_the_report_folder(tmp_path, capsys):
    sim = simulate_runs(n_datasets=4, params_b=(1.0, 8.0), n_tasks=2, random_seed=2)
    sim.runs.to_csv(tmp_path / "runs.csv", index=False)
    sim.features.to_csv(tmp_path / "features.csv", index=False)
    out = tmp_path / "report"
    assert main(["validate", "--runs", str(tmp_path / "runs.csv"),
                 "--features", str(tmp_path / "features.csv"), "--scheme", "loo-size",
                 "--models", "no_feature,ridge", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "loo-size on" in printed and "(outcome: delta_abs)" in printed
    assert "ridge" in printed and f"wrote {out}/" in printed and "coverage_90_lo" in printed
    scores = pd.read_csv(out / "scores.csv")
    assert scores["model"].tolist() == ["no_feature", "ridge"]
    assert (scores["n_runs"] == len(sim.runs)).all()
    assert (out / "calibration.png").stat().st_size > 0


def test_unknown_model_is_one_error_line(tmp_path, capsys):
    assert main(["validate", "--models", "hierarchical,lasso", "--out", str(tmp_path)]) == 2
    assert "unknown model(s) ['lasso']" in capsys.readouterr().err


def test_loo_study_without_a_study_column_names_the_flag(tmp_path, capsys):
    sim = simulate_runs(n_datasets=3, params_b=(1.0, 8.0), n_tasks=1, random_seed=2)
    sim.runs.to_csv(tmp_path / "runs.csv", index=False)
    sim.features.to_csv(tmp_path / "features.csv", index=False)
    assert main(["validate", "--runs", str(tmp_path / "runs.csv"), "--features",
                 str(tmp_path / "features.csv"), "--scheme", "loo-study", "--models",
                 "no_feature", "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert "--scheme loo-study" in err and "'study' column" in err and "--runs" in err


@pytest.mark.slow
def test_loo_study_end_to_end_with_the_hierarchical_model(tmp_path, capsys):
    sim = simulate_runs(n_datasets=4, params_b=(1.0, 8.0), n_tasks=2, n_studies=2,
                        protocol_sd=0.3, random_seed=6)
    sim.runs.to_csv(tmp_path / "runs.csv", index=False)
    sim.features.to_csv(tmp_path / "features.csv", index=False)
    out = tmp_path / "v"
    assert main(["validate", "--runs", str(tmp_path / "runs.csv"), "--features",
                 str(tmp_path / "features.csv"), "--scheme", "loo-study", "--models",
                 "hierarchical,two_way", "--draws", "100", "--tune", "100", "--chains", "1",
                 "--out", str(out)]) == 0
    assert "loo-study on" in capsys.readouterr().out
    predictions = pd.read_csv(out / "predictions.csv")
    assert set(predictions["fold"]) == {"study=study0", "study=study1"}
    assert (predictions.groupby("model").size() == len(sim.runs)).all()
    assert predictions["sd"].notna().all()
