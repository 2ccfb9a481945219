import re

import pytest
from conftest import read_samples

from metaq.features.judge.steps import extract_premises, split_steps

SAMPLE_FILES = ["gsm8k_train.jsonl", "gsm8k_test_trace_styles.jsonl",
                "gsm8k_model_solutions.jsonl", "marco_o1_cot.jsonl"]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_steps_are_verbatim_spans_that_rebuild_the_trace(name):
    for row in read_samples(name):
        trace = row["reasoning"]
        steps = split_steps(trace)
        assert _squash("".join(s.text for s in steps)) == _squash(trace), row["id"]
        previous_end = 0
        for step in steps:
            assert trace[step.start:step.end] == step.text
            assert step.text == step.text.strip() and step.text
            assert not trace[previous_end:step.start].strip(), "only whitespace between steps"
            previous_end = step.end


def test_gsm8k_lines_are_steps():
    row = next(r for r in read_samples("gsm8k_test_trace_styles.jsonl")
               if r["id"] == "gsm8k-test-0076-natural")
    steps = split_steps(row["reasoning"])
    assert [s.text for s in steps] == row["reasoning"].split("\n")
    assert all(s.kind == "calculation" for s in steps)


def test_equations_only_trace_gives_one_step_per_equation():
    row = next(r for r in read_samples("gsm8k_test_trace_styles.jsonl")
               if r["id"] == "gsm8k-test-0076-equations")
    assert [s.text for s in split_steps(row["reasoning"])] == [
        "<<180*1=180>>", "<<365-180=185>>", "<<185*2=370>>", "<<180+370=550>>",
        "<<550/110=5>>"]


def test_code_blocks_stay_whole_on_real_traces():
    rows = [r for r in read_samples("marco_o1_cot.jsonl") if "```" in r["reasoning"]]
    assert rows
    for row in rows:
        blocks = re.findall(r"```.*?```", row["reasoning"], flags=re.DOTALL)
        code = [s.text for s in split_steps(row["reasoning"]) if s.kind == "code"]
        assert code[:len(blocks)] == blocks


def test_prose_sentences_group_and_calculations_stand_alone():
    trace = ("First, list the facts. Then think.\n\n1. Add them: 2 + 3 = 5. So five in all.\n"
             "2. Done\n**")
    assert [(s.kind, s.text) for s in split_steps(trace)] == [
        ("text", "First, list the facts. Then think."),
        ("calculation", "1. Add them: 2 + 3 = 5."),
        ("text", "So five in all."),
        ("text", "2. Done\n**"),
    ]


@pytest.mark.parametrize("trace", ["", "   \n\n  "])
def test_blank_trace_has_no_steps(trace):
    assert split_steps(trace) == []


def test_wordless_trace_is_one_step():
    assert [s.text for s in split_steps("---\n***")] == ["---\n***"]


def test_premises_are_the_question_statements():
    question = ("Cecilia just bought a new puppy. She feeds it 1 cup a day. "
                "How many cups in a week?")
    assert extract_premises(question) == ["Cecilia just bought a new puppy.",
                                          "She feeds it 1 cup a day."]
    assert extract_premises("How many?") == []
