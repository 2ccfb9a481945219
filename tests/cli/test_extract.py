"""`metaq extract` and `metaq metrics` in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from metaq._paths import SAMPLES_DIR
from metaq.cli import main
from metaq.tables.features import read_features

STYLES = SAMPLES_DIR / "gsm8k_test_trace_styles.jsonl"
MARCO = SAMPLES_DIR / "marco_o1_cot.jsonl"


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
