"""Chat-format records: ``messages``/``conversations`` turns with reasoning in ``<think>``.

Supported shapes (OpenAI ``role``/``content`` and ShareGPT ``from``/``value`` turns):

- the final assistant turn holds ``<think>REASONING</think>ANSWER`` (DeepSeek-R1 and
  Mixture-of-Thoughts style); an unclosed ``<think>`` or a lone ``</think>`` are also split;
- the final assistant turn has a separate ``reasoning_content`` (or ``reasoning``/``thinking``)
  field and its ``content`` is the answer.

The question is the last user turn before the final assistant turn; system turns are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CHAT_FIELDS = ("messages", "conversations", "conversation", "chat", "dialogue")
_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
_USER_ROLES = {"user", "human", "prompter"}
_ASSISTANT_ROLES = {"assistant", "gpt", "model", "bot"}
_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)


@dataclass(frozen=True)
class ChatTurns:
    """The parts of a chat record metaq uses."""

    question: str
    reasoning: str
    answer: str


class ChatFormatError(ValueError):
    """A chat record lacks a user or assistant turn (reported as a bad record)."""


def split_think(text: str) -> tuple[str, str]:
    """Split an assistant message into (reasoning, answer) at its ``<think>`` block.

    Parameters
    ----------
    text : str
        The assistant message.

    Returns
    -------
    tuple of str
        The stripped reasoning (``""`` without a think block) and the rest of the message.

    Examples
    --------
    >>> split_think("<think>2+2=4</think>The answer is 4.")
    ('2+2=4', 'The answer is 4.')
    >>> split_think("Just an answer.")
    ('', 'Just an answer.')
    """
    blocks = _THINK.findall(text)
    if blocks:
        return "\n\n".join(b.strip() for b in blocks), _THINK.sub("", text).strip()
    if "</think>" in text:  # chat templates that put the opening tag in the prompt
        reasoning, _, answer = text.partition("</think>")
        return reasoning.replace("<think>", "").strip(), answer.strip()
    if "<think>" in text:  # truncated generation: everything after the tag is reasoning
        before, _, reasoning = text.partition("<think>")
        return reasoning.strip(), before.strip()
    return "", text.strip()


def parse_chat(turns: Sequence[Any]) -> ChatTurns:
    """Extract question, reasoning and answer from a list of chat turns.

    Parameters
    ----------
    turns : sequence of dict
        Turns with ``role``/``content`` or ``from``/``value``.

    Returns
    -------
    ChatTurns
        The last user turn before the final assistant turn, and that assistant turn split
        into reasoning and answer.

    Raises
    ------
    ChatFormatError
        When there is no assistant turn or no user turn before it, or a turn is not a dict.
    """
    if not isinstance(turns, Sequence) or isinstance(turns, str):
        raise ChatFormatError(f"expected a list of turns, got {type(turns).__name__}")
    parsed = [_role_and_content(turn, i) for i, turn in enumerate(turns)]
    last_assistant = max((i for i, (role, _, _) in enumerate(parsed) if role in _ASSISTANT_ROLES),
                         default=None)
    if last_assistant is None:
        raise ChatFormatError("no assistant turn (roles seen: "
                              f"{sorted({r for r, _, _ in parsed})})")
    users = [content for role, content, _ in parsed[:last_assistant] if role in _USER_ROLES]
    if not users:
        raise ChatFormatError("no user turn before the final assistant turn")
    _, content, separate = parsed[last_assistant]
    reasoning, answer = (separate, content.strip()) if separate else split_think(content)
    return ChatTurns(question=users[-1].strip(), reasoning=reasoning.strip(), answer=answer)


def _role_and_content(turn: Any, position: int) -> tuple[str, str, str]:
    if not isinstance(turn, dict):
        raise ChatFormatError(f"turn {position + 1} is a {type(turn).__name__}, not an object")
    role = str(turn.get("role", turn.get("from", ""))).lower()
    content = turn.get("content", turn.get("value", ""))
    separate = next((turn[k] for k in _REASONING_KEYS if isinstance(turn.get(k), str)), "")
    return role, content if isinstance(content, str) else "", separate
