"""A tiny random-weight judge whose tokenizer knows the rubric and GSM8K words.

The BPE tokenizer is trained on the rubrics and real GSM8K traces, so prompts are a few
hundred tokens (the tiny model's 2,048 positions hold a whole trace). Its judgments are
noise: these tests check the mechanics, not the judge's quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_models import build_tiny_causal_lm, topic_corpus

from metaq.datasets import sample_path
from metaq.features.judge.rubric import RUBRICS


def read_samples(name: str) -> list[dict]:
    with open(sample_path(name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def judge_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = read_samples("gsm8k_train.jsonl")
    corpus = (topic_corpus(100) + [r.instructions for r in RUBRICS.values()] * 5
              + [f"{r['question']}\n{r['reasoning']}" for r in rows])
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_judge"), corpus,
                                vocab_size=1024, n_positions=2048)


@pytest.fixture(scope="session")
def judge_backend(judge_path: Path):
    from metaq.features.judge.scoring.transformers_backend import TransformersJudgeBackend

    return TransformersJudgeBackend(judge_path, device="cpu", batch_tokens=4096)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; with a busy CPU, more threads only contend."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
