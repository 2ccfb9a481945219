"""lm-eval result files (recent 0.4 and older 0.3 layouts) -> runs rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from metaq.exceptions import ResultsReadError, SchemaError
from metaq.importers import import_lm_eval, read_lm_eval_results
from metaq.tables import read_runs


def recent_layout(arc_acc: float, gsm_strict: float, date: float = 1.7e9) -> dict:
    """A results file as lm-eval 0.4 writes it, with a group (mmlu) and a --limit run."""
    return {
        "results": {
            "arc_challenge": {"alias": "arc_challenge", "acc,none": arc_acc,
                              "acc_stderr,none": 0.013, "acc_norm,none": arc_acc + 0.02,
                              "acc_norm_stderr,none": 0.014},
            "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": gsm_strict,
                      "exact_match_stderr,strict-match": 0.012,
                      "exact_match,flexible-extract": gsm_strict + 0.05,
                      "exact_match_stderr,flexible-extract": 0.012},
            "mmlu": {"alias": "mmlu", "acc,none": 0.6, "acc_stderr,none": "N/A"},
            "mmlu_anatomy": {"alias": " - anatomy", "acc,none": 0.5,
                             "acc_stderr,none": 0.04},
            "mmlu_virology": {"alias": " - virology", "acc,none": 0.7,
                              "acc_stderr,none": 0.04},
        },
        "groups": {"mmlu": {"alias": "mmlu", "acc,none": 0.6, "acc_stderr,none": "N/A"}},
        "group_subtasks": {"mmlu": ["mmlu_anatomy", "mmlu_virology"], "arc_challenge": [],
                           "gsm8k": []},
        "configs": {"arc_challenge": {"task": "arc_challenge", "num_fewshot": 0}},
        "versions": {"arc_challenge": 1.0, "gsm8k": 3.0, "mmlu": 2},
        "n-samples": {"arc_challenge": {"original": 1172, "effective": 1172},
                      "gsm8k": {"original": 1319, "effective": 500},
                      "mmlu_anatomy": {"original": 135, "effective": 135},
                      "mmlu_virology": {"original": 166, "effective": 166}},
        "config": {"model": "hf", "model_args": "pretrained=/ckpt/sft", "limit": None},
        "model_name": "/ckpt/sft",
        "date": date,
    }


def older_layout(hellaswag_norm: float, stderr: float) -> dict:
    """A results file as lm-eval 0.3 wrote it: no filter suffix, no n-samples."""
    return {
        "results": {"hellaswag": {"acc": hellaswag_norm - 0.1, "acc_stderr": 0.005,
                                  "acc_norm": hellaswag_norm, "acc_norm_stderr": stderr}},
        "versions": {"hellaswag": 0},
        "config": {"model": "hf-causal", "model_args": "pretrained=/ckpt/sft",
                   "num_fewshot": 0, "limit": None},
    }


def write(path: Path, payload: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))
    return path


def test_recent_layout_default_metrics_counts_and_groups(tmp_path):
    write(tmp_path / "sft" / "model" / "results_2025-01-01T00-00-00.json",
          recent_layout(0.50, 0.30))
    table = read_lm_eval_results([tmp_path / "sft"]).set_index("task")
    assert list(table.index) == ["arc_challenge", "gsm8k", "mmlu"]  # subtasks left out
    assert table.loc["arc_challenge", "metric"] == "acc_norm,none"  # acc_norm before acc
    assert table.loc["arc_challenge", "score"] == pytest.approx(0.52)
    assert table.loc["gsm8k", "metric"] == "exact_match,strict-match"
    assert table.loc["gsm8k", "n_items"] == 500  # effective (after --limit), not original
    assert table.loc["mmlu", "n_items"] == 135 + 166  # group: sum over its subtasks
    assert pd.isna(table.loc["mmlu", "stderr"])  # "N/A" is no number


def test_configured_metric_and_explicit_subtasks(tmp_path):
    write(tmp_path / "r.json", recent_layout(0.50, 0.30))
    table = read_lm_eval_results(
        [tmp_path / "r.json"], tasks=["gsm8k", "mmlu_anatomy"],
        metrics={"gsm8k": "exact_match,flexible-extract", "mmlu_anatomy": "acc"},
    ).set_index("task")
    assert table.loc["gsm8k", "score"] == pytest.approx(0.35)
    assert table.loc["mmlu_anatomy", ["score", "n_items"]].tolist() == [0.5, 135]


def test_older_layout_recovers_items_from_the_standard_error(tmp_path):
    # p = 0.6 on n = 1001 items: se = sqrt(p (1-p) / (n - 1)) = sqrt(0.24 / 1000)
    write(tmp_path / "old.json", older_layout(0.6, (0.24 / 1000) ** 0.5))
    row = read_lm_eval_results([tmp_path]).iloc[0]
    assert (row["task"], row["metric"], row["score"]) == ("hellaswag", "acc_norm,none", 0.6)
    assert row["n_items"] == 1001


def test_newest_file_wins_for_a_repeated_task(tmp_path):
    write(tmp_path / "a" / "results_old.json", recent_layout(0.40, 0.30, date=1.0e9))
    write(tmp_path / "b" / "results_new.json", recent_layout(0.45, 0.30, date=2.0e9))
    table = read_lm_eval_results([tmp_path / "b", tmp_path / "a"]).set_index("task")
    assert table.loc["arc_challenge", "score"] == pytest.approx(0.47)
    assert table.loc["arc_challenge", "source"].endswith("results_new.json")


def test_import_pairs_with_base_and_appends_to_the_study(tmp_path):
    from metaq.datasets import study_path

    write(tmp_path / "ft" / "results.json", recent_layout(0.50, 0.30))
    write(tmp_path / "base" / "results.json", recent_layout(0.40, 0.20))
    runs = import_lm_eval([tmp_path / "ft"], dataset_id="my_sft", base_model="tiny-1b",
                          params_b=1.0, family="llama", base_results=[tmp_path / "base"],
                          append=study_path("runs"))
    study = read_runs(study_path("runs"))
    assert len(runs) == len(study) + 3
    new = runs[runs["dataset_id"] == "my_sft"].set_index("benchmark")
    # same metric (acc_norm) on both sides: 0.40 + 0.02 and 0.50 + 0.02
    assert new.loc["arc_challenge", ["score_base", "score_ft"]].tolist() == pytest.approx(
        [0.42, 0.52])
    assert new.loc["gsm8k", ["score_base", "score_ft"]].tolist() == pytest.approx([0.2, 0.3])
    assert new["n_items"].tolist() == [1172, 500, 301]


def test_missing_base_task_leaves_score_base_missing(tmp_path):
    write(tmp_path / "ft" / "results.json", recent_layout(0.50, 0.30))
    write(tmp_path / "base" / "results.json", older_layout(0.6, 0.01))
    runs = import_lm_eval([tmp_path / "ft"], dataset_id="d", base_model="m", params_b=1,
                          base_results=[tmp_path / "base"])
    assert runs["score_base"].isna().all() and len(runs) == 3


def test_importing_the_same_run_twice_is_refused(tmp_path):
    write(tmp_path / "ft" / "results.json", recent_layout(0.50, 0.30))
    kwargs = dict(dataset_id="d", base_model="m", params_b=1.0)
    import_lm_eval([tmp_path / "ft"], **kwargs).to_csv(tmp_path / "runs.csv", index=False)
    with pytest.raises(SchemaError, match="duplicate run row"):
        import_lm_eval([tmp_path / "ft"], **kwargs, append=tmp_path / "runs.csv")


def test_errors_name_the_file_task_and_fix(tmp_path):
    path = write(tmp_path / "r.json", recent_layout(0.5, 0.3))
    with pytest.raises(ResultsReadError, match=r"task 'gsm8k': has no metric 'acc'.*--metric"):
        read_lm_eval_results([path], metrics={"gsm8k": "acc"})
    with pytest.raises(ResultsReadError, match=r"\['winogrande'\] are not in the result files"):
        read_lm_eval_results([path], tasks=["winogrande"])
    write(tmp_path / "ppl" / "r.json", {"results": {"wikitext": {"word_perplexity,none": 9.1}}})
    with pytest.raises(ResultsReadError, match=r"no task could be imported \(wikitext: no "
                                               r"per-item 0/1 metric.*word_perplexity"):
        read_lm_eval_results([tmp_path / "ppl"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsReadError, match="no lm-eval result file"):
        read_lm_eval_results([tmp_path / "empty"])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ResultsReadError, match="bad.json: cannot be read as JSON"):
        read_lm_eval_results([tmp_path / "bad.json"])
