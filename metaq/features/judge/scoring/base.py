"""The judge back-end interface, its result type and the label-token helpers they share."""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from metaq.exceptions import InvalidParameterError, MetaqError
from metaq.features.judge.rubric import LABELS, ChatFrame, JudgePrompt

OK, TRUNCATED, FAILED = "ok", "truncated", "failed"

#: Judge back-ends by engine name -> "module:class", imported only when that engine is built.
ENGINES: dict[str, str] = {
    "transformers": "metaq.features.judge.scoring.transformers_backend:TransformersJudgeBackend",
    "vllm": "metaq.features.judge.scoring.vllm_backend:VLLMJudgeBackend",
    "openai": "metaq.features.judge.scoring.openai_backend:OpenAIJudgeBackend",
}


@dataclass(frozen=True)
class ProbeScores:
    """P(POSITIVE) of every probe of one trace, with what happened to each.

    Attributes
    ----------
    p_positive : numpy.ndarray
        One value per probe (in :attr:`JudgePrompt.probes` order); NaN where not judged.
    status : tuple of str
        ``"ok"``, ``"truncated"`` (the prompt does not fit the judge's context) or
        ``"failed"`` (the call failed after its retries), per probe.
    errors : tuple of str
        The last error message of each failed probe (``""`` elsewhere).
    """

    p_positive: np.ndarray
    status: tuple[str, ...]
    errors: tuple[str, ...]

    @classmethod
    def from_values(cls, values: Sequence[float], status: Sequence[str],
                    errors: Sequence[str] | None = None) -> ProbeScores:
        """Build from per-probe values (NaN is forced where ``status`` is not ``"ok"``)."""
        p = np.array([v if s == OK else math.nan for v, s in zip(values, status, strict=True)],
                     dtype=float)
        return cls(p, tuple(status), tuple(errors) if errors is not None else ("",) * len(p))


class JudgeBackend(ABC):
    """Scores judge prompts: P(POSITIVE) from the next-token distribution after each prompt.

    ``P(POSITIVE) = exp(l_pos) / (exp(l_pos) + exp(l_neg))`` where ``l_pos`` and ``l_neg``
    are the logits (or log-probabilities) of the first tokens of the two label words.
    No text is sampled, so there is nothing to parse.
    """

    engine: ClassVar[str]

    @abstractmethod
    def chat_frame(self) -> ChatFrame:
        """Return the chat-template text around the user message.

        See :func:`~metaq.features.judge.rubric.build_prompt`.
        """

    @abstractmethod
    def score(self, prompts: Sequence[JudgePrompt]) -> list[ProbeScores]:
        """Judge every probe of every prompt; never raises for a single failed call."""

    @abstractmethod
    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy text replies to user messages (used by the LLM atomizer)."""

    @abstractmethod
    def describe(self) -> dict[str, str]:
        """Return what judged (engine, model id, settings), recorded as provenance."""


def make_backend(engine: str, model: str, **options: Any) -> JudgeBackend:
    """Build the judge back-end ``engine`` for ``model``, importing it only now.

    Parameters
    ----------
    engine : {"transformers", "vllm", "openai"}
        Which back-end.
    model : str
        Model id or local path (for ``openai``: the served model name).
    **options
        Passed to the back-end's constructor (see each class).

    Returns
    -------
    JudgeBackend

    Raises
    ------
    InvalidParameterError
        For an unknown engine name.
    """
    if engine not in ENGINES:
        raise InvalidParameterError(
            f"unknown judge engine {engine!r}: use one of {', '.join(ENGINES)}")
    module, cls = ENGINES[engine].split(":")
    return getattr(importlib.import_module(module), cls)(model, **options)


def two_way_probability(logit_pos: np.ndarray, logit_neg: np.ndarray) -> np.ndarray:
    """Softmax over the two label logits: ``1 / (1 + exp(l_neg - l_pos))``, stable.

    Examples
    --------
    >>> float(two_way_probability(np.array(2.0), np.array(2.0)))
    0.5
    """
    return 1.0 / (1.0 + np.exp(np.asarray(logit_neg, float) - np.asarray(logit_pos, float)))


def label_token_ids(tokenizer: Any, frame: ChatFrame,
                    labels: tuple[str, str] = LABELS) -> tuple[int, int]:
    """First token ids of the two label words as the judge would start its reply.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        The judge's tokenizer.
    frame : ChatFrame
        Decides whether the label word follows a space (see :attr:`ChatFrame.label_prefix`).
    labels : tuple of str
        The positive and the negative label words.

    Returns
    -------
    tuple of int
        ``(positive_id, negative_id)``.

    Raises
    ------
    MetaqError
        When both words start with the same token (the judge could not tell them apart).
    """
    ids = [tokenizer.encode(frame.label_prefix + word, add_special_tokens=False)[0]
           for word in labels]
    if ids[0] == ids[1]:
        raise MetaqError(
            f"the judge tokenizer starts both labels {labels} with the same token {ids[0]}: "
            "choose label words whose first tokens differ")
    return ids[0], ids[1]


def chat_frame_of(tokenizer: Any) -> ChatFrame:
    r"""Return the frame of a tokenizer's chat template (plain ``"\nAnswer:\n"`` cue without one).

    The template is rendered around a placeholder user message with the generation prompt
    (thinking disabled where the template supports it), and split at the placeholder.
    """
    if not getattr(tokenizer, "chat_template", None):
        return ChatFrame()
    marker = "\x00USER\x00"
    text = tokenizer.apply_chat_template([{"role": "user", "content": marker}], tokenize=False,
                                         add_generation_prompt=True, enable_thinking=False)
    head, tail = text.split(marker)
    return ChatFrame(head=head, tail=tail)
