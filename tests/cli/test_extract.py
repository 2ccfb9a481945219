"""`metaq extract` and `metaq metrics` in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from metaq.cli import main
from metaq.datasets import sample_path
from metaq.tables.features import read_features

STYLES = sample_path("gsm8k_test_trace_styles.jsonl")
MARCO = sample_path("marco_o1_cot.jsonl")


def test_extract_writes_one_row_per_dataset_with_exact_names(tmp_path: Path, capsys) -> None:
    out = tmp_path / "features.csv"
    code = main(["-q", "extract", str(STYLES), str(MARCO), "--metrics",
                 "redundancy_ratio,symbolic_fraction,reasoning_chars", "--out", str(out),
                 "--dataset-id", "styles", "--dataset-id", "marco", "--on-error", "skip",
                 "--cache", str(tmp_path / "cache")])
    assert code == 0
    table = read_features(out)
    assert table["dataset_id"].tolist() == ["styles", "marco"]
    for metric in ("redundancy_ratio", "symbolic_fraction", "reasoning_chars"):
        assert {metric, f"{metric}__se"} <= set(table.columns)
    assert table["n_examples"].tolist() == [299, 125]
    printed = capsys.readouterr().out
    assert "styles: 299 examples, 1 skipped" in printed
    assert f"wrote {out}" in printed


def test_extract_by_domain_parquet_and_cache_reuse(tmp_path: Path) -> None:
    args = ["-q", "extract", str(MARCO), "--metrics", "text,syntax", "--by-domain",
            "--out", str(tmp_path / "f.parquet"), "--cache", str(tmp_path / "cache")]
    assert main(args) == 0
    first = pd.read_parquet(tmp_path / "f.parquet")
    assert first["domain"].tolist() == ["", "code", "math", "other"]
    assert "syntactic_depth" not in first.columns  # no spaCy pipeline here: skipped, said why
    assert "not installed" in first.loc[0, "meta__syntax_skipped"]
    assert main(args) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), first)


def test_bad_record_stops_with_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    code = main(["-q", "extract", str(STYLES), "--metrics", "reasoning_chars",
                 "--out", str(tmp_path / "f.csv"), "--no-cache"])
    assert code == 2
    err = capsys.readouterr().err
    assert "gsm8k_test_trace_styles.jsonl:117: empty reasoning" in err
    assert "--on-error skip" in err
    assert not (tmp_path / "f.csv").exists()


def test_column_mapping_and_chat_records(tmp_path: Path) -> None:
    data = tmp_path / "chat.jsonl"
    data.write_text("\n".join(json.dumps({"conv": [
        {"role": "user", "content": f"What is {i}+{i}?"},
        {"role": "assistant", "content": f"<think>{i}+{i}={2 * i}</think>{2 * i}"}]})
        for i in range(1, 4)) + "\n")
    out = tmp_path / "f.csv"
    assert main(["-q", "extract", str(data), "--columns", "chat=conv", "--metrics",
                 "reasoning_chars,answer_in_reasoning", "--out", str(out), "--no-cache"]) == 0
    table = read_features(out)
    assert table.loc[0, "reasoning_chars"] == pytest.approx(5.0)  # "1+1=2", "2+2=4", "3+3=6"
    assert table.loc[0, "answer_in_reasoning"] == 1.0
    assert table.loc[0, "meta__columns"] == "chat=conv"


def test_unknown_metric_and_bad_out_suffix(tmp_path: Path, capsys) -> None:
    assert main(["-q", "extract", str(MARCO), "--metrics", "symbolic_fractoin",
                 "--out", str(tmp_path / "f.csv")]) == 2
    assert "Did you mean 'symbolic_fraction'" in capsys.readouterr().err
    assert main(["-q", "extract", str(MARCO), "--out", str(tmp_path / "f.txt")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err


def test_help_has_a_worked_example(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = capsys.readouterr().out
    assert "metaq extract data/samples/gsm8k_train.jsonl" in text
    assert "--judge-aggregation" in text and "--embedding-model" in text


def test_metrics_lists_extractors_needs_and_availability(capsys) -> None:
    assert main(["metrics"]) == 0
    text = capsys.readouterr().out
    assert "redundancy: " in text and "metrics:   redundancy_ratio" in text
    assert "embedding: " in text and "semantic_alignment, semantic_flow" in text
    assert "pip install 'metaq[embed]'" in text
    assert "available: yes" in text
    assert "group text: " in text


def test_model_backend_engine_runs_locally_and_unused_options_are_named(tmp_path: Path,
                                                                         capsys) -> None:
    out = tmp_path / "f.csv"
    assert main(["extract", str(MARCO), "--metrics", "redundancy_ratio", "--engine", "vllm",
                 "--lm", "some/model", "--out", str(out), "--no-cache"]) == 0
    assert read_features(out).loc[0, "n_examples"] == 125
    assert ("['engine', 'lm'] are not used by the selected extractors ['redundancy']"
            in capsys.readouterr().err)


def test_one_mapping_per_path_and_append_to_a_table(tmp_path: Path, capsys) -> None:
    puzzles = tmp_path / "puzzles.jsonl"
    puzzles.write_text(json.dumps({"puzzle": "Who lies?", "completion":
                                   "<think>A says B lies.</think><answer>A</answer>"}) + "\n")
    alpaca = tmp_path / "alpaca.json"
    alpaca.write_text(json.dumps([{"instruction": "Add.", "input": "2 and 3",
                                   "output": "2 + 3 = 5"}]))
    out = tmp_path / "features.csv"
    assert main(["-q", "extract", str(puzzles), str(alpaca), "--metrics", "reasoning_chars",
                 "--columns", "question=puzzle", "--columns", "reasoning=output",
                 "--no-cache", "--out", str(out)]) == 0
    table = read_features(out).set_index("dataset_id")
    assert table.loc["puzzles", "reasoning_chars"] == len("A says B lies.")
    assert table.loc["alpaca", "reasoning_chars"] == len("2 + 3 = 5")
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"question": "Q", "reasoning": "four"}) + "\n")
    assert main(["-q", "extract", str(more), "--metrics", "reasoning_chars", "--no-cache",
                 "--append", str(out), "--out", str(out)]) == 0
    assert read_features(out)["dataset_id"].tolist() == ["puzzles", "alpaca", "more"]
    assert main(["-q", "extract", str(more), "--metrics", "reasoning_chars", "--no-cache",
                 "--append", str(out), "--out", str(out)]) == 2
    assert "already holds dataset(s) ['more']" in capsys.readouterr().err
    assert main(["-q", "extract", str(more), str(alpaca), "--columns", "question=q",
                 "--columns", "question=q", "--columns", "question=q", "--no-cache",
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "3 column mappings for 2 path(s)" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "message"), [
    ("", "holds no records"),
    ('{"question": "Q", "answer": "A"}\n{"question": "R", "answer": "B"}\n',
     r"no usable record; all 2 were skipped \(2 missing_field\)"),
])
def test_a_dataset_without_usable_records_is_an_error_not_a_nan_row(tmp_path: Path, capsys,
                                                                   content, message) -> None:
    import re

    data = tmp_path / "d.jsonl"
    data.write_text(content)
    out = tmp_path / "f.csv"
    assert main(["-q", "extract", str(data), "--on-error", "skip", "--no-cache",
                 "--out", str(out)]) == 2
    assert re.search(message, capsys.readouterr().err) and not out.exists()


def test_inspect_shows_the_mapping_and_each_records_parse(tmp_path: Path, capsys) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"problem": "P", "solution": "worked " * 40, "answer": "5"})
                    + "\n" + json.dumps({"problem": "P2"}) + "\n")
    assert main(["inspect", str(data), "--width", "20"]) == 0
    captured = capsys.readouterr()
    assert "fields" not in captured.err  # the mapping is printed once, not logged beside it
    lines = captured.out.splitlines()
    assert lines[0] == f"{data}: fields question=problem,reasoning=solution,answer=answer"
    assert lines[3] == "  question  P"
    assert lines[4] == "  reasoning worked worked worked ... (280 chars)"
    assert lines[-1].startswith(f"{data}:2: bad record: missing field: no reasoning")
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["inspect", str(tmp_path / "empty.jsonl")]) == 2
