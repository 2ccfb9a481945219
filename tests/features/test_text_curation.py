"""Curation metrics: near-duplicate rate, language share, answer presence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq._paths import SAMPLES_DIR
from metaq.features.answer import AnswerPresenceExtractor, answer_in_reasoning, normalise
from metaq.features.base import Example
from metaq.features.dedup import MinHasher, NearDuplicateExtractor, shingle_hashes
from metaq.io import read_examples

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
         "rho sigma tau upsilon phi chi psi omega").split()


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return len(np.intersect1d(a, b)) / len(np.union1d(a, b))


def test_shingles_by_hand() -> None:
    assert len(shingle_hashes("a b c d e f g")) == 3          # 7 words -> 3 five-word windows
    assert len(shingle_hashes("a b c d e a b c d e")) == 5    # 6 windows, one repeated
    assert len(shingle_hashes("A, b")) == 1                   # short text: one shingle
    np.testing.assert_array_equal(shingle_hashes("One two THREE four five"),
                                  shingle_hashes("one two three four five!"))


def test_minhash_estimates_jaccard() -> None:
    rng = np.random.default_rng(0)
    base = rng.choice(WORDS, 400).tolist()
    edited = base.copy()
    edited[::10] = ["changed"] * len(edited[::10])
    a, b = shingle_hashes(" ".join(base)), shingle_hashes(" ".join(edited))
    hasher = MinHasher()
    agreement = float(np.mean(hasher.signature(a) == hasher.signature(b)))
    assert agreement == pytest.approx(jaccard(a, b), abs=0.1)  # 112 values: sd about 0.05


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
    examples = read_examples(SAMPLES_DIR / "gsm8k_train.jsonl")
    extractor = NearDuplicateExtractor()
    out = extractor.aggregate(pd.DataFrame(extractor.score_batch(examples)))
    assert out["near_duplicate_rate"] == 0.0


def test_language_share_and_main_language() -> None:
    pytest.importorskip("py3langid")
    from metaq.features.language import LanguageExtractor

    english = "The train leaves the station at noon and arrives in the city two hours later."
    polish = ("Pociąg odjeżdża ze stacji w południe i przyjeżdża do miasta dwie godziny "
              "później.")
    examples = [Example(str(i), "Q", english) for i in range(3)] + [Example("p", "Q", polish)]
    extractor = LanguageExtractor()
    scores = pd.DataFrame(extractor.score_batch(examples))
    assert scores["language"].tolist() == ["en", "en", "en", "pl"]
    out = extractor.aggregate(scores)
    assert out["language_share"] == 0.75
    assert out["language_share__se"] == pytest.approx(np.std([1, 1, 1, 0], ddof=1) / 2)
    assert out["meta__language_main"] == "en"


def test_answer_normalisation_and_tail_by_hand() -> None:
    assert normalise("  Total:\n 1,250 EUR ") == "total: 1250 eur"
    assert answer_in_reasoning("1,250", "so the total is 1250.")
    assert answer_in_reasoning("Paris.", "...hence the capital is paris")
    assert not answer_in_reasoning("5", "550 / 110 = 50")
    assert not answer_in_reasoning("", "anything")
    assert not answer_in_reasoning("7", "7 is first" + " filler" * 60, tail_chars=300)


def test_answer_presence_rates_on_real_gsm8k() -> None:
    examples = read_examples(SAMPLES_DIR / "gsm8k_train.jsonl")
    extractor = AnswerPresenceExtractor()
    out = extractor.aggregate(pd.DataFrame(extractor.score_batch(examples)))
    assert out["answer_present"] == 1.0
    # GSM8K traces end with the calculation that gives the answer
    assert out["answer_in_reasoning"] > 0.95
    scores = extractor.score_batch([Example("1", "Q", "it is 4", "  "),
                                    Example("2", "Q", "it is 4", "4")])
    assert scores == [{"answer_present": 0.0, "answer_in_reasoning": 0.0},
                      {"answer_present": 1.0, "answer_in_reasoning": 1.0}]
