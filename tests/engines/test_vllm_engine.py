"""The vLLM adapter against the engine contract, with a stand-in for ``vllm.LLM``.

vllm cannot be installed here; the stand-in answers ``generate`` with prompt logprobs in
vLLM's layout (``None`` for position 0, then ``{token_id: Logprob}`` dicts that include the
prompt token and a runner-up), computed with the tiny transformers model, so the adapter
must reproduce the transformers engine exactly.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from metaq.engines.base import EmbeddingEngine, ScoringEngine
from metaq.engines.causal_lm import TransformersEngine
from metaq.engines.vllm_engine import VLLMEngine, import_vllm
from metaq.exceptions import MissingDependencyError


@dataclass
class FakeSamplingParams:
    max_tokens: int
    prompt_logprobs: int
    temperature: float


class FakeLLM:
    def __init__(self, model, tokenizer, max_model_len=256):
        self.model, self.tokenizer = model, tokenizer
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=max_model_len))
        self.calls = []

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, params, use_tqdm=True):
        assert params.max_tokens == 1 and params.prompt_logprobs == 0
        self.calls.append(len(prompts))
        return [SimpleNamespace(prompt_logprobs=self._prompt_logprobs(p["prompt_token_ids"]))
                for p in prompts]

    def _prompt_logprobs(self, ids):
        with torch.no_grad():
            logprobs = torch.log_softmax(self.model(torch.tensor([ids])).logits[0], -1)
        entries = [None]
        for t in range(1, len(ids)):
            row = logprobs[t - 1]
            best = int(row.argmax())
            entries.append({best: SimpleNamespace(logprob=float(row[best]), rank=1),
                            ids[t]: SimpleNamespace(logprob=float(row[ids[t]]), rank=2)})
        return entries

    def embed(self, texts, use_tqdm=True):
        return [SimpleNamespace(outputs=SimpleNamespace(embedding=[len(t), t.count("a"), 1.0]))
                for t in texts]


@pytest.fixture(scope="module")
def reference(tiny_lm):
    return TransformersEngine(tiny_lm, device="cpu", max_length=16, stride=8)


def test_scores_match_transformers_engine(reference):
    fake = FakeLLM(reference.model, reference.tokenizer)
    engine = VLLMEngine("tiny", llm=fake, sampling_params=FakeSamplingParams, max_length=16,
                        stride=8)
    assert isinstance(engine, ScoringEngine)
    texts = ["cat dog horse", "The quick brown fox jumps over the lazy dog. " * 3, ""]
    contexts = ["ask cat ?\n\n", "ask one ?\n\n", "ask two ?\n\n"]
    for ctx in (None, contexts):
        got, want = engine.score(texts, ctx), reference.score(texts, ctx)
        for a, b in zip(got.logprobs, want.logprobs, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
        assert got.stats.n_segments == want.stats.n_segments > len(texts)
        assert got.stats.padding_waste == 0.0
    assert engine.describe() == {"model": "tiny", "backend": "vllm", "task": "score",
                                 "long_text": "sliding(max_length=16,stride=8)"}


def test_max_length_defaults_to_the_engine_limit(reference):
    fake = FakeLLM(reference.model, reference.tokenizer, max_model_len=128)
    engine = VLLMEngine("tiny", llm=fake, sampling_params=FakeSamplingParams, window="truncate")
    assert engine.max_length == 128 and engine.stride == 64


def test_embed_is_l2_normalised(reference):
    fake = FakeLLM(reference.model, reference.tokenizer)
    engine = VLLMEngine("tiny", task="embed", llm=fake, sampling_params=FakeSamplingParams)
    assert isinstance(engine, EmbeddingEngine)
    vectors = engine.embed(["aa", "b"])
    np.testing.assert_allclose(vectors, [[2 / 3, 2 / 3, 1 / 3], [1 / np.sqrt(2), 0,
                                                                  1 / np.sqrt(2)]], atol=1e-6)


def test_missing_vllm_names_extra_and_fallback(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(MissingDependencyError, match=r"metaq\[vllm\].*engine='transformers'"):
        import_vllm()
    with pytest.raises(MissingDependencyError, match="metaq"):
        VLLMEngine("Qwen/Qwen3-4B")
