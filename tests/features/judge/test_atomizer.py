import json

from metaq.features.judge.atomizer import atomize, atomizer_prompt, parse_atomized
from metaq.features.judge.steps import split_steps

TRACE = "We need the total. 2 + 3 = 5.\nSo the answer is 5."


def test_valid_replies_are_used_verbatim():
    replies = iter([json.dumps(["We need the total.", "2 + 3 = 5.", "So the answer is 5."])])
    seen = []

    def generate(prompts):
        seen.extend(prompts)
        return [next(replies) for _ in prompts]

    steps, fell_back = atomize([TRACE], generate)
    assert steps == [["We need the total.", "2 + 3 = 5.", "So the answer is 5."]]
    assert fell_back == [False]
    assert seen == [atomizer_prompt(TRACE)]


def test_invalid_replies_are_retried_then_fall_back_to_rules():
    replies = iter(["sure! here you go", '["2 + 3 = 6."]', '["So the answer", "We need"]',
                    "Steps: " + json.dumps(["We need the total.", "So the answer is 5."]),
                    "[still not"])
    calls = []

    def generate(prompts):
        calls.append(len(prompts))
        return [next(replies) for _ in prompts]

    # trace 1: three bad replies (not JSON, out of order, broken JSON) -> the rules;
    # trace 3: invented text first, then a valid (prefixed) reply
    steps, fell_back = atomize([TRACE, "", TRACE], generate, retries=2)
    assert calls == [2, 2, 1]  # the blank trace is never sent
    assert fell_back == [True, False, False]
    assert steps == [[s.text for s in split_steps(TRACE)], [],
                     ["We need the total.", "So the answer is 5."]]


def test_parse_rejects_non_lists_and_blanks():
    assert parse_atomized('{"steps": []}', TRACE) is None
    assert parse_atomized('["", "So"]', TRACE) is None
    assert parse_atomized("[1, 2]", TRACE) is None
