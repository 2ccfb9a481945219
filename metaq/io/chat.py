"""Reasoning traces inside text and chat records: trace markers, content parts, turns.

Trace markers (:func:`split_trace`), in any text field or assistant message:

- ``<think>REASONING</think>ANSWER`` (DeepSeek-R1, Mixture-of-Thoughts); an unclosed
  ``<think>`` or a lone ``</think>`` are also split;
- ``<|begin_of_thought|>REASONING<|end_of_thought|>`` then
  ``<|begin_of_solution|>ANSWER<|end_of_solution|>`` (OpenThoughts, Bespoke-Stratos, Sky-T1);
- ``<Thought>REASONING</Thought><Output>ANSWER</Output>`` (Marco-o1);
- an answer wrapped in ``<answer>…</answer>`` after any of them loses its tags.

Chat records (:func:`parse_chat`) are lists of OpenAI ``role``/``content`` or ShareGPT
``from``/``value`` turns. A turn's content may be text or a list of content parts
(``[{"type": "reasoning"|"thinking"|"text", "text"|"value": ...}]``, LLaMA-Factory and
OpenAI's multi-part shape): ``reasoning``/``thinking`` parts are the reasoning, ``text`` parts
the message, other parts (images, tool calls) are ignored. An assistant turn's reasoning is a
separate ``reasoning_content`` (or ``reasoning``/``thinking``) field, its reasoning parts, or
the trace markers of its text. With ``turns="last"`` (default) the example is the final
assistant turn and the last user turn before it; with ``turns="each"`` every assistant turn
that carries reasoning is one example, with the user turn before it. System and tool turns
are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

CHAT_FIELDS = ("messages", "conversations", "conversation", "chat", "dialogue")
Turns = Literal["last", "each"]
_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
_REASONING_PARTS = {"reasoning", "thinking"}
_TEXT_PARTS = {"text", "output_text", "input_text"}
_USER_ROLES = {"user", "human", "prompter"}
_ASSISTANT_ROLES = {"assistant", "gpt", "model", "bot"}
#: (opening, closing) markers of a reasoning block, and of the answer that may follow it.
TRACE_MARKERS = (("<think>", "</think>"), ("<|begin_of_thought|>", "<|end_of_thought|>"),
                 ("<Thought>", "</Thought>"))
ANSWER_MARKERS = (("<|begin_of_solution|>", "<|end_of_solution|>"), ("<Output>", "</Output>"),
                  ("<answer>", "</answer>"))


@dataclass(frozen=True)
class ChatTurns:
    """The parts of one chat example metaq uses (`turn`: the assistant turn's position)."""

    question: str
    reasoning: str
    answer: str
    turn: int = 0


class ChatFormatError(ValueError):
    """A chat record lacks a user or assistant turn (reported as a bad record)."""


def has_trace_markers(text: str) -> bool:
    """Whether `text` holds a reasoning block marker of :data:`TRACE_MARKERS`."""
    return any(open_ in text or close in text for open_, close in TRACE_MARKERS)


def split_trace(text: str) -> tuple[str, str]:
    """Split a text into (reasoning, answer) at its trace markers.

    Parameters
    ----------
    text : str
        A response with a reasoning block (see the module docstring).

    Returns
    -------
    tuple of str
        The stripped reasoning (``""`` without a marker) and the answer: the rest of the
        text, without its answer markers.

    Examples
    --------
    >>> split_trace("<think>2+2=4</think><answer>4</answer>")
    ('2+2=4', '4')
    >>> split_trace("<|begin_of_thought|>2+2=4<|end_of_thought|>"
    ...             "<|begin_of_solution|>It is 4.<|end_of_solution|>")
    ('2+2=4', 'It is 4.')
    >>> split_trace("Just an answer.")
    ('', 'Just an answer.')
    """
    for open_, close in TRACE_MARKERS:
        if open_ in text or close in text:
            reasoning, rest = _split_block(text, open_, close)
            return reasoning, _strip_answer_markers(rest)
    return "", _strip_answer_markers(text)


def split_think(text: str) -> tuple[str, str]:
    """Split an assistant message at its ``<think>`` block (see :func:`split_trace`).

    Examples
    --------
    >>> split_think("<think>2+2=4</think>The answer is 4.")
    ('2+2=4', 'The answer is 4.')
    """
    return split_trace(text)


def _split_block(text: str, open_: str, close: str) -> tuple[str, str]:
    pattern = re.compile(re.escape(open_) + "(.*?)" + re.escape(close), re.DOTALL)
    blocks = pattern.findall(text)
    if blocks:
        return "\n\n".join(b.strip() for b in blocks if b.strip()), pattern.sub("", text).strip()
    if close in text:  # chat templates that put the opening tag in the prompt
        reasoning, _, answer = text.partition(close)
        return reasoning.replace(open_, "").strip(), answer.strip()
    before, _, reasoning = text.partition(open_)  # truncated: the rest is reasoning
    return reasoning.strip(), before.strip()


def _strip_answer_markers(text: str) -> str:
    for open_, close in ANSWER_MARKERS:
        if open_ in text:
            inside = text.partition(open_)[2]
            return inside.partition(close)[0].strip()
    return text.strip()


def parse_chat(turns: Sequence[Any], *, mode: Turns = "last") -> list[ChatTurns]:
    """Extract question, reasoning and answer from a list of chat turns.

    Parameters
    ----------
    turns : sequence of dict
        Turns with ``role``/``content`` or ``from``/``value``; content text or parts.
    mode : {"last", "each"}
        The final assistant turn only, or every assistant turn that carries reasoning.

    Returns
    -------
    list of ChatTurns
        One item for ``"last"``; one per reasoning assistant turn for ``"each"``.

    Raises
    ------
    ChatFormatError
        When there is no assistant turn or no user turn before it, a turn is not a dict, or
        (``"each"``) no assistant turn carries reasoning.
    """
    if not isinstance(turns, Sequence) or isinstance(turns, str):
        raise ChatFormatError(f"expected a list of turns, got {type(turns).__name__}")
    parsed = [_role_and_content(turn, i) for i, turn in enumerate(turns)]
    assistants = [i for i, (role, _, _) in enumerate(parsed) if role in _ASSISTANT_ROLES]
    if not assistants:
        raise ChatFormatError("no assistant turn (roles seen: "
                              f"{sorted({r for r, _, _ in parsed})})")
    examples = [_example(parsed, i) for i in assistants]
    if mode == "last":
        last = examples[-1]
        if last is None:
            raise ChatFormatError("no user turn before the final assistant turn")
        if not last.reasoning and any(e and e.reasoning for e in examples[:-1]):
            raise ChatFormatError("the final assistant turn has no reasoning, but earlier "
                                  "assistant turns do (turns='each', CLI --chat-turns each, "
                                  "reads every turn)")
        return [last]
    found = [e for e in examples if e is not None and e.reasoning]
    if not found:
        raise ChatFormatError("no assistant turn with a user turn before it carries reasoning")
    return found


def last_user_text(turns: Any) -> str | None:
    """Return the last user turn's text of a prompt given as chat turns, else None.

    Examples
    --------
    >>> last_user_text([{"role": "user", "content": "What is 2+2?"}])
    'What is 2+2?'
    """
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        return None
    users = [_role_and_content(t, i)[1] for i, t in enumerate(turns)
             if str(t.get("role", t.get("from", ""))).lower() in _USER_ROLES]
    return users[-1] if users else None


def _example(parsed: list[tuple[str, str, str]], index: int) -> ChatTurns | None:
    users = [content for role, content, _ in parsed[:index] if role in _USER_ROLES]
    if not users:
        return None
    _, content, separate = parsed[index]
    reasoning, answer = (separate, _strip_answer_markers(content)) if separate else \
        split_trace(content)
    return ChatTurns(question=users[-1].strip(), reasoning=reasoning.strip(), answer=answer,
                     turn=index + 1)


def _role_and_content(turn: Any, position: int) -> tuple[str, str, str]:
    if not isinstance(turn, dict):
        raise ChatFormatError(f"turn {position + 1} is a {type(turn).__name__}, not an object")
    role = str(turn.get("role", turn.get("from", ""))).lower()
    content, part_reasoning = _content(turn.get("content", turn.get("value", "")))
    separate = next((turn[k] for k in _REASONING_KEYS if isinstance(turn.get(k), str)
                     and turn[k].strip()), part_reasoning)
    return role, content, separate


def _content(content: Any) -> tuple[str, str]:
    """(text, reasoning) of a message: plain text, or a list of content parts."""
    if isinstance(content, str):
        return content, ""
    if not isinstance(content, list):
        return "", ""
    text, reasoning = [], []
    for part in content:
        if isinstance(part, str):
            text.append(part)
            continue
        if not isinstance(part, dict):
            continue
        kind = str(part.get("type", "text"))
        value = next((part[k] for k in ("text", "value", kind) if isinstance(part.get(k), str)),
                     "")
        if kind in _REASONING_PARTS:
            reasoning.append(value)
        elif kind in _TEXT_PARTS:
            text.append(value)
    return "\n\n".join(t for t in text if t), "\n\n".join(r for r in reasoning if r)
