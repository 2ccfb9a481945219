"""Reasoning-data layouts as published: trace markers in any field, content parts, turns,
Alpaca, MATH solutions, generation lists, and records that must be refused."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from metaq.exceptions import DatasetReadError
from metaq.io import ColumnMapping, ReadStats, read_examples
from metaq.io.chat import split_trace

THOUGHT = "First, 12 / 3 = 4.\nThen 4 + 1 = 5."


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def parts(examples) -> list[tuple[str, str, str]]:
    return [(e.question, e.reasoning, e.answer) for e in examples]


@pytest.mark.parametrize(("text", "expected"), [
    (f"<|begin_of_thought|>\n\n{THOUGHT}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
     f"The answer is 5.\n\n<|end_of_solution|>", (THOUGHT, "The answer is 5.")),
    (f"<Thought>\n{THOUGHT}\n</Thought>\n<Output>\n5\n</Output>", (THOUGHT, "5")),
    (f"<think>\n{THOUGHT}\n</think>\n<answer>A: knight, B: knave</answer>",
     (THOUGHT, "A: knight, B: knave")),
    (f"{THOUGHT}</think>5", (THOUGHT, "5")),  # the opening tag was in the prompt
    ("no markers at all", ("", "no markers at all")),
])
def test_split_trace_styles(text, expected):
    assert split_trace(text) == expected


def test_openthoughts_sharegpt_with_begin_of_thought(tmp_path):
    record = {"system": "You are...", "conversations": [
        {"from": "user", "value": "What is 12/3 + 1?"},
        {"from": "assistant", "value": f"<|begin_of_thought|>{THOUGHT}<|end_of_thought|>"
                                       f"<|begin_of_solution|>5<|end_of_solution|>"}]}
    examples = read_examples(write_jsonl(tmp_path / "ot.jsonl", [record]))
    assert parts(examples) == [("What is 12/3 + 1?", THOUGHT, "5")]


def test_markers_inside_a_flat_field_are_not_counted_as_reasoning(tmp_path):
    records = [{"puzzle": "Who is a knight?",
                "completion": f"<think>\n{THOUGHT}\n</think>\n<answer>A</answer>"}]
    path = write_jsonl(tmp_path / "logic.jsonl", records)
    stats = ReadStats()
    examples = read_examples(path, mapping=ColumnMapping(question="puzzle"), stats=stats)
    assert parts(examples) == [("Who is a knight?", THOUGHT, "A")]
    assert stats.mapping.reasoning == "completion"  # found by its markers
    marco = write_jsonl(tmp_path / "marco.jsonl", [
        {"instruction": "Is it true?", "response": f"<Thought>{THOUGHT}</Thought><Output>yes"
                                                   f"</Output>"}])
    assert parts(read_examples(marco)) == [("Is it true?", THOUGHT, "yes")]
    explicit = read_examples(marco, mapping=ColumnMapping(question="instruction",
                                                          reasoning="response"))
    assert explicit[0].reasoning == THOUGHT  # a mapped field is split too


def test_sky_t1_generation_lists_give_one_example_each(tmp_path):
    generation = f"<|begin_of_thought|>{THOUGHT}<|end_of_thought|><|begin_of_solution|>" \
                 f"\\boxed{{5}}<|end_of_solution|>"
    record = {"idx": 7, "question": "What is 12/3 + 1?", "solution": "12/3 + 1 = 5",
              "answer": "5", "code": [generation, generation.replace("First", "So")]}
    examples = read_examples(write_jsonl(tmp_path / "skyt1.jsonl", [record]))
    assert [e.id for e in examples] == ["7#1", "7#2"]
    # the generation's own solution is the answer, not the reference answer field
    assert examples[0].reasoning == THOUGHT and examples[0].answer == "\\boxed{5}"
    assert examples[1].reasoning.startswith("So, 12 / 3")
    truncated = write_jsonl(tmp_path / "cut.jsonl", [
        {**record, "code": [f"<|begin_of_thought|>{THOUGHT} and then"]}])
    (cut,) = read_examples(truncated)  # a generation cut off before its solution
    assert (cut.reasoning, cut.answer) == (f"{THOUGHT} and then", "")
    bad = write_jsonl(tmp_path / "bad.jsonl", [{**record, "code": [generation, 3]}])
    with pytest.raises(DatasetReadError, match=r"bad type: the reasoning field 'code' holds a "
                                               r"list of int, str"):
        read_examples(bad)


def test_math_solution_is_the_trace_and_answer_the_answer(tmp_path):
    record = {"problem": "Compute 2+3.", "solution": "2+3 = \\boxed{5}.", "answer": "5",
              "subject": "Algebra", "level": 1}
    stats = ReadStats()
    examples = read_examples(write_jsonl(tmp_path / "math.jsonl", [record]), stats=stats)
    assert parts(examples) == [("Compute 2+3.", "2+3 = \\boxed{5}.", "5")]
    assert examples[0].domain == "Algebra"
    unsolved = write_jsonl(tmp_path / "aime.jsonl", [{**record, "solution": ""}])
    with pytest.raises(DatasetReadError, match="the reasoning field 'solution' is empty"):
        read_examples(unsolved)
    assert stats.mapping.describe() == ("question=problem,reasoning=solution,answer=answer,"
                                        "domain=subject")


def test_alpaca_input_joins_the_instruction_and_no_trace_is_named(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([
        {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
        {"instruction": "Say hi.", "input": "", "output": "Hi!"}]))
    with pytest.raises(DatasetReadError, match=r"no reasoning: an Alpaca record.*Fix: to measure "
                                               r"the outputs as traces map --columns "
                                               r"reasoning=output"):
        read_examples(path)
    examples = read_examples(path, mapping=ColumnMapping(reasoning="output"))
    assert [e.question for e in examples] == ["Translate to French.\n\nGood morning", "Say hi."]


def test_content_parts_messages(tmp_path):
    factory = {"messages": [
        {"role": "system", "content": [{"type": "text", "value": "Use tools."}]},
        {"role": "user", "content": [{"type": "text", "value": "Schools near 40, -75?"}]},
        {"role": "assistant", "content": [{"type": "reasoning", "value": THOUGHT},
                                          {"type": "text", "value": "I cannot look that up."}]}]}
    openai = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "What is 12/3 + 1?"},
                                     {"type": "image_url", "image_url": {"url": "x.png"}}]},
        {"role": "assistant", "content": [{"type": "text", "text": f"<think>{THOUGHT}</think>5"}]}]}
    examples = read_examples(write_jsonl(tmp_path / "parts.jsonl", [factory, openai]))
    assert parts(examples) == [("Schools near 40, -75?", THOUGHT, "I cannot look that up."),
                               ("What is 12/3 + 1?", THOUGHT, "5")]


def test_traces_in_earlier_assistant_turns(tmp_path):
    chat = {"id": "c1", "messages": [
        {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "<think>R1</think>A1"},
        {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "<think>R2</think>A2"},
        {"role": "user", "content": "thanks"}, {"role": "assistant", "content": "You're welcome"}]}
    path = write_jsonl(tmp_path / "multi.jsonl", [chat])
    with pytest.raises(DatasetReadError, match=r"final assistant turn has no reasoning, but "
                                               r"earlier assistant turns do.*--chat-turns each"):
        read_examples(path)
    examples = read_examples(path, mapping=ColumnMapping(turns="each"))
    assert [(e.id, e.question, e.reasoning, e.answer) for e in examples] == [
        ("c1#2", "Q1", "R1", "A1"), ("c1#4", "Q2", "R2", "A2")]


def test_chat_without_any_reasoning_says_where_it_looked(tmp_path):
    chat = {"messages": [{"role": "user", "content": "hi"},
                         {"role": "assistant", "content": [{"type": "text", "value": "Hello"}]}]}
    with pytest.raises(DatasetReadError, match=r"empty reasoning: the final assistant turn has "
                                               r"no reasoning \(no reasoning_content field"):
        read_examples(write_jsonl(tmp_path / "c.jsonl", [chat]))


@pytest.mark.parametrize(("line", "reason", "detail"), [
    ('{"question": "Q", "reasoning": NaN}', "missing_field", "no reasoning"),
    ('{"question": "Q", "reasoning": "a\\ud800b"}', "not_utf8", "lone surrogate"),
    ('{"question": "Q", "reasoning": ' + "[" * 200_000 + "]" * 200_000 + "}",
     "invalid_json", "nested too deeply"),
])
def test_records_that_used_to_crash_or_read_wrong(tmp_path, line, reason, detail):
    path = write_jsonl(tmp_path / "d.jsonl", [line, {"question": "Q", "reasoning": "R"}])
    with pytest.raises(DatasetReadError, match=f"{reason.replace('_', ' ')}: .*{detail}"):
        read_examples(path)
    stats = ReadStats()
    assert len(read_examples(path, on_error="skip", stats=stats)) == 1
    assert stats.skipped == {reason: 1}


def test_broken_gzip_and_devices(tmp_path):
    fake = tmp_path / "d.jsonl.gz"
    fake.write_text('{"question": "Q", "reasoning": "R"}\n')
    with pytest.raises(DatasetReadError, match=r"not a readable gzip file.*drop the \.gz"):
        read_examples(fake)
    real = tmp_path / "t.jsonl.gz"
    real.write_bytes(gzip.compress(b'{"question": "Q", "reasoning": "R"}\n' * 50)[:40])
    with pytest.raises(DatasetReadError, match="not a readable gzip file"):
        read_examples(real)
    if os.path.exists("/dev/zero"):
        (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
        with pytest.raises(DatasetReadError, match="not a regular file"):
            read_examples(tmp_path / "zero.jsonl")
