"""The vLLM glue against a fake ``vllm`` module (vLLM cannot be installed here)."""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest
from transformers import AutoTokenizer

from metaq.exceptions import MissingDependencyError
from metaq.features.judge.rubric import RUBRICS, build_prompt
from metaq.features.judge.scoring.base import make_backend


@dataclass
class _Logprob:
    logprob: float


def _fake_vllm(tokenizer, max_model_len):
    """A stand-in for vllm: records engine args and requests, answers from the prompt length."""
    module = types.ModuleType("vllm")
    calls = {"engine": None, "generate": []}

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, **kw):
            calls["engine"] = kw
            self.llm_engine = types.SimpleNamespace(
                model_config=types.SimpleNamespace(max_model_len=max_model_len))

        def get_tokenizer(self):
            return tokenizer

        def generate(self, prompts, params, use_tqdm=True):
            calls["generate"].append((prompts, params.kw))
            if "allowed_token_ids" not in params.kw:
                return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text="reply")])
                        for _ in prompts]
            pos, neg = params.kw["allowed_token_ids"]
            outs = []
            for prompt in prompts:
                n = len(prompt["prompt_token_ids"])
                p = fake_p(n)
                logprobs = {pos: _Logprob(math.log(p)), neg: _Logprob(math.log(1 - p))}
                if n % 11 == 0:  # an engine that lost a label: recorded as a failure
                    del logprobs[neg]
                outs.append(types.SimpleNamespace(
                    outputs=[types.SimpleNamespace(logprobs=[logprobs])]))
            return outs

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module, calls


def fake_p(n_tokens):
    return 0.05 + 0.9 * ((n_tokens * 37) % 100) / 100


def test_vllm_glue(judge_path, monkeypatch):
    tokenizer = AutoTokenizer.from_pretrained(judge_path)
    module, calls = _fake_vllm(tokenizer, max_model_len=690)
    monkeypatch.setitem(sys.modules, "vllm", module)
    backend = make_backend("vllm", "org/judge-fp8", tensor_parallel_size=2,
                           quantization="fp8", gpu_memory_utilization=0.8)
    engine = calls["engine"]
    assert engine["enable_prefix_caching"] is True
    assert engine["logprobs_mode"] == "processed_logprobs"
    assert (engine["tensor_parallel_size"], engine["quantization"],
            engine["gpu_memory_utilization"]) == (2, "fp8", 0.8)
    prompt = build_prompt("How many apples?", [], ["Add: 2 + 3 = 5.", "So 5.", "Done."] * 2,
                          rubric=RUBRICS["en"], frame=backend.chat_frame())
    from metaq.features.judge.scoring.packing import tokenize_prompt

    tp = tokenize_prompt(tokenizer, prompt)
    lengths = tp.prompt_lengths()
    assert backend.max_length == 690
    backend.max_length = int(np.median(lengths))
    (result,) = backend.score([prompt])
    (requests, params), = calls["generate"]
    assert params == {"max_tokens": 1, "temperature": 0.0, "logprobs": 2,
                      "allowed_token_ids": list(backend.label_ids)}
    fits = lengths < backend.max_length
    assert fits.any() and not fits.all()
    assert [r["prompt_token_ids"] for r in requests] == [
        tp.full_prompt(i) for i in np.flatnonzero(fits)]
    lost = fits & (lengths % 11 == 0)
    expected_status = ["ok" if f and not lo else ("failed" if f else "truncated")
                       for f, lo in zip(fits, lost, strict=True)]
    assert list(result.status) == expected_status
    ok = np.array(expected_status) == "ok"
    np.testing.assert_allclose(result.p_positive[ok], [fake_p(n) for n in lengths[ok]])
    assert backend.describe()["tensor_parallel_size"] == "2"
    assert backend.generate(["hi"], max_new_tokens=5) == ["reply"]


def test_missing_vllm_names_the_extra_and_the_fallback(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingDependencyError, match=r"transformers.*metaq\[vllm\]"):
        make_backend("vllm", "any")


def test_vllm_is_not_imported_by_the_judge_package():
    import metaq.features.judge.extractor  # noqa: F401

    assert "vllm" not in sys.modules or sys.modules["vllm"] is None
