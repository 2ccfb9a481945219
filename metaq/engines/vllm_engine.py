"""vLLM back-end for both engine protocols (optional extra ``vllm``, GPU machines).

A thin adapter: token log-likelihoods come from vLLM's ``prompt_logprobs`` (one generated
token per prompt, ``prompt_logprobs=0`` so each prompt position returns only its own
token's log-probability), embeddings from the pooling runner's ``LLM.embed``. Sequences are
built exactly as in the transformers engine (same prefix token, context placement and
sliding windows, :mod:`metaq.engines.windows`), so the two engines score the same tokens.
vLLM schedules and batches by itself (paged attention, no padding), so no token-budget
batching happens here.

vLLM's ``prompt_logprobs`` materialises a full-vocabulary log-softmax per prompt position:
keep ``max_length`` moderate (it runs out of memory near 8k tokens on a 150k vocabulary),
or use the transformers engine, whose head projection is chunked.

``vllm`` is imported only when an engine is built; when it is missing,
:class:`~metaq.exceptions.MissingDependencyError` names the extra and the transformers
fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from metaq.engines.base import BatchStats, TokenLogprobs, l2_normalise
from metaq.engines.windows import (
    WindowPolicy,
    describe_policy,
    encode_plain,
    gather_by_owner,
    plan_segments,
    plan_windows,
    prefix_ids,
)
from metaq.exceptions import MissingDependencyError

logger = logging.getLogger(__name__)

VLLMTask = Literal["score", "embed"]


def import_vllm() -> Any:
    """Import vllm, or raise :class:`MissingDependencyError` with the install hint.

    Returns
    -------
    module
        The ``vllm`` module.

    Raises
    ------
    MissingDependencyError
        When vllm is not installed; the message names ``metaq[vllm]`` and the transformers
        engine as the fallback.
    """
    try:
        import vllm
    except ImportError as err:
        raise MissingDependencyError(
            "engine='vllm' needs the Python package 'vllm', which is not installed: run "
            "`pip install 'metaq[vllm]'` on a CUDA machine, or use engine='transformers' "
            f"(the default, CPU or GPU) instead ({err})") from err
    return vllm


class VLLMEngine:
    """Scoring or embedding engine over ``vllm.LLM``.

    Parameters
    ----------
    model : str or Path
        Hub id or local folder.
    task : {"score", "embed"}
        ``"score"``: token log-likelihoods of a causal LM; ``"embed"``: sentence embeddings
        (pooling runner).
    max_length : int, optional
        Longest window (``max_model_len`` of vLLM); default the model's.
    window : {"sliding", "truncate"}
        Long-text policy, as in the transformers engine.
    stride : int, optional
        Sliding-window step; default ``max_length // 2``.
    dtype : str
        vLLM ``dtype`` (``"auto"`` = the checkpoint's, bf16 for most).
    tensor_parallel_size : int
        GPUs to shard the model over.
    quantization : str, optional
        vLLM ``quantization`` (e.g. ``"fp8"``).
    gpu_memory_utilization : float
        Share of GPU memory vLLM may take.
    llm : object, optional
        An already built ``vllm.LLM`` (or a stand-in with the same methods); when given,
        the loading options are ignored.
    sampling_params : callable, optional
        The ``SamplingParams`` class; default ``vllm.SamplingParams``. With ``llm``, a
        stand-in lets the adapter run without vllm installed (tests).
    **engine_kwargs
        Further keyword arguments for ``vllm.LLM``.

    Examples
    --------
    >>> engine = VLLMEngine("Qwen/Qwen3-4B", max_length=4096)  # doctest: +SKIP
    >>> engine.score(["2 + 2 = 4"]).perplexity()  # doctest: +SKIP
    """

    def __init__(self, model: str | Path, *, task: VLLMTask = "score",
                 max_length: int | None = None, window: WindowPolicy = "sliding",
                 stride: int | None = None, dtype: str = "auto", tensor_parallel_size: int = 1,
                 quantization: str | None = None, gpu_memory_utilization: float = 0.9,
                 llm: Any | None = None, sampling_params: Callable[..., Any] | None = None,
                 **engine_kwargs: Any) -> None:
        self.name = str(model)
        self.task = task
        self.window = window
        if llm is None or sampling_params is None:
            vllm = import_vllm()
            sampling_params = sampling_params or vllm.SamplingParams
        if llm is None:
            llm = vllm.LLM(model=self.name, dtype=dtype, max_model_len=max_length,
                           tensor_parallel_size=tensor_parallel_size,
                           quantization=quantization,
                           gpu_memory_utilization=gpu_memory_utilization,
                           **({"runner": "pooling"} if task == "embed" else {}),
                           **engine_kwargs)
        self.llm = llm
        self.sampling_params = sampling_params
        self.tokenizer = llm.get_tokenizer()
        self.max_length = max_length or int(llm.llm_engine.model_config.max_model_len)
        self.stride = stride if stride is not None else self.max_length // 2
        plan_windows(0, 0, max_length=self.max_length, policy=window, stride=self.stride)
        self.stats = BatchStats()

    def describe(self) -> dict[str, str]:
        """Provenance: model, backend, task and long-text policy."""
        policy = describe_policy(self.window, self.max_length, self.stride)
        return {"model": self.name, "backend": "vllm", "task": self.task, "long_text": policy}

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of ``texts`` without special tokens."""
        return encode_plain(self.tokenizer, texts)

    def score(self, texts: Sequence[str],
              contexts: Sequence[str] | None = None) -> TokenLogprobs:
        """Log-probability of every token of each text from vLLM prompt logprobs.

        See :meth:`metaq.engines.base.ScoringEngine.score`.
        """
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"got {len(contexts)} contexts for {len(texts)} texts; give one "
                             "context per text or none")
        segments, unscored = plan_segments(
            self.encode(texts), None if contexts is None else self.encode(contexts),
            prefix_ids(self.tokenizer), max_length=self.max_length, policy=self.window,
            stride=self.stride)
        outputs = self.llm.generate(
            [{"prompt_token_ids": list(s.ids)} for s in segments],
            self.sampling_params(max_tokens=1, prompt_logprobs=0, temperature=0.0),
            use_tqdm=False)
        pieces = [_prompt_token_logprobs(out.prompt_logprobs, s.ids)[s.first:]
                  for out, s in zip(outputs, segments, strict=True)]
        logprobs = gather_by_owner(segments, pieces, len(texts))
        tokens = sum(len(s.ids) for s in segments)
        stats = BatchStats(n_texts=len(texts), n_segments=len(segments), n_batches=1,
                           real_tokens=tokens, padded_tokens=tokens,
                           scored_tokens=sum(lp.size for lp in logprobs),
                           unscored_tokens=unscored)
        self.stats += stats
        return TokenLogprobs(logprobs, stats)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings from the pooling runner, shape ``(len(texts), dim)``."""
        outputs = self.llm.embed(list(texts), use_tqdm=False)
        return l2_normalise(np.array([out.outputs.embedding for out in outputs]))


def _prompt_token_logprobs(prompt_logprobs: Sequence[dict[int, Any] | None],
                           ids: Sequence[int]) -> np.ndarray:
    """Log-probability of each prompt token from vLLM's per-position dicts.

    Position 0 has no prediction (``None``) and gets NaN; position ``t`` holds a dict
    ``{token_id: Logprob}`` that always contains the prompt token itself.
    """
    out = np.full(len(ids), np.nan)
    for position, (entry, token) in enumerate(zip(prompt_logprobs, ids, strict=True)):
        if entry is not None:
            out[position] = entry[token].logprob
    return out
