"""Curation metrics: near-duplicate rate, language share, answer presence."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import rensa

from metaq.datasets import sample_path
from metaq.features.answer import AnswerPresenceExtractor, answer_in_reasoning, normalise
from metaq.features.base import Example
from metaq.features.dedup import (
    BANDS,
    ROWS,
    NearDuplicateExtractor,
    band_keys,
    batch_shingles,
)
from metaq.io import read_examples

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
         "rho sigma tau upsilon phi chi psi omega").split()


def shingles(text: str) -> np.ndarray:
    hashes, offsets = batch_shingles([text])
    return hashes[offsets[0]:offsets[1]]


def test_shingles_by_hand() -> None:
    assert len(shingles("a b c d e f g")) == 3                # 7 words -> 3 five-word windows
    assert len(np.unique(shingles("a b c d e a b c d e"))) == 5  # 6 windows, one repeated
    assert len(shingles("A, b")) == 1                         # short text: one shingle
    assert len(shingles(" -- ")) == 0
    np.testing.assert_array_equal(shingles("One two THREE four five"),
                                  shingles("one two three four five!"))
    assert not np.array_equal(shingles("one two three four five"),
                              shingles("one two three four fivE six"))


def test_words_are_exactly_regex_word_runs(rng: np.random.Generator) -> None:
    """Shingles depend only on the case-folded ``\\w+`` words, for any script."""
    alphabet = list("abcXYZ019_ .,;!?\n\t-") + ["ą", "ß", "中", "٣", "𝑥", "😀", "\u2028", "ǅ"]
    for _ in range(200):
        text = "".join(rng.choice(alphabet, int(rng.integers(0, 60))))
        words = " ".join(re.findall(r"\w+", text.casefold()))
        np.testing.assert_array_equal(shingles(text), shingles(words))


def test_a_batch_hashes_each_text_as_alone() -> None:
    texts = [ex.reasoning for ex in read_examples(sample_path("marco_o1_cot.jsonl"))][:40]
    texts += ["", "one", "a b c d", "Zażółć gęślą jaźń 𝑥 = 2"]
    hashes, offsets = batch_shingles(texts)
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(hashes[offsets[i]:offsets[i + 1]], shingles(text))
    np.testing.assert_array_equal(band_keys(texts)[3:9], band_keys(texts[3:9]))


@pytest.mark.parametrize("similarity", [0.5, 0.7, 0.8, 0.9])
def test_lsh_collision_rate_follows_the_banding_curve(similarity: float) -> None:
    """Band keys of texts with Jaccard J collide at 1 - (1 - J^8)^14, per value at J."""
    rng = np.random.default_rng(int(similarity * 10))
    n_pairs, size = 600, 200
    shared = round(2 * size * similarity / (1 + similarity))
    exact = shared / (2 * size - shared)
    hits, agree = 0, 0.0
    for _ in range(n_pairs):
        common = rng.integers(0, 2**63, shared, dtype=np.uint64)
        own = rng.integers(0, 2**63, (2, size - shared), dtype=np.uint64)
        sets = np.concatenate([common, own[0], common, own[1]])
        offsets = np.array([0, size, 2 * size], dtype=np.uint64)
        sig = np.array(rensa.RMinHash.digest_matrix_from_flat_token_hashes(
            sets, offsets, BANDS * ROWS, 1).to_rows())
        agree += np.mean(sig[0] == sig[1]) / n_pairs
        hits += (sig[0] == sig[1]).reshape(BANDS, ROWS).all(axis=1).any()
    assert agree == pytest.approx(exact, abs=0.02)
    expected = 1 - (1 - exact**ROWS) ** BANDS
    assert hits / n_pairs == pytest.approx(expected, abs=3 * np.sqrt(expected * (1 - expected)
                                                                      / n_pairs) + 0.01)


def test_near_duplicate_rate_counts_later_copies_only() -> None:
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, 60)) for _ in range(6)]
    near_copy = texts[0].split()
    near_copy[30] = "changed"  # one word of 60: Jaccard about 0.84
    examples = [Example(str(i), "Q", t) for i, t in enumerate(texts)]
    examples += [Example("dup", "Q", texts[1]), Example("near", "Q", " ".join(near_copy))]
    extractor = NearDuplicateExtractor()
    scores = pd.DataFrame(extractor.score_batch(examples))
    out = extractor.aggregate(scores)
    assert out["near_duplicate_rate"] == pytest.approx(2 / 8)
    assert out["near_duplicate_rate__se"] == pytest.approx(np.std([0] * 6 + [1, 1], ddof=1)
                                                           / np.sqrt(8))


def test_no_near_duplicates_in_distinct_real_traces() -> None:
    examples = read_examples(sample_path("gsm8k_train.jsonl"))
    extractor = NearDuplicateExtractor()
    out = extractor.aggregate(pd.DataFrame(extractor.score_batch(examples)))
    assert out["near_duplicate_rate"] == 0.0


def test_language_share_and_main_language() -> None:
    pytest.importorskip("pycld2")
    from metaq.features.language import LanguageExtractor

    english = "The train leaves the station at noon and arrives in the city two hours later."
    polish = ("Pociąg odjeżdża ze stacji w południe i przyjeżdża do miasta dwie godziny "
              "później.")
    examples = [Example(str(i), "Q", english) for i in range(3)] + [Example("p", "Q", polish)]
    examples += [Example("f", "Q", "48/2 = <<48/2=24>>24"), Example("s", "Q", "x\ud800y\x01")]
    extractor = LanguageExtractor()
    scores = pd.DataFrame(extractor.score_batch(examples))
    assert scores["language"].tolist() == ["en", "en", "en", "pl", "un", "un"]
    out = extractor.aggregate(scores)
    assert out["language_share"] == 0.5
    assert out["language_share__se"] == pytest.approx(np.std([1, 1, 1, 0, 0, 0], ddof=1)
                                                      / np.sqrt(6))
    assert out["meta__language_main"] == "en"
    formulas = extractor.aggregate(scores.iloc[4:])
    assert formulas["language_share"] == 0.0 and formulas["meta__language_main"] == ""


def test_language_of_real_english_traces() -> None:
    pytest.importorskip("pycld2")
    from metaq.features.language import LanguageExtractor

    examples = read_examples(sample_path("gsm8k_train.jsonl"))
    out = LanguageExtractor().aggregate(pd.DataFrame(LanguageExtractor().score_batch(examples)))
    assert out["meta__language_main"] == "en" and out["language_share"] > 0.95


def test_answer_normalisation_and_tail_by_hand() -> None:
    assert normalise("  Total:\n 1,250 EUR ") == "total: 1250 eur"
    assert answer_in_reasoning("1,250", "so the total is 1250.")
    assert answer_in_reasoning("Paris.", "...hence the capital is paris")
    assert not answer_in_reasoning("5", "550 / 110 = 50")
    assert not answer_in_reasoning("", "anything")
    assert not answer_in_reasoning("7", "7 is first" + " filler" * 60, tail_chars=300)


def regex_normalise(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", re.sub(r"\s+", " ", text.casefold())).strip()


def regex_answer_in_reasoning(answer: str, reasoning: str, tail_chars: int = 300) -> bool:
    target = regex_normalise(answer).strip(" \t\n.,;:!?\"'`()[]{}")
    tail = regex_normalise(reasoning[-tail_chars:])
    return bool(target) and re.search(rf"(?<!\w){re.escape(target)}(?!\w)", tail) is not None


def test_answer_matching_equals_the_whole_token_regex(rng: np.random.Generator) -> None:
    alphabet = list("ab12_ ,.x\t\n") + ["ą", "٣", "𝑥", "\u2028", "\xa0"]
    for _ in range(3000):
        answer = "".join(rng.choice(alphabet, int(rng.integers(0, 4))))
        reasoning = "".join(rng.choice(alphabet, int(rng.integers(0, 40))))
        assert answer_in_reasoning(answer, reasoning, tail_chars=30) == \
            regex_answer_in_reasoning(answer, reasoning, tail_chars=30), (answer, reasoning)


def test_answer_presence_rates_on_real_gsm8k() -> None:
    examples = read_examples(sample_path("gsm8k_train.jsonl"))
    extractor = AnswerPresenceExtractor()
    out = extractor.aggregate(pd.DataFrame(extractor.score_batch(examples)))
    assert out["answer_present"] == 1.0
    # GSM8K traces end with the calculation that gives the answer
    assert out["answer_in_reasoning"] > 0.95
    scores = extractor.score_batch([Example("1", "Q", "it is 4", "  "),
                                    Example("2", "Q", "it is 4", "4")])
    assert scores == [{"answer_present": 0.0, "answer_in_reasoning": 0.0},
                      {"answer_present": 1.0, "answer_in_reasoning": 1.0}]
