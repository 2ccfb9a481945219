"""The study's text metrics: hand-computed values, batch equality, and the GSM8K styles."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from metaq.datasets import sample_path
from metaq.features.base import Example
from metaq.features.runner import extract_features
from metaq.features.text import (
    LengthExtractor,
    RedundancyExtractor,
    SymbolicExtractor,
    TokenLengthExtractor,
    redundancy_ratio,
    symbolic_fraction,
)
from metaq.io import read_examples


def test_redundancy_ratio_by_hand() -> None:
    # zlib output of b"abc" is 11 bytes (2 header + 5 deflate + 4 checksum): 1 - 11/3
    assert redundancy_ratio("abc") == pytest.approx(1 - 11 / 3)
    # 200 bytes compress to 13: 1 - 13/200; "ż" is 2 UTF-8 bytes, so 100 of them are 200 bytes
    assert redundancy_ratio("ab" * 100) == pytest.approx(0.935)
    assert redundancy_ratio("ż" * 100) == pytest.approx(0.935)
    assert math.isnan(redundancy_ratio(""))


@pytest.mark.parametrize(("text", "expected"), [
    ("a = 1", 3 / 5),            # space, '=', space
    ("x² + y²", 3 / 7),          # superscript digits are alphanumeric
    ("zażółć gęślą", 1 / 12),    # Polish letters are alphanumeric, the space is not
    ("snake_case", 1 / 10),      # the underscore is a symbol
    ("<<48/2=24>>", 6 / 11),     # < < / = > >
    ("abc123", 0.0),
    ("𝑥😀", 1 / 2),              # astral plane: a math letter is alphanumeric, an emoji not
])
def test_symbolic_fraction_by_hand(text: str, expected: float) -> None:
    assert symbolic_fraction(text) == pytest.approx(expected)


def test_symbolic_fraction_equals_a_character_loop_on_real_traces() -> None:
    for example in read_examples(sample_path("marco_o1_cot.jsonl")):
        text = example.reasoning
        naive = sum(not c.isalnum() for c in text) / len(text)
        assert symbolic_fraction(text) == pytest.approx(naive, abs=1e-12)


def test_length_extractor_by_hand() -> None:
    examples = [Example("1", "Why?", "Because ż.", "OK"), Example("2", "", "r", "")]
    assert LengthExtractor().score_batch(examples) == [
        {"reasoning_chars": 10.0, "answer_chars": 2.0, "total_chars": 16.0},
        {"reasoning_chars": 1.0, "answer_chars": 0.0, "total_chars": 1.0},
    ]


def test_batch_equals_one_by_one() -> None:
    examples = read_examples(sample_path("gsm8k_train.jsonl"))[:50]
    for extractor in (LengthExtractor(), RedundancyExtractor(), SymbolicExtractor()):
        batched = extractor.score_batch(examples)
        single = [extractor.score_batch([ex])[0] for ex in examples]
        assert batched == single


@pytest.fixture(scope="module")
def word_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A word-level tokenizer: one token per word or punctuation run (counts by hand)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "two": 2, "plus": 3, "is": 4, "four": 5}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path_factory.mktemp("word_tokenizer")
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]",
                            pad_token="[PAD]").save_pretrained(str(path))
    return path


def test_token_lengths_by_hand(word_tokenizer: Path) -> None:
    extractor = TokenLengthExtractor(tokenizer=str(word_tokenizer))
    scores = extractor.score_batch([Example("1", "two plus two?", "2 + 2 = 4, so four.", "four")])
    # question: two|plus|two|? = 4; reasoning: 2|+|2|=|4|,|so|four|. = 9; answer: 1
    assert scores == [{"reasoning_tokens": 9.0, "answer_tokens": 1.0, "total_tokens": 14.0}]
    assert extractor.config() == {"tokenizer": str(word_tokenizer)}


def test_token_lengths_without_tokenizer_say_so() -> None:
    with pytest.raises(Exception, match="token lengths need a tokenizer.*--tokenizer"):
        TokenLengthExtractor().setup()


def test_gsm8k_trace_styles_in_the_expected_order(tmp_path: Path) -> None:
    """Same questions, three trace styles: socratic longest, equations-only shortest/densest."""
    by_style: dict[str, list[str]] = {}
    for line in (sample_path("gsm8k_test_trace_styles.jsonl")).read_text().splitlines():
        by_style.setdefault(json.loads(line)["style"], []).append(line)
    paths = []
    for style, lines in sorted(by_style.items()):
        paths.append(tmp_path / f"{style}.jsonl")
        paths[-1].write_text("\n".join(lines) + "\n")
    table = extract_features(paths, "reasoning_chars,symbolic_fraction,redundancy_ratio",
                             on_error="skip").set_index("dataset_id")
    chars, symbolic = table["reasoning_chars"], table["symbolic_fraction"]
    assert chars["socratic"] > chars["natural"] > chars["equations_only"]
    assert symbolic["equations_only"] > max(symbolic["natural"], symbolic["socratic"])
    assert table.loc["equations_only", "n_skipped_empty_reasoning"] == 1
    assert table["n_examples"].to_dict() == {"equations_only": 99, "natural": 100,
                                             "socratic": 100}
    # the README's per-style averages (mean len(reasoning)), equations-only over all 100 rows
    assert chars["natural"] == pytest.approx(286, abs=0.5)
    assert chars["socratic"] == pytest.approx(459, abs=0.5)
    assert chars["equations_only"] * 99 / 100 == pytest.approx(42, abs=0.5)
