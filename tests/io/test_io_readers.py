"""Dataset readers: every format, field mapping, chat records, bad-record policy."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from metaq.datasets import sample_path
from metaq.exceptions import DatasetReadError
from metaq.io import ColumnMapping, ReadStats, iter_example_batches, read_examples
from metaq.io.chat import parse_chat, split_think
from metaq.io.records import count_records, dataset_stem

RECORDS = [
    {"id": "a", "question": "What is 2+2?", "reasoning": "2+2=4.", "answer": "4",
     "domain": "math"},
    {"id": "b", "question": "Name a colour.", "reasoning": "Red is a colour.", "answer": "red",
     "domain": "other"},
    {"id": "c", "question": "What is 3*3?", "reasoning": "3*3=9.", "answer": "9",
     "domain": "math"},
]


def write_jsonl(path: Path, lines: list) -> Path:
    with path.open("wb") as handle:
        for line in lines:
            handle.write(line if isinstance(line, bytes) else json.dumps(line).encode())
            handle.write(b"\n")
    return path


def as_tuples(examples) -> list[tuple]:
    return [(e.id, e.question, e.reasoning, e.answer, e.domain) for e in examples]


EXPECTED = [(r["id"], r["question"], r["reasoning"], r["answer"], r["domain"]) for r in RECORDS]


# -- formats -------------------------------------------------------------------------------

def test_real_sample_reads_every_record_with_detected_fields(caplog) -> None:
    stats = ReadStats()
    with caplog.at_level("INFO", logger="metaq.io.reader"):
        examples = read_examples(sample_path("gsm8k_train.jsonl"), stats=stats)
    assert [r.message for r in caplog.records if "fields" in r.message] == [
        f"{sample_path('gsm8k_train.jsonl')}: fields {stats.mapping.describe()}"]
    assert len(examples) == stats.n_examples == 300
    assert stats.mapping == ColumnMapping("question", "reasoning", "answer", "domain", "id")
    first = json.loads((sample_path("gsm8k_train.jsonl")).open().readline())
    assert (examples[0].id, examples[0].reasoning) == (first["id"], first["reasoning"])
    assert examples[0].location.endswith("gsm8k_train.jsonl:1")


def test_batches_are_consecutive_and_bounded() -> None:
    batches = list(iter_example_batches(sample_path("gsm8k_train.jsonl"), batch_size=128))
    assert [len(b) for b in batches] == [128, 128, 44]


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "json", "json_wrapped", "json_columns",
                                    "parquet", "csv", "tsv"])
def test_every_file_format_gives_the_same_examples(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame(RECORDS)
    if suffix == "jsonl":
        path = write_jsonl(tmp_path / "d.jsonl", RECORDS)
    elif suffix == "jsonl.gz":
        path = tmp_path / "d.jsonl.gz"
        path.write_bytes(gzip.compress("\n".join(map(json.dumps, RECORDS)).encode()))
    elif suffix == "json":
        path = tmp_path / "d.json"
        path.write_text(json.dumps(RECORDS))
    elif suffix == "json_wrapped":
        path = tmp_path / "d.json"
        path.write_text(json.dumps({"data": RECORDS, "version": 2}))
    elif suffix == "json_columns":
        path = tmp_path / "d.json"
        path.write_text(json.dumps(frame.to_dict(orient="list")))
    elif suffix == "parquet":
        path = tmp_path / "d.parquet"
        frame.to_parquet(path)
    else:
        path = tmp_path / f"d.{suffix}"
        frame.to_csv(path, index=False, sep="\t" if suffix == "tsv" else ",",
                     quoting=csv.QUOTE_NONNUMERIC)
    assert as_tuples(read_examples(path)) == EXPECTED
    assert dataset_stem(path) == "d"


def test_saved_hf_dataset_and_load_dataset_folder(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    saved = tmp_path / "saved"
    datasets.Dataset.from_list(RECORDS).save_to_disk(str(saved))
    assert as_tuples(read_examples(saved)) == EXPECTED
    dict_saved = tmp_path / "dict_saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(RECORDS[:1]),
                          "train": datasets.Dataset.from_list(RECORDS)}).save_to_disk(
        str(dict_saved))
    assert as_tuples(read_examples(dict_saved)) == EXPECTED  # train by default
    assert as_tuples(read_examples(dict_saved, split="test")) == EXPECTED[:1]
    with pytest.raises(DatasetReadError,
                       match=r"split 'dev' not found; it has splits \['test', 'train'\]"):
        read_examples(dict_saved, split="dev")
    folder = tmp_path / "folder"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", RECORDS)
    assert as_tuples(read_examples(folder)) == EXPECTED


def test_unknown_format_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "d.xml").write_text("<a/>")
    with pytest.raises(DatasetReadError, match=r"unknown dataset format '\.xml'.*\.jsonl"):
        read_examples(tmp_path / "d.xml")
    with pytest.raises(DatasetReadError, match="no such file"):
        read_examples(tmp_path / "nope.jsonl")


def test_count_records(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [*RECORDS, b"", b"{bad"])
    assert count_records(path) == 4
    pd.DataFrame(RECORDS).to_parquet(tmp_path / "d.parquet")
    assert count_records(tmp_path / "d.parquet") == 3
    assert count_records(tmp_path) is None


# -- field mapping ---------------------------------------------------------------------------

def test_auto_detection_of_common_names(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"Prompt": "Q1", "rationale": "R1", "output": "A1", "category": "c", "uid": 7}])
    stats = ReadStats()
    (example,) = read_examples(path, stats=stats)
    assert (example.id, example.question, example.reasoning, example.answer, example.domain) == (
        "7", "Q1", "R1", "A1", "c")
    assert stats.mapping.describe() == (
        "question=Prompt,reasoning=rationale,answer=output,domain=category,id=uid")


def test_explicit_mapping_wins_and_missing_id_falls_back(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"question": "decoy", "problem": "Q", "cot": "R", "answer": "A"}])
    mapping = ColumnMapping.parse("question=problem, reasoning=cot")
    (example,) = read_examples(path, mapping=mapping)
    assert (example.id, example.question, example.reasoning) == ("d:1", "Q", "R")


def test_mapping_parse_rejects_unknown_parts() -> None:
    with pytest.raises(DatasetReadError, match=r"bad column mapping item 'thought=x'"):
        ColumnMapping.parse("thought=x")


# -- chat records ----------------------------------------------------------------------------

def test_split_think_variants() -> None:
    assert split_think("<think>\nstep 1\n</think>\n\nAnswer: 4") == ("step 1", "Answer: 4")
    assert split_think("step 1</think>Answer") == ("step 1", "Answer")  # opening tag in prompt
    assert split_think("Sure.<think>unfinished") == ("unfinished", "Sure.")
    assert split_think("<think>a</think>x<think>b</think>y") == ("a\n\nb", "xy")


def test_chat_records_with_think_and_with_separate_reasoning(tmp_path: Path) -> None:
    openai_style = write_jsonl(tmp_path / "openai.jsonl", [
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "What is 2+2?"},
                      {"role": "assistant", "content": "<think>2+2 is 4.</think>\n4"}]}])
    sharegpt = write_jsonl(tmp_path / "sharegpt.jsonl", [
        {"conversations": [{"from": "human", "value": "Hi?"},
                           {"from": "gpt", "value": "Hello.", "reasoning_content": "Greet."}]}])
    assert [(e.question, e.reasoning, e.answer) for e in read_examples(openai_style)] == [
        ("What is 2+2?", "2+2 is 4.", "4")]
    assert [(e.question, e.reasoning, e.answer) for e in read_examples(sharegpt)] == [
        ("Hi?", "Greet.", "Hello.")]


def test_record_level_reasoning_field_wins_over_chat(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "chat.jsonl", [
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
         "reasoning_content": "R"}])
    (example,) = read_examples(path)
    assert (example.question, example.reasoning, example.answer) == ("Q", "R", "A")


def test_parse_chat_multi_turn_takes_last_user_turn() -> None:
    (turns,) = parse_chat([{"role": "user", "content": "first"},
                           {"role": "assistant", "content": "ok"},
                           {"role": "user", "content": "second"},
                           {"role": "assistant", "content": "<think>t</think>done"}])
    assert (turns.question, turns.reasoning, turns.answer) == ("second", "t", "done")


# -- bad records -----------------------------------------------------------------------------

BAD_CASES = {
    "invalid_json": b'{"question": "Q", "reasoning": ',
    "not_utf8": b'{"question": "Q\xff", "reasoning": "R"}',
    "not_an_object": b'["Q", "R"]',
    "missing_field": {"question": "Q", "answer": "A"},
    "bad_type": {"question": "Q", "reasoning": {"text": "R"}},
    "bad_chat": {"messages": [{"role": "user", "content": "only a question"}]},
    "empty_reasoning": {"question": "Q", "reasoning": "   "},
}


@pytest.mark.parametrize("reason", sorted(BAD_CASES))
def test_bad_record_stops_with_file_line_and_fix(tmp_path: Path, reason: str) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [RECORDS[0], BAD_CASES[reason], RECORDS[1]])
    if reason == "bad_chat":
        path = write_jsonl(tmp_path / "d.jsonl", [
            {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant",
                                                             "content": "<think>R</think>A"}]},
            BAD_CASES[reason]])
    with pytest.raises(DatasetReadError) as err:
        read_examples(path)
    message = str(err.value)
    assert f"{path}:2: {reason.replace('_', ' ')}" in message
    assert "Fix:" in message


@pytest.mark.parametrize("reason", sorted(BAD_CASES))
def test_bad_record_skipped_and_counted(tmp_path: Path, reason: str, caplog) -> None:
    if reason == "bad_chat":
        good = {"messages": [{"role": "user", "content": "Q"},
                             {"role": "assistant", "content": "<think>R</think>A"}]}
        path = write_jsonl(tmp_path / "d.jsonl", [good, BAD_CASES[reason], good])
    else:
        path = write_jsonl(tmp_path / "d.jsonl", [RECORDS[0], BAD_CASES[reason], RECORDS[1]])
    stats = ReadStats()
    examples = read_examples(path, on_error="skip", stats=stats)
    assert len(examples) == stats.n_examples == 2
    assert dict(stats.skipped) == {reason: 1}
    assert f"{path}:2" in caplog.text


def test_a_50_mb_line_is_a_bad_record_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as handle:
        handle.write(json.dumps(RECORDS[0]).encode() + b"\n")
        handle.write(b'{"question": "Q", "reasoning": "' + b"x" * (50 * 1024 * 1024) + b'"}\n')
        handle.write(json.dumps(RECORDS[1]).encode() + b"\n")
    with pytest.raises(DatasetReadError, match=r"big\.jsonl:2: too long: the line has "
                                               r"52,428,834 bytes"):
        read_examples(path)
    stats = ReadStats()
    examples = read_examples(path, on_error="skip", stats=stats)
    assert [e.id for e in examples] == ["a", "b"]
    assert [e.location.rsplit(":", 1)[1] for e in examples] == ["1", "3"]
    assert dict(stats.skipped) == {"too_long": 1}


def test_real_sample_empty_reasoning_row(caplog) -> None:
    path = sample_path("gsm8k_test_trace_styles.jsonl")
    with pytest.raises(DatasetReadError, match=r"trace_styles\.jsonl:117: empty reasoning"):
        read_examples(path)
    stats = ReadStats()
    examples = read_examples(path, on_error="skip", stats=stats)
    assert (len(examples), dict(stats.skipped)) == (299, {"empty_reasoning": 1})
    assert "gsm8k-test-0499-equations" not in {e.id for e in examples}


def test_invalid_policy_and_broken_json_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", RECORDS)
    with pytest.raises(DatasetReadError, match="on_error='ignore' is not a policy"):
        read_examples(path, on_error="ignore")
    broken = tmp_path / "d.json"
    broken.write_text('[{"question": "Q",\n "reasoning": }]')
    with pytest.raises(DatasetReadError, match=r"d\.json:2: invalid JSON"):
        read_examples(broken)
