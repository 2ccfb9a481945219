"""Which record fields hold the question, reasoning, answer, domain and id.

A :class:`ColumnMapping` names the field of each part. Fields not given are detected from the
first readable record by common names (case-insensitive, first match wins):

============  ===================================================================
part          candidate names
============  ===================================================================
question      question, prompt, instruction, problem, query, input
reasoning     reasoning, reasoning_content, thought, thoughts, thinking, cot,
              chain_of_thought, rationale, trace, explanation
answer        answer, final_answer, response, output, solution, completion, target
domain        domain, category, subject, topic
id            id, uid, uuid, idx, example_id, question_id
============  ===================================================================

When no question/reasoning field is found and the record has a chat field (``messages``,
``conversations``, ...), the chat parser in :mod:`metaq.io.chat` supplies question, reasoning
(``<think>`` block or ``reasoning_content``) and answer. A reasoning field present in the record
always wins over one parsed from the chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from metaq.exceptions import DatasetReadError
from metaq.features.base import Example
from metaq.io.chat import CHAT_FIELDS, ChatFormatError, ChatTurns, parse_chat

CANDIDATES: dict[str, tuple[str, ...]] = {
    "question": ("question", "prompt", "instruction", "problem", "query", "input"),
    "reasoning": ("reasoning", "reasoning_content", "thought", "thoughts", "thinking", "cot",
                  "chain_of_thought", "rationale", "trace", "explanation"),
    "answer": ("answer", "final_answer", "response", "output", "solution", "completion",
               "target"),
    "domain": ("domain", "category", "subject", "topic"),
    "id": ("id", "uid", "uuid", "idx", "example_id", "question_id"),
}


class BadRecord(ValueError):
    """A record that cannot become an :class:`Example`; `reason` is its count column suffix."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ColumnMapping:
    """Field names of each part of an example (``None``: detect it, or absent).

    Parameters
    ----------
    question, reasoning, answer, domain, id : str, optional
        Record field holding that part.
    chat : str, optional
        Field holding chat turns (``messages``), used for parts without a field.

    Examples
    --------
    >>> ColumnMapping.parse("question=prompt,reasoning=cot")
    ColumnMapping(question='prompt', reasoning='cot', answer=None, domain=None, id=None, chat=None)
    """

    question: str | None = None
    reasoning: str | None = None
    answer: str | None = None
    domain: str | None = None
    id: str | None = None
    chat: str | None = None

    @classmethod
    def parse(cls, text: str) -> ColumnMapping:
        """Build a mapping from ``part=field,part=field`` (the CLI's ``--columns``).

        Raises
        ------
        DatasetReadError
            On an unknown part or a malformed item.
        """
        parts = {f.name for f in fields(cls)}
        values: dict[str, str] = {}
        for item in filter(None, (s.strip() for s in text.split(","))):
            part, sep, field = item.partition("=")
            if not sep or part.strip() not in parts or not field.strip():
                raise DatasetReadError(
                    f"bad column mapping item {item!r}: write PART=FIELD with PART one of "
                    f"{sorted(parts)}, e.g. `--columns question=prompt,reasoning=cot`.")
            values[part.strip()] = field.strip()
        return cls(**values)

    def describe(self) -> str:
        """``part=field`` pairs of the mapped parts, for provenance."""
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name))

    def completed(self, record: Mapping[str, Any]) -> ColumnMapping:
        """Return this mapping with the unset parts detected from `record`'s field names."""
        by_lower = {str(k).lower(): str(k) for k in record}
        detected: dict[str, str] = {}
        taken = {v for v in (getattr(self, f.name) for f in fields(self)) if v}
        for part, names in CANDIDATES.items():
            if getattr(self, part) is not None:
                continue
            match = next((by_lower[n] for n in names if n in by_lower
                          and by_lower[n] not in taken), None)
            if match is not None:
                detected[part] = match
                taken.add(match)
        has_question = bool(self.question or detected.get("question"))
        has_reasoning = bool(self.reasoning or detected.get("reasoning"))
        if self.chat is None and not (has_question and has_reasoning):
            chat = next((by_lower[n] for n in CHAT_FIELDS if n in by_lower), None)
            if chat is not None and chat not in taken:
                detected["chat"] = chat
        return replace(self, **detected)


def record_to_example(record: Mapping[str, Any], mapping: ColumnMapping, *,
                      fallback_id: str, location: str) -> Example:
    """Turn one record into an :class:`Example` using a completed mapping.

    Parameters
    ----------
    record : mapping
        The raw record.
    mapping : ColumnMapping
        Field names (see :meth:`ColumnMapping.completed`).
    fallback_id : str
        Id used when the record has no id field.
    location : str
        ``<file>:<line>`` of the record.

    Returns
    -------
    Example

    Raises
    ------
    BadRecord
        ``missing_field`` (no question or reasoning), ``bad_type`` (a part that is not text
        or a number), ``bad_chat`` (unusable chat turns) or ``empty_reasoning``.
    """
    chat = _chat_parts(record, mapping)
    question = _text(record, mapping.question, "question") or (chat.question if chat else None)
    reasoning = _text(record, mapping.reasoning, "reasoning")
    if reasoning is None and chat is not None:
        reasoning = chat.reasoning
    answer = _text(record, mapping.answer, "answer")
    if answer is None:
        answer = chat.answer if chat else ""
    if question is None or reasoning is None:
        part = "question" if question is None else "reasoning"
        raise BadRecord("missing_field", f"no {part} (fields: {sorted(map(str, record))}; "
                                         f"mapping: {mapping.describe() or 'none detected'})")
    if not reasoning.strip():
        raise BadRecord("empty_reasoning", "the reasoning is empty")
    return Example(
        id=_text(record, mapping.id, "id") or fallback_id,
        question=question,
        reasoning=reasoning,
        answer=answer,
        domain=(_text(record, mapping.domain, "domain") or "").strip(),
        location=location,
    )


def _chat_parts(record: Mapping[str, Any], mapping: ColumnMapping) -> ChatTurns | None:
    if mapping.chat is None or mapping.chat not in record:
        return None
    try:
        return parse_chat(record[mapping.chat])
    except ChatFormatError as err:
        raise BadRecord("bad_chat", f"field {mapping.chat!r}: {err}") from None


def _text(record: Mapping[str, Any], field: str | None, part: str) -> str | None:
    if field is None or field not in record or record[field] is None:
        return None
    value = record[field]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadRecord("bad_type", f"the {part} field {field!r} holds a {type(value).__name__}, "
                                f"not text")
