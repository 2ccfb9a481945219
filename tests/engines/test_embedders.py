import json

import numpy as np
import pytest

from metaq.datasets import sample_path
from metaq.engines.base import EmbeddingEngine
from metaq.engines.embedders import (
    DEFAULT_EMBEDDING_MODEL,
    SentenceTransformerEngine,
    load_embedding_engine,
)
from metaq.exceptions import ModelNotFoundError


def sample_pairs(n=8):
    with open(sample_path("gsm8k_train.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line, _ in zip(f, range(n), strict=False)]
    return [r["question"] for r in records], [r["reasoning"] for r in records]


@pytest.fixture(scope="module")
def minilm():
    return load_embedding_engine(DEFAULT_EMBEDDING_MODEL, device="cpu")


def matched_minus_mismatched(engine):
    questions, traces = sample_pairs()
    q, r = engine.embed(questions), engine.embed(traces)
    sims = q @ r.T
    off_diagonal = sims[~np.eye(len(sims), dtype=bool)].reshape(len(sims), -1)
    return np.diag(sims), off_diagonal


@pytest.mark.parametrize("name", ["minilm", "wordllama"])
def test_embedded_defaults_align_matched_pairs_on_real_samples(name, minilm):
    engine = minilm if name == "minilm" else load_embedding_engine(name)
    assert isinstance(engine, EmbeddingEngine)
    matched, mismatched = matched_minus_mismatched(engine)
    # every question is closer to its own trace than the mismatched ones are on average
    assert (matched > mismatched.mean(axis=1)).all()
    assert matched.mean() > mismatched.mean() + 0.3
    assert "wheel" in engine.describe()["model"]


def test_minilm_vectors_are_unit_norm_and_order_preserving(minilm):
    texts = ["a cat", "stock prices fell sharply on Monday", "a kitten", ""]
    vectors = minilm.embed(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # token-budget batching reorders internally; the rows come back in input order
    np.testing.assert_allclose(minilm.embed(texts[::-1]), vectors[::-1], atol=1e-5)
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[1]
    assert minilm.embed([]).shape == (0, 384)


def test_local_sentence_transformers_folder_equals_manual_mean_pooling(tiny_encoder):
    import torch
    from transformers import AutoModel, AutoTokenizer

    engine = SentenceTransformerEngine(tiny_encoder, device="cpu", batch_tokens=16)
    texts = ["the cat sat", "one two three four five six seven eight nine ten", "dog"]
    vectors = engine.embed(texts)
    tokenizer, model = AutoTokenizer.from_pretrained(tiny_encoder), AutoModel.from_pretrained(
        tiny_encoder)
    for text, vector in zip(texts, vectors, strict=True):
        batch = tokenizer([text], return_tensors="pt")
        with torch.no_grad():
            pooled = model(**batch).last_hidden_state[0].mean(0).numpy()
        np.testing.assert_allclose(vector, pooled / np.linalg.norm(pooled), atol=1e-5)
    assert engine.describe()["model"] == str(tiny_encoder)


def test_unknown_embedding_model_raises_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="'minilm' or 'wordllama'"):
        load_embedding_engine("no-such-org/no-such-embedder-xyz", device="cpu")
