r"""Perplexity metrics of a reasoning trace under a causal LM.

- ``perplexity``: ``exp`` of the mean per-token negative log-likelihood of the reasoning
  (the study's definition, under Qwen3-4B there). Every reasoning token is scored, the first
  one given the tokenizer's BOS token (EOS when there is no BOS; see
  :mod:`metaq.engines.causal_lm`).
- ``conditional_perplexity``: the same tokens scored after the question. The question is
  rendered with the tokenizer's chat template as a user turn with the generation prompt
  (``<|im_start|>user ... <|im_start|>assistant``) when the tokenizer has one; otherwise it
  is the plain text ``question + "\\n\\n"``.
- ``ppl_ratio``: ``conditional_perplexity / perplexity``, the instruction-following
  difficulty (IFD) of Li et al. (2024, "From Quantity to Quality"): near or above 1 when
  the question does not help predict the trace, low when the trace follows from it.

Traces longer than ``max_length`` tokens are scored with a sliding window (default) or
truncated; the policy is recorded in the provenance column ``meta__perplexity_long_text``.
With truncation, the conditional score may cover fewer tokens than the unconditional one
(the question takes room). The engine's resolved settings are logged when it loads. The
extractor is subsampled: by default the runner scores a stratified sample of each dataset
(``sample``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, ClassVar

from metaq.engines.base import ScoringEngine
from metaq.engines.loading import resolve_device, resolve_dtype
from metaq.engines.windows import WINDOW_POLICIES, WindowPolicy, describe_policy
from metaq.exceptions import MetaqError
from metaq.features.base import Example, Extractor

logger = logging.getLogger(__name__)

#: Put between question and reasoning when the tokenizer has no chat template.
QUESTION_SEPARATOR = "\n\n"
ENGINES = ("transformers", "vllm")


def question_context(tokenizer: Any, question: str) -> str:
    r"""Render the text placed before the reasoning when scoring it given the question.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        The scoring model's tokenizer.
    question : str
        The question.

    Returns
    -------
    str
        The chat template's rendering of a user turn plus the generation prompt when the
        tokenizer has a template (a leading BOS string removed: the engine adds it), else
        ``question + QUESTION_SEPARATOR``.

    Examples
    --------
    >>> class Plain:
    ...     chat_template = None
    >>> question_context(Plain(), "What is 2 + 2?")
    'What is 2 + 2?\n\n'
    """
    if not getattr(tokenizer, "chat_template", None):
        return question + QUESTION_SEPARATOR
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                             tokenize=False, add_generation_prompt=True)
    bos = getattr(tokenizer, "bos_token", None)
    return rendered[len(bos):] if bos and rendered.startswith(bos) else rendered


class PerplexityExtractor(Extractor):
    """Perplexity of the reasoning, alone and given the question, and their ratio.

    Parameters
    ----------
    lm : str
        Hub id or local folder of a causal LM (the study: ``Qwen/Qwen3-4B``). Required.
    max_length : int, optional
        Longest window in tokens; default the model's maximum.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``...
    batch_tokens : int
        Padded token slots per forward pass (transformers engine).
    engine : {"transformers", "vllm"}
        Scoring back-end.
    window : {"sliding", "truncate"}
        Policy for traces longer than ``max_length``.
    stride : int, optional
        Sliding-window step; default ``max_length // 2``.
    dtype : {"auto", "float32", "bfloat16", "float16"}
        ``"auto"``: bf16 on GPU, fp32 on CPU.

    Notes
    -----
    Emits ``perplexity``, ``conditional_perplexity`` and ``ppl_ratio`` per example (module
    docstring); NaN for an empty trace.
    """

    name: ClassVar[str] = "perplexity"
    version: ClassVar[str] = "1"
    metrics: ClassVar[tuple[str, ...]] = ("perplexity", "conditional_perplexity", "ppl_ratio")
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    extra: ClassVar[str] = "extract"
    subsampled: ClassVar[bool] = True

    def __init__(self, *, lm: str | None = None, max_length: int | None = None,
                 device: str = "auto", batch_tokens: int = 8192, engine: str = "transformers",
                 window: WindowPolicy = "sliding", stride: int | None = None,
                 dtype: str = "auto") -> None:
        self.lm = lm
        self.max_length = max_length
        self.device = device
        self.batch_tokens = batch_tokens
        self.engine = engine
        self.window = window
        self.stride = stride
        self.dtype = dtype
        self.engine_: ScoringEngine | None = None

    def config(self) -> dict[str, Any]:
        """Model, engine, dtype and the long-text policy: everything that moves the numbers.

        ``dtype="auto"`` is resolved for the transformers engine (bf16 on a GPU, fp32 on the
        CPU) so results computed in different precisions never share a cache key.
        """
        return {"lm": self.lm, "engine": self.engine, "dtype": self._resolved_dtype(),
                "max_length": self.max_length, "window": self.window, "stride": self.stride}

    def provenance(self) -> dict[str, str]:
        """Version, config and ``long_text``, the long-trace policy in words.

        Built from the options only, so a run served entirely from the cache reports the
        same strings as a fresh one.
        """
        length = self.max_length if self.max_length is not None else "model limit"
        stride = (self.stride if self.stride is not None
                  else self.max_length // 2 if self.max_length is not None else "half")
        return {**super().provenance(),
                "long_text": describe_policy(self.window, length, stride)}

    def _resolved_dtype(self) -> str:
        if self.engine != "transformers" or self.dtype != "auto":
            return self.dtype
        try:
            return str(resolve_dtype("auto", resolve_device(self.device))).removeprefix("torch.")
        except MetaqError:  # torch missing or device unusable: setup will say so
            return self.dtype

    def setup(self) -> None:
        """Load the causal LM into the chosen engine. Idempotent."""
        if self.engine_ is not None:
            return
        self._check_options()
        if self.engine == "vllm":
            from metaq.engines.vllm_engine import VLLMEngine

            self.engine_ = VLLMEngine(self.lm, max_length=self.max_length, window=self.window,
                                      stride=self.stride, dtype=self.dtype)
        else:
            from metaq.engines.causal_lm import TransformersEngine

            self.engine_ = TransformersEngine(self.lm, device=self.device, dtype=self.dtype,
                                              max_length=self.max_length, window=self.window,
                                              stride=self.stride, batch_tokens=self.batch_tokens)
        logger.info("perplexity engine ready: %s", self.engine_.describe())

    def _check_options(self) -> None:
        if not self.lm:
            raise MetaqError("perplexity needs a causal LM: pass lm= (CLI: --lm ID|PATH), "
                             "e.g. the study's Qwen/Qwen3-4B or a local model folder")
        if self.engine not in ENGINES:
            raise MetaqError(f"engine={self.engine!r} is not a scoring engine; use one of "
                             f"{ENGINES}")
        if self.window not in WINDOW_POLICIES:
            raise MetaqError(f"window={self.window!r} is unknown; use one of "
                             f"{WINDOW_POLICIES}")

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Unconditional and question-conditioned perplexity of each trace."""
        self.setup()
        traces = [ex.reasoning for ex in examples]
        contexts = [question_context(self.engine_.tokenizer, ex.question) for ex in examples]
        alone = self.engine_.score(traces).perplexity()
        given = self.engine_.score(traces, contexts).perplexity()
        scores = []
        for ex, ppl, cond in zip(examples, alone, given, strict=True):
            valid = bool(ex.reasoning.strip()) and math.isfinite(ppl) and math.isfinite(cond)
            scores.append({"perplexity": float(ppl) if valid else math.nan,
                           "conditional_perplexity": float(cond) if valid else math.nan,
                           "ppl_ratio": float(cond / ppl) if valid else math.nan})
        return scores
