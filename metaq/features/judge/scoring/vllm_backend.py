"""Judge with vLLM in this process: automatic prefix caching, one generated token per probe.

Each probe is a request for one token with ``allowed_token_ids`` set to the two label
tokens, ``temperature=0`` and ``logprobs=2``; the engine is built with
``logprobs_mode="processed_logprobs"``, so the returned log-probabilities are taken after
the allowed-token mask, i.e. the log-softmax over the two labels. Prompts are given as token
ids, tokenized per segment exactly as in the transformers back-end, so the probes of a trace
share their token prefix and vLLM's prefix cache prefills it once. Requests are submitted
trace by trace (probes in step order) in one ``generate`` call; vLLM schedules and batches.

vLLM is an optional extra (``pip install 'metaq[vllm]'``), imported only when this back-end
is built. FP8 checkpoints (such as the default judge) are detected by vLLM from their config;
``quantization``, ``tensor_parallel_size``, ``dtype``, ``gpu_memory_utilization`` and any
other engine argument are passed through.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from metaq._optional import require
from metaq.features.judge.rubric import ChatFrame, JudgePrompt
from metaq.features.judge.scoring.base import (
    FAILED,
    OK,
    TRUNCATED,
    JudgeBackend,
    ProbeScores,
    chat_frame_of,
    label_token_ids,
)
from metaq.features.judge.scoring.packing import tokenize_prompt

logger = logging.getLogger(__name__)


class VLLMJudgeBackend(JudgeBackend):
    """Judge with a ``vllm.LLM`` engine.

    Parameters
    ----------
    model : str or Path
        Hub id or local folder.
    max_length : int, optional
        Context length (``max_model_len``); default the model's.
    tensor_parallel_size : int
        GPUs to shard the model over.
    quantization : str, optional
        e.g. ``"fp8"`` to quantize a bf16 checkpoint on the fly (FP8 checkpoints need none).
    **engine_args
        Any other ``vllm.LLM`` argument (``dtype``, ``gpu_memory_utilization``...).
    """

    engine = "vllm"

    def __init__(self, model: str | Path, *, max_length: int | None = None,
                 tensor_parallel_size: int = 1, quantization: str | None = None,
                 **engine_args: Any) -> None:
        vllm = require("vllm", extra="vllm",
                       purpose="the vLLM judge back-end (judge_engine='transformers' runs "
                               "without it)")
        self.model_name = str(model)
        self._vllm = vllm
        self.llm = vllm.LLM(model=self.model_name, max_model_len=max_length,
                            tensor_parallel_size=tensor_parallel_size,
                            quantization=quantization, enable_prefix_caching=True,
                            logprobs_mode="processed_logprobs", **engine_args)
        self.max_length = int(self.llm.llm_engine.model_config.max_model_len)
        self.tokenizer = self.llm.get_tokenizer()
        self._frame = chat_frame_of(self.tokenizer)
        self.label_ids = label_token_ids(self.tokenizer, self._frame)
        self._settings = {"tensor_parallel_size": str(tensor_parallel_size),
                          "quantization": str(quantization)}

    def chat_frame(self) -> ChatFrame:
        """Return the chat template's frame."""
        return self._frame

    def describe(self) -> dict[str, str]:
        """Engine, model, context, parallelism and quantization."""
        return {"engine": self.engine, "model": self.model_name,
                "max_length": str(self.max_length), **self._settings}

    def score(self, prompts: Sequence[JudgePrompt]) -> list[ProbeScores]:
        """One single-token request per probe; probes beyond the context are truncated."""
        params = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, logprobs=2,
                                           allowed_token_ids=list(self.label_ids))
        tokenized = [tokenize_prompt(self.tokenizer, p) for p in prompts]
        requests, owners = [], []
        status = []
        for i, tp in enumerate(tokenized):
            fits = tp.prompt_lengths() < self.max_length
            status.append([OK if f else TRUNCATED for f in fits])
            for j in np.flatnonzero(fits):
                requests.append({"prompt_token_ids": tp.full_prompt(int(j))})
                owners.append((i, int(j)))
        outputs = self.llm.generate(requests, params, use_tqdm=False) if requests else []
        values = [np.full(len(tp.probes), math.nan) for tp in tokenized]
        for (i, j), output in zip(owners, outputs, strict=True):
            values[i][j] = self._probability(output)
            if math.isnan(values[i][j]):
                status[i][j] = FAILED
        return [ProbeScores.from_values(v, s) for v, s in zip(values, status, strict=True)]

    def _probability(self, output: Any) -> float:
        logprobs = output.outputs[0].logprobs[0]
        pos, neg = (logprobs.get(t) for t in self.label_ids)
        if pos is None or neg is None:
            return math.nan
        return float(1.0 / (1.0 + math.exp(neg.logprob - pos.logprob)))

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy replies to user messages, batched by vLLM."""
        params = self._vllm.SamplingParams(max_tokens=max_new_tokens, temperature=0.0)
        texts = [self._frame.head + p + self._frame.tail for p in prompts]
        outputs = self.llm.generate(texts, params, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]
