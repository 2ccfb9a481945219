"""lm-eval result layouts met in the wild: counts per metric, skipped tasks, groups without
group_subtasks, lighteval / Open LLM Leaderboard files, 0.3 MMLU, setups that differ."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from metaq.cli import main
from metaq.exceptions import ResultsReadError
from metaq.importers import import_lm_eval, read_lm_eval_results


def write(path: Path, payload: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))
    return path


def se(p: float, n: int) -> float:
    """lm-eval's standard error of a mean of n 0/1 outcomes (sample sd / sqrt(n))."""
    return math.sqrt(p * (1 - p) / (n - 1))


def glue_like(sample_count: bool) -> dict:
    """A 0.4.13+ group whose members report different metrics (cola only mcc)."""
    glue = {"acc,none": 0.7, "acc_stderr,none": "N/A", "mcc,none": 0.2, "alias": "glue"}
    if sample_count:
        glue["sample_count"] = {"acc,none": 3000, "mcc,none": 1043}
    return {
        "results": {
            "glue": glue,
            "cola": {"mcc,none": 0.2, "mcc_stderr,none": 0.03, "alias": " - cola"},
            "sst2": {"acc,none": 0.9, "acc_stderr,none": 0.01, "alias": " - sst2"},
            "mnli": {"acc,none": 0.6, "acc_stderr,none": 0.01, "alias": " - mnli"},
        },
        "group_subtasks": {"glue": ["cola", "sst2", "mnli"]},
        "n-samples": {"cola": {"original": 1043, "effective": 1043},
                      "sst2": {"original": 872, "effective": 872},
                      "mnli": {"original": 9815, "effective": 2000}},
        "higher_is_better": {"cola": {"mcc": True}, "sst2": {"acc": True}},
    }


@pytest.mark.parametrize(("sample_count", "expected"), [(True, 3000), (False, 872 + 2000)])
def test_a_groups_items_count_only_members_reporting_the_metric(tmp_path, sample_count,
                                                                   expected):
    write(tmp_path / "r.json", glue_like(sample_count))
    row = read_lm_eval_results([tmp_path]).iloc[0]
    assert (row["task"], row["metric"], row["n_items"]) == ("glue", "acc,none", expected)


def mixed_v03() -> dict:
    """0.3 layout: a task with accuracy, crows_pairs and wikitext without one, BBH."""
    return {
        "results": {
            "arc_easy": {"acc": 0.6, "acc_stderr": se(0.6, 2376), "acc_norm": 0.55,
                         "acc_norm_stderr": se(0.55, 2376)},
            "crows_pairs_english": {"likelihood_difference": 3.4,
                                    "likelihood_difference_stderr": 0.09,
                                    "pct_stereotype": 0.56, "pct_stereotype_stderr": 0.012},
            "wikitext": {"word_perplexity": 21.0, "byte_perplexity": 1.8, "bits_per_byte": 0.85},
            "bigbench_navigate": {"multiple_choice_grade": 0.5,
                                  "multiple_choice_grade_stderr": se(0.5, 1000)},
            "bigbench_date_understanding": {"multiple_choice_grade": 0.25,
                                            "multiple_choice_grade_stderr": se(0.25, 369)},
        },
        "versions": {"arc_easy": 0, "crows_pairs_english": 0, "wikitext": 1,
                     "bigbench_navigate": 0, "bigbench_date_understanding": 0},
        "config": {"model": "hf-causal", "model_args": "pretrained=EleutherAI/pythia-160m",
                   "num_fewshot": 0},
    }


def test_tasks_without_a_per_item_metric_are_skipped_and_named(tmp_path):
    write(tmp_path / "r.json", mixed_v03())
    table = read_lm_eval_results([tmp_path]).set_index("task")
    assert list(table.index) == ["arc_easy", "bigbench_navigate", "bigbench_date_understanding"]
    assert table.loc["arc_easy", "metric"] == "acc_norm,none"  # arc: the leaderboard's acc_norm
    assert table.loc["bigbench_navigate", ["metric", "n_items"]].tolist() == [
        "multiple_choice_grade,none", 1000]
    assert table.loc["arc_easy", "n_shot"] == 0
    skipped = table.attrs["skipped"]
    assert sorted(skipped) == ["crows_pairs_english", "wikitext"]
    assert "pct_stereotype" in skipped["crows_pairs_english"]
    with pytest.raises(ResultsReadError, match=r"task 'crows_pairs_english': no per-item 0/1"):
        read_lm_eval_results([tmp_path], strict=True)


def test_one_metric_for_all_tasks_and_globs(tmp_path):
    write(tmp_path / "r.json", mixed_v03())
    table = read_lm_eval_results([tmp_path], metrics="multiple_choice_grade",
                                 tasks=["bigbench_*"])
    assert table["task"].tolist() == ["bigbench_navigate", "bigbench_date_understanding"]
    assert table["n_items"].tolist() == [1000, 369]
    with pytest.raises(ResultsReadError, match=r"\['mmlu_\*'\] are not in the result files"):
        read_lm_eval_results([tmp_path], tasks=["mmlu_*"])
    # a task-specific metric beats the metric for all
    table = read_lm_eval_results([tmp_path], metrics={"*": "acc", "arc_easy": "acc_norm"},
                                 tasks=["arc_easy"])
    assert table["metric"].tolist() == ["acc_norm,none"]


def test_continuous_metrics_have_no_item_count_and_non_scores_are_refused(tmp_path):
    payload = {"results": {
        "truthfulqa_mc2": {"acc,none": 0.41, "acc_stderr,none": 0.014, "alias": "mc2"},
        "squad": {"f1,none": 0.7, "exact,none": 0.6, "exact_stderr,none": se(0.6, 500)},
        "wikitext": {"word_perplexity,none": 21.0, "sample_len": 62},
        "cola": {"mcc,none": 0.2},
        "toxic": {"score,none": 0.3}},
        "higher_is_better": {"toxic": {"score": False}}}
    write(tmp_path / "r.json", payload)
    table = read_lm_eval_results([tmp_path], metrics={"squad": "f1"}, tasks=["squad"])
    assert table["metric"].tolist() == ["f1,none"] and pd.isna(table["n_items"].iloc[0])
    for task, metric in [("wikitext", "word_perplexity"), ("cola", "mcc"), ("toxic", "score")]:
        with pytest.raises(ResultsReadError, match=f"'{metric},none' is not a score in"):
            read_lm_eval_results([tmp_path], metrics={task: metric}, tasks=[task])
    with pytest.raises(ResultsReadError, match=r"has no metric 'sample_len'"):
        read_lm_eval_results([tmp_path], metrics={"wikitext": "sample_len"}, tasks=["wikitext"])


def v040_without_group_subtasks() -> dict:
    """lm-eval 0.4.0-0.4.2: a group and its members, membership only in alias indentation."""
    return {
        "results": {
            "mmlu": {"acc,none": 0.6, "acc_stderr,none": 0.004, "alias": "mmlu"},
            "mmlu_humanities": {"acc,none": 0.55, "acc_stderr,none": 0.007,
                                "alias": " - humanities"},
            "mmlu_formal_logic": {"acc,none": 0.4, "acc_stderr,none": 0.04,
                                  "alias": "  - formal_logic"},
            "mmlu_stem": {"acc,none": 0.5, "acc_stderr,none": 0.008, "alias": " - stem"},
            "mmlu_anatomy": {"acc,none": 0.5, "acc_stderr,none": 0.04, "alias": "  - anatomy"},
            "gsm8k": {"exact_match,strict-match": 0.3, "alias": "gsm8k"},
        },
        "groups": {"mmlu": {"acc,none": 0.6}, "mmlu_humanities": {"acc,none": 0.55},
                   "mmlu_stem": {"acc,none": 0.5}},
        "n-samples": {"mmlu_formal_logic": {"original": 126, "effective": 126},
                      "mmlu_anatomy": {"original": 135, "effective": 135},
                      "gsm8k": {"original": 1319, "effective": 1319}},
    }


def test_groups_without_group_subtasks_are_not_counted_twice(tmp_path):
    write(tmp_path / "r.json", v040_without_group_subtasks())
    table = read_lm_eval_results([tmp_path]).set_index("task")
    assert list(table.index) == ["mmlu", "gsm8k"]
    assert table.loc["mmlu", "n_items"] == 126 + 135


def test_group_members_as_domains(tmp_path):
    write(tmp_path / "ft" / "r.json", v040_without_group_subtasks())
    runs = import_lm_eval([tmp_path / "ft"], dataset_id="d", base_model="m", params_b=7,
                          members_as_domains=True)
    rows = runs.set_index(["benchmark", "domain"])
    assert list(rows.index) == [("mmlu", ""), ("mmlu", "humanities"), ("mmlu", "stem"),
                                ("gsm8k", "")]
    assert rows.loc[("mmlu", "humanities"), "n_items"] == 126


def leaderboard(arc: float, shots: int = 25) -> dict:
    """Open LLM Leaderboard v1 (lighteval) details: suite|task|shots names, 'all', summaries."""
    subjects = {"abstract_algebra": (0.3, 100), "anatomy": (0.5, 135)}
    results = {f"harness|arc:challenge|{shots}": {"acc": arc - 0.03, "acc_stderr": 0.014,
                                                  "acc_norm": arc, "acc_norm_stderr": 0.014},
               "harness|truthfulqa:mc|0": {"mc1": 0.3, "mc1_stderr": 0.016, "mc2": 0.45,
                                           "mc2_stderr": 0.015},
               "all": {"acc": 0.5, "acc_norm": 0.5, "mc1": 0.3, "mc2": 0.45}}
    for name, (acc, n) in subjects.items():
        results[f"harness|hendrycksTest-{name}|5"] = {"acc": acc, "acc_stderr": se(acc, n),
                                                      "acc_norm": acc, "acc_norm_stderr": 0.05}
    summary = {f"harness|arc:challenge|{shots}": {"truncated": 0, "non_truncated": 1172},
               "harness|truthfulqa:mc|0": {"truncated": 0, "non_truncated": 817}}
    return {"config_general": {"model_name": "org/model-7b"}, "results": results,
            "versions": {"all": 0, f"harness|arc:challenge|{shots}": 0}, "summary_tasks": summary}


def test_leaderboard_files_drop_all_normalise_names_and_aggregate_mmlu(tmp_path):
    write(tmp_path / "results_2023.json", leaderboard(0.6))
    table = read_lm_eval_results([tmp_path]).set_index("task")
    assert list(table.index) == ["arc_challenge", "truthfulqa_mc", "mmlu"]  # no 'all'
    assert table.loc["arc_challenge", ["metric", "n_items", "n_shot"]].tolist() == [
        "acc_norm,none", 1172, 25]
    assert table.loc["truthfulqa_mc", ["metric", "n_items"]].tolist() == ["mc1,none", 817]
    # MMLU: the item-weighted mean of the subjects' acc, on their 235 items
    assert table.loc["mmlu", "score"] == pytest.approx((0.3 * 100 + 0.5 * 135) / 235)
    assert table.loc["mmlu", ["metric", "n_items", "n_shot"]].tolist() == ["acc,none", 235, 5]
    runs = import_lm_eval([tmp_path], dataset_id="d", params_b=7, base_results=[tmp_path],
                          members_as_domains=True)
    assert runs["base_model"].iloc[0] == "org/model-7b"  # the base's config_general
    assert set(runs.loc[runs["benchmark"] == "mmlu", "domain"]) == {"", "abstract_algebra",
                                                                   "anatomy"}


def test_v03_mmlu_subjects_become_one_benchmark_with_acc(tmp_path):
    results = {f"hendrycksTest-{s}": {"acc": p, "acc_stderr": se(p, n), "acc_norm": p + 0.02,
                                      "acc_norm_stderr": se(p + 0.02, n)}
               for s, p, n in [("anatomy", 0.4, 135), ("virology", 0.5, 166)]}
    write(tmp_path / "mmlu_5-shot.json", {"results": results, "versions": {},
                                          "config": {"num_fewshot": 5}})
    row = read_lm_eval_results([tmp_path]).iloc[0]
    assert (row["task"], row["metric"], row["n_items"], row["n_shot"]) == (
        "mmlu", "acc,none", 301, 5)
    assert row["score"] == pytest.approx((0.4 * 135 + 0.5 * 166) / 301)


def test_zero_effective_samples_is_skipped_not_recovered_from_the_stderr(tmp_path):
    write(tmp_path / "r.json", {
        "results": {"arc_easy": {"acc,none": 0.5, "acc_stderr,none": 0.02},
                    "gsm8k": {"exact_match,none": 0.3, "exact_match_stderr,none": 0.02}},
        "n-samples": {"arc_easy": {"original": 2376, "effective": 0},
                      "gsm8k": {"original": 1319, "effective": 1319}}})
    table = read_lm_eval_results([tmp_path])
    assert table["task"].tolist() == ["gsm8k"]
    assert "0 items" in table.attrs["skipped"]["arc_easy"]


def v04_run(acc: float, *, model_args: str, n_params: int, n_shot: int = 0, limit: int = 500,
            version: float = 1.0) -> dict:
    return {"results": {"asdiv": {"acc,none": acc, "acc_stderr,none": 0.02, "alias": "asdiv"}},
            "n-samples": {"asdiv": {"original": 2305, "effective": limit}},
            "n-shot": {"asdiv": n_shot}, "versions": {"asdiv": version},
            "config": {"model": "hf", "model_args": model_args,
                       "model_num_parameters": n_params}}


BASE_ARGS = "pretrained=meta-llama/Meta-Llama-3-8B-Instruct"
LORA_ARGS = BASE_ARGS + ",peft=../results/epoch_5"


def test_the_base_model_and_its_size_come_from_the_config(tmp_path):
    write(tmp_path / "ft" / "r.json", v04_run(0.9, model_args=LORA_ARGS, n_params=8043892736))
    write(tmp_path / "base" / "r.json", v04_run(0.8, model_args=BASE_ARGS, n_params=8030261248))
    runs = import_lm_eval([tmp_path / "ft"], dataset_id="d", base_results=[tmp_path / "base"])
    assert runs[["base_model", "params_b", "score_base", "score_ft"]].iloc[0].tolist() == [
        "meta-llama/Meta-Llama-3-8B-Instruct", 8.0, 0.8, 0.9]
    assert runs.attrs["inferred"] == {"base_model": "meta-llama/Meta-Llama-3-8B-Instruct",
                                      "params_b": 8.0}
    alone = import_lm_eval([tmp_path / "ft"], dataset_id="d")  # the adapter names its base
    assert alone["base_model"].iloc[0] == "meta-llama/Meta-Llama-3-8B-Instruct"
    local = v04_run(0.9, model_args="pretrained=/data/ckpt/sft", n_params=0)
    write(tmp_path / "full" / "r.json", local)
    with pytest.raises(ResultsReadError, match=r"cannot tell the base model.*--base-model"):
        import_lm_eval([tmp_path / "full"], dataset_id="d")
    with pytest.raises(ResultsReadError, match=r"cannot tell the model size.*--params-b"):
        import_lm_eval([tmp_path / "full"], dataset_id="d", base_model="m")


@pytest.mark.parametrize(("change", "message"), [
    ({"n_shot": 5}, r"few-shot examples: base 0, fine-tuned 5"),
    ({"limit": 50}, r"items \(--limit\): base 500, fine-tuned 50"),
    ({"version": 2}, r"task version: base 1.0, fine-tuned 2.0"),
])
def test_base_and_fine_tuned_evaluated_differently(tmp_path, caplog, change, message):
    write(tmp_path / "ft" / "r.json", v04_run(0.9, model_args=BASE_ARGS, n_params=8e9, **change))
    write(tmp_path / "base" / "r.json", v04_run(0.8, model_args=BASE_ARGS, n_params=8e9))
    kwargs = dict(dataset_id="d", base_model="m", params_b=8, base_results=[tmp_path / "base"])
    with pytest.raises(ResultsReadError, match=message + r".*--allow-different-setup"):
        import_lm_eval([tmp_path / "ft"], **kwargs)
    with caplog.at_level(logging.WARNING):
        runs = import_lm_eval([tmp_path / "ft"], **kwargs, allow_different_setup=True)
    assert runs["score_base"].tolist() == [0.8] and "paired anyway" in caplog.text


@pytest.mark.parametrize(("payload", "message"), [
    ({"results": {"arc_easy": 0.5}}, r"task 'arc_easy' is a float, not an object of metrics"),
    ({"results": {"arc_easy": [0.5]}}, r"task 'arc_easy' is a list"),
    ({"results": {"arc_easy": {"acc": 0.5}}, "n-samples": [1]}, r"'n-samples' is a list"),
    ({"results": {"arc_easy": {"acc": 0.5}}, "n-samples": {"arc_easy": {"effective": "x"}}},
     r"n-samples\['arc_easy'\] is .* not an item count"),
    ({"results": {"g": {"acc": 0.5}}, "group_subtasks": {"g": "arc_easy"}},
     r"group_subtasks\['g'\] is not a list of task names"),
    ({"results": {"x": {"acc": 0.5}}, "versions": "1"}, r"'versions' is a str"),
])
def test_files_of_unexpected_shape_are_one_clear_error(tmp_path, payload, message):
    write(tmp_path / "r.json", payload)
    with pytest.raises(ResultsReadError, match=message):
        read_lm_eval_results([tmp_path / "r.json"])


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"results": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ResultsReadError, match="nested too deeply"):
        read_lm_eval_results([path])


def test_cli_creates_the_out_folder_starts_a_missing_append_file_and_names_skips(tmp_path,
                                                                                  capsys):
    write(tmp_path / "ft" / "r.json", mixed_v03())
    out = tmp_path / "new" / "folder" / "runs.csv"
    assert main(["runs", "import-lm-eval", str(tmp_path / "ft"), "--dataset-id", "d",
                 "--params-b", "0.16", "--base-model", "pythia-160m",
                 "--append", str(out), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "skipped task wikitext: no per-item 0/1 metric" in captured.err
    assert "skipped 2 task(s) without a usable metric (warnings above): crows_pairs_english, " \
           "wikitext" in captured.out
    printed = captured.out
    assert "wrote " + str(out) + ": 3 run(s), 3 from pythia-160m" in printed
    assert len(pd.read_csv(out)) == 3


def test_cli_reads_the_model_from_the_config(tmp_path, capsys):
    write(tmp_path / "ft" / "r.json", v04_run(0.9, model_args=LORA_ARGS, n_params=8043892736))
    assert main(["runs", "import-lm-eval", str(tmp_path / "ft"), "--dataset-id", "d",
                 "--metric", "acc", "--out", str(tmp_path / "runs.csv")]) == 0
    printed = capsys.readouterr().out
    assert "base_model meta-llama/Meta-Llama-3-8B-Instruct read from the result files" in printed
    assert "params_b 8.0 read from the result files (override with --params-b)" in printed
