import math
import random

import numpy as np
import pytest
from tiny_models import TOPICS, build_tiny_causal_lm, build_topic_lm, topic_pair

from metaq.exceptions import MetaqError
from metaq.features.base import Example
from metaq.features.perplexity import PerplexityExtractor, question_context


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="module")
def trained_lm(tmp_path_factory):
    return build_topic_lm(tmp_path_factory.mktemp("topic_lm"))


def topic_examples(n=12, seed=7):
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    return [Example(str(i), *topic_pair(topics[i % 2], rng)) for i in range(n)]


def test_plain_separator_without_chat_template(tiny_lm):
    extractor = PerplexityExtractor(lm=str(tiny_lm), device="cpu")
    extractor.setup()
    tokenizer = extractor.engine_.tokenizer
    assert question_context(tokenizer, "What is 2 + 2?") == "What is 2 + 2?\n\n"
    # a template: the user turn plus the generation prompt, the leading BOS removed
    tokenizer.chat_template = ("{{ bos_token }}{% for m in messages %}<{{ m.role }}>"
                               "{{ m.content }}{% endfor %}{% if add_generation_prompt %}"
                               "<assistant>{% endif %}")
    try:
        assert question_context(tokenizer, "Q?") == "<user>Q?<assistant>"
    finally:
        tokenizer.chat_template = None


def test_perplexity_is_exp_mean_nll_of_the_engine(tiny_lm):
    extractor = PerplexityExtractor(lm=str(tiny_lm), device="cpu")
    examples = [Example("a", "ask cat ?", "cat dog horse ."), Example("b", "q", "one two .")]
    scores = extractor.score_batch(examples)
    engine = extractor.engine_
    for ex, score in zip(examples, scores, strict=True):
        alone = engine.score([ex.reasoning]).logprobs[0]
        given = engine.score([ex.reasoning], [ex.question + "\n\n"]).logprobs[0]
        assert score["perplexity"] == pytest.approx(math.exp(-alone.mean()), rel=1e-9)
        assert score["conditional_perplexity"] == pytest.approx(math.exp(-given.mean()),
                                                                rel=1e-9)
        assert score["ppl_ratio"] == pytest.approx(
            score["conditional_perplexity"] / score["perplexity"], rel=1e-12)


def test_question_that_predicts_the_trace_lowers_conditional_perplexity(trained_lm):
    extractor = PerplexityExtractor(lm=str(trained_lm), device="cpu")
    examples = topic_examples()
    matched = extractor.score_batch(examples)
    ratios = np.array([s["ppl_ratio"] for s in matched])
    assert (ratios < 1).all()
    # a question from the other topic predicts the trace worse than the right one
    swapped = [Example(ex.id, examples[i + 1 if i % 2 == 0 else i - 1].question, ex.reasoning)
               for i, ex in enumerate(examples)]
    wrong = np.array([s["conditional_perplexity"] for s in extractor.score_batch(swapped)])
    right = np.array([s["conditional_perplexity"] for s in matched])
    assert (right < wrong).all()


def test_empty_trace_is_nan(tiny_lm):
    extractor = PerplexityExtractor(lm=str(tiny_lm), device="cpu")
    score = extractor.score_batch([Example("e", "question", "   ")])[0]
    assert all(math.isnan(v) for v in score.values())


def test_provenance_states_model_and_long_text_policy(tiny_lm):
    extractor = PerplexityExtractor(lm=str(tiny_lm), device="cpu", max_length=32,
                                    window="truncate")
    provenance = extractor.provenance()
    assert provenance["lm"] == str(tiny_lm)
    assert provenance["long_text"] == "truncate(max_length=32)"
    assert provenance["dtype"] == "float32"  # "auto" resolved on this CPU-only machine
    sliding = PerplexityExtractor(lm=str(tiny_lm), max_length=32)
    assert sliding.cache_key() != extractor.cache_key()
    assert sliding.provenance()["long_text"] == "sliding(max_length=32,stride=16)"
    assert PerplexityExtractor(lm="m").provenance()["long_text"] == (
        "sliding(max_length=model limit,stride=half)")
    extractor.setup()
    assert extractor.provenance() == provenance  # loading changes nothing recorded


@pytest.mark.parametrize(("options", "message"), [
    ({}, r"perplexity needs a causal LM: pass lm= \(CLI: --lm ID\|PATH\)"),
    ({"lm": "x", "engine": "ray"}, "engine='ray' is not a scoring engine"),
    ({"lm": "x", "window": "chunks"}, "window='chunks' is unknown"),
])
def test_bad_options_fail_at_setup_with_the_fix(options, message):
    extractor = PerplexityExtractor(**options)
    with pytest.raises(MetaqError, match=message):
        extractor.setup()


def test_features_table_through_the_runner(tiny_lm, tmp_path):
    from metaq import extract_features

    path = tmp_path / "mini.jsonl"
    examples = topic_examples(4)
    path.write_text("".join(f'{{"question": "{ex.question}", "reasoning": "{ex.reasoning}"}}\n'
                            for ex in examples), encoding="utf-8")
    table = extract_features([path], "perplexity,ppl_ratio", cache_dir=tmp_path / "cache",
                             extractor_options={"lm": str(tiny_lm), "device": "cpu",
                                                "max_length": 64})
    row = table.iloc[0]
    extractor = PerplexityExtractor(lm=str(tiny_lm), device="cpu", max_length=64)
    expected = [s["perplexity"] for s in extractor.score_batch(examples)]
    assert row["perplexity"] == pytest.approx(np.mean(expected), rel=1e-9)
    assert row["perplexity__se"] == pytest.approx(np.std(expected, ddof=1) / 2, rel=1e-6)
    assert row["meta__perplexity_long_text"] == "sliding(max_length=64,stride=32)"
    assert row["meta__perplexity_lm"] == str(tiny_lm)
