import json
import math

import numpy as np
import pytest

from metaq.datasets import sample_path
from metaq.engines.base import l2_normalise
from metaq.exceptions import MetaqError
from metaq.features.base import Example
from metaq.features.embedding import EmbeddingExtractor, semantic_flow, split_sentences


class BagOfLettersEngine:
    """Deterministic engine: counts of a, b, c in the text (L2-normalised)."""

    def embed(self, texts):
        return l2_normalise(np.array([[t.count("a"), t.count("b"), t.count("c")]
                                      for t in texts], dtype=float))

    def describe(self):
        return {"model": "bag-of-letters"}


def cosine(u, v):
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


@pytest.mark.parametrize(("text", "sentences"), [
    ("Step one. Step two.", ["Step one.", "Step two."]),
    ("x = 3.5 so 2x = 7.\nThen add 1!  Done?", ["x = 3.5 so 2x = 7.", "Then add 1!", "Done?"]),
    ('He said "stop." Then he left', ['He said "stop."', "Then he left"]),
    ("Line one\n\n- item\n---\n```", ["Line one", "- item"]),
    ("", []),
    ("No terminal punctuation", ["No terminal punctuation"]),
])
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


def test_semantic_flow_hand_computed():
    vectors = l2_normalise(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]))
    assert semantic_flow(vectors) == pytest.approx(math.sqrt(0.5))
    assert math.isnan(semantic_flow(vectors[:1]))


def test_extractor_metrics_against_hand_cosines():
    extractor = EmbeddingExtractor()
    extractor.engine_ = BagOfLettersEngine()
    examples = [
        Example("1", question="aab", reasoning="ab. bc. cca."),
        Example("2", question="abc", reasoning="aaa"),
        Example("3", question="", reasoning="ab. ba."),
    ]
    scores = extractor.score_batch(examples)
    trace = np.array(["ab. bc. cca.".count(c) for c in "abc"])
    s1, s2, s3 = (np.array([s.count(c) for c in "abc"]) for s in ("ab.", "bc.", "cca."))
    assert scores[0]["semantic_alignment"] == pytest.approx(cosine([2, 1, 0], trace))
    assert scores[0]["semantic_flow"] == pytest.approx((cosine(s1, s2) + cosine(s2, s3)) / 2)
    assert scores[1]["semantic_alignment"] == pytest.approx(1 / math.sqrt(3))
    assert math.isnan(scores[1]["semantic_flow"])  # one sentence: no transition
    assert math.isnan(scores[2]["semantic_alignment"])  # no question
    assert scores[2]["semantic_flow"] == pytest.approx(1.0)


def test_config_names_the_model_and_bad_engine_is_refused():
    default, other = EmbeddingExtractor(device="cpu"), EmbeddingExtractor(embedding_model="minilm")
    assert "wordllama" in default.config()["embedding_model"]  # the CPU default
    assert "all-MiniLM-L6-v2" in other.config()["embedding_model"]
    assert default.cache_key() != other.cache_key()
    with pytest.raises(MetaqError, match="engine='ray' is not an embedding engine"):
        EmbeddingExtractor(engine="ray").setup()


def test_minilm_aligns_matched_pairs_better_than_mismatched():
    with open(sample_path("gsm8k_train.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line, _ in zip(f, range(6), strict=False)]
    matched = [Example(r["id"], r["question"], r["reasoning"]) for r in records]
    shifted = [Example(r["id"], records[(i + 1) % 6]["question"], r["reasoning"])
               for i, r in enumerate(records)]
    extractor = EmbeddingExtractor(embedding_model="minilm", device="cpu")
    scores = extractor.score_batch(matched + shifted)  # one batch: each text embedded once
    good = [s["semantic_alignment"] for s in scores[:6]]
    bad = [s["semantic_alignment"] for s in scores[6:]]
    assert all(g > b for g, b in zip(good, bad, strict=True))
    assert all(0.0 < s["semantic_flow"] < 1.0 for s in scores[:6])
    provenance = extractor.provenance()
    assert "all-MiniLM-L6-v2" in provenance["embedding_model"]
    assert provenance["version"] == "1"
