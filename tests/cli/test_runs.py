"""`metaq runs import-lm-eval` and `metaq runs import-csv`, in-process."""

from __future__ import annotations

import json

import pytest

from metaq.cli import main
from metaq.tables import read_runs


def results_file(path, acc: float, n: int = 250) -> None:
    path.mkdir(parents=True)
    (path / "results_2025-01-01T00-00-00.json").write_text(json.dumps({
        "results": {"arc_easy": {"acc,none": acc, "acc_stderr,none": 0.03},
                    "gsm8k": {"exact_match,strict-match": acc / 2,
                              "exact_match,flexible-extract": acc / 2 + 0.1}},
        "n-samples": {"arc_easy": {"original": n, "effective": n},
                      "gsm8k": {"original": 1319, "effective": 1319}},
    }))


def test_import_lm_eval_twice_into_one_table(tmp_path, capsys):
    results_file(tmp_path / "ft8", 0.8)
    results_file(tmp_path / "ft70", 0.9)
    results_file(tmp_path / "base8", 0.6)
    out = tmp_path / "runs.csv"
    common = ["runs", "import-lm-eval", "--dataset-id", "sft", "--family", "llama",
              "--metric", "gsm8k=exact_match,flexible-extract", "--out", str(out)]
    assert main([*common, str(tmp_path / "ft8"), "--base-model", "L-8B", "--params-b", "8",
                 "--base-results", str(tmp_path / "base8")]) == 0
    assert "2 run(s), 2 from L-8B on sft (2 with a base score)" in capsys.readouterr().out
    assert main([*common, str(tmp_path / "ft70"), "--base-model", "L-70B",
                 "--params-b", "70", "--append", str(out)]) == 0
    assert "4 run(s), 2 from L-70B on sft (0 with a base score)" in capsys.readouterr().out
    runs = read_runs(out).set_index(["base_model", "benchmark"])
    assert runs.loc[("L-8B", "gsm8k"), ["score_base", "score_ft"]].tolist() == pytest.approx(
        [0.4, 0.5])
    assert runs.loc[("L-8B", "arc_easy"), "n_items"] == 250


def test_import_csv_wide_with_base_rows(tmp_path, capsys):
    table = tmp_path / "table3.csv"
    table.write_text("# source: test\ndataset,MMLU,GSM\nVanilla,42.3,14.5\nSuperNI,49.7,4.0\n"
                     "CoT,44.2,40.0\n")
    out = tmp_path / "runs.csv"
    assert main(["runs", "import-csv", str(table), "--percent", "--map", "dataset_id=dataset",
                 "--wide", "MMLU,GSM", "--base-rows", "dataset=Vanilla",
                 "--set", "base_model=LLaMA-13B", "--set", "params_b=13",
                 "--set", "family=llama", "--out", str(out)]) == 0
    assert "4 run(s) of 2 dataset(s) x 1 model(s) x 2 benchmark(s); 0 without" in \
        capsys.readouterr().out
    runs = read_runs(out).set_index(["dataset_id", "benchmark"])
    assert runs.loc[("CoT", "GSM"), ["score_base", "score_ft"]].tolist() == pytest.approx(
        [0.145, 0.40])


def test_bad_mapping_is_one_error_line(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("dataset,score\nA,50\n")
    assert main(["runs", "import-csv", str(table), "--map", "dataset_id",
                 "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "--map: 'dataset_id' is not KEY=VALUE" in err
    assert not (tmp_path / "o.csv").exists()
