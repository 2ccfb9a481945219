"""`metaq correlate`, in-process on tmp_path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.cli import main
from metaq.datasets import study_path


def test_defaults_run_the_study_and_print_a_summary(tmp_path, capsys):
    out = tmp_path / "rho.csv"
    assert main(["correlate", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "252 spearman tests; 0 with q < 0.05 (Benjamini-Hochberg); smallest p = 0.08333" \
        in printed
    assert "strongest for PLLuM-8B-instruct: semantic_alignment on mot_pl_eval: rho = +1.00, " \
           "p = 0.0833" in printed
    assert f"table: {out}" in printed
    table = pd.read_csv(out, keep_default_na=False, na_values={c: [""] for c in
                                                               ["rho", "p_value", "q_value"]})
    assert {"base_model", "benchmark", "domain", "metric", "rho", "p_value", "q_value"} <= set(
        table.columns)
    assert len(table) == 252 + 2 * 14
    row = table[(table["base_model"] == "Bielik-11B-v2.6-Instruct")
                & (table["benchmark"] == "mot_pl_eval") & (table["domain"] == "")
                & (table["metric"] == "validity")].iloc[0]
    assert row["rho"] == pytest.approx(1.0) and row["p_value"] == pytest.approx(1 / 12)
    assert set(table.loc[table["domain"] != "", "domain"]) == {"math", "code", "science"}


def test_pearson_logit_to_parquet(tmp_path, capsys):
    out = tmp_path / "rho.parquet"
    args = ["correlate", "--method", "pearson", "--target", "logit", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_parquet(out)
    assert (table["method"] == "pearson").all() and (table["target"] == "logit").all()
    assert "252 pearson tests" in capsys.readouterr().out


def test_own_tables_with_monte_carlo_permutations_and_figures(tmp_path, capsys, rng):
    n = 12
    ids = [f"set{i}" for i in range(n)]
    quality = rng.normal(size=n)
    pd.DataFrame({"dataset_id": ids, "quality": quality}).to_csv(tmp_path / "f.csv", index=False)
    pd.DataFrame({"dataset_id": ids, "base_model": "tiny", "params_b": 0.1, "family": "gpt2",
                  "benchmark": "toy", "score_base": 0.4,
                  "score_ft": 0.4 + 0.03 * quality}).to_csv(tmp_path / "r.csv", index=False)
    out = tmp_path / "rho.csv"
    assert main(["correlate", "--runs", str(tmp_path / "r.csv"), "--features",
                 str(tmp_path / "f.csv"), "--permutations", "499", "--seed", "3",
                 "--out", str(out), "--figures", str(tmp_path / "figs")]) == 0
    row = pd.read_csv(out).iloc[0]
    assert row["rho"] == pytest.approx(1.0)
    assert row["p_method"] == "monte_carlo:499" and row["p_value"] == pytest.approx(1 / 500)
    assert np.isfinite(row["ci_lo"]) and row["ci_method"] == "bootstrap:2000"
    printed = capsys.readouterr().out
    assert "1 spearman test; 1 with q < 0.05" in printed
    figure = tmp_path / "figs" / "heatmap_tiny_general.png"
    assert f"figure: {figure}" in printed and figure.read_bytes()[:4] == b"\x89PNG"


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    runs = pd.read_csv(study_path("runs"))
    runs.loc[3, "score_ft"] = 73.4
    runs.to_csv(tmp_path / "runs.csv", index=False)
    assert main(["correlate", "--runs", str(tmp_path / "runs.csv"),
                 "--out", str(tmp_path / "rho.csv")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("metaq correlate: error: ")
    assert "runs.csv, row 4 (line 5), column 'score_ft': 73.4 is an accuracy" in error
    assert not (tmp_path / "rho.csv").exists()


def test_unsupported_output_suffix(tmp_path, capsys):
    assert main(["correlate", "--out", str(tmp_path / "rho.xlsx")]) == 2
    assert "unknown format '.xlsx'. Fix: end the name in .csv" in capsys.readouterr().err


def test_help_shows_a_worked_example(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["correlate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "metaq correlate --out rho.csv --figures figures/" in text
    assert "--method {spearman,pearson}" in text and "--target {rel,abs,logit}" in text


def test_runs_with_no_arguments(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["correlate"]) == 0
    table = pd.read_csv(tmp_path / "outputs" / "correlations.csv", keep_default_na=False)
    assert {"base_model", "benchmark", "domain", "metric", "rho", "p_value", "q_value"} <= set(
        table.columns)
    assert "0 with q < 0.05" in capsys.readouterr().out
