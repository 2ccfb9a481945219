"""Which record fields hold the question, reasoning, answer, domain and id.

A :class:`ColumnMapping` names the field of each part. Fields not given are detected from the
first readable record by common names (case-insensitive, first match wins):

============  ===================================================================
part          candidate names
============  ===================================================================
question      question, prompt, instruction, problem, query, input
reasoning     reasoning, reasoning_content, thought, thoughts, thinking, cot,
              chain_of_thought, rationale, trace, explanation; else a field whose
              text holds trace markers (``<think>``, ``<|begin_of_thought|>``,
              ``<Thought>``); else ``solution`` (MATH, NuminaMath: the worked
              solution is the trace)
answer        answer, final_answer, response, output, solution, completion, target
domain        domain, category, subject, topic
id            id, uid, uuid, idx, example_id, question_id
============  ===================================================================

A question may join several fields, ``question=instruction+input``; detection does so for
Alpaca records (a non-empty ``input`` follows the ``instruction`` after a blank line). A
reasoning field holding trace markers is split (:func:`metaq.io.chat.split_trace`): the
block is the reasoning and the rest, without its ``<answer>``/``<Output>``/
``<|begin_of_solution|>`` tags, the answer, even when an answer field exists (that one then
holds a reference answer, not what the trace answered); a truncated trace without an answer
part has an empty answer. A reasoning field holding a list of texts (several
generations per question) gives one example per text, with ids ``<id>#1``, ``<id>#2``, ...

When no question/reasoning field is found and the record has a chat field (``messages``,
``conversations``, ...), the chat parser in :mod:`metaq.io.chat` supplies question, reasoning
and answer; ``turns="each"`` makes every assistant turn with reasoning an example (ids
``<id>#<turn>``). A reasoning field present in the record always wins over the chat.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from metaq.data import Example
from metaq.exceptions import DatasetReadError
from metaq.io.chat import (
    CHAT_FIELDS,
    ChatFormatError,
    ChatTurns,
    has_trace_markers,
    last_user_text,
    parse_chat,
    split_trace,
)

CANDIDATES: dict[str, tuple[str, ...]] = {
    "question": ("question", "prompt", "instruction", "problem", "query", "input"),
    "reasoning": ("reasoning", "reasoning_content", "thought", "thoughts", "thinking", "cot",
                  "chain_of_thought", "rationale", "trace", "explanation"),
    "answer": ("answer", "final_answer", "response", "output", "solution", "completion",
               "target"),
    "domain": ("domain", "category", "subject", "topic"),
    "id": ("id", "uid", "uuid", "idx", "example_id", "question_id"),
}
#: Worked solutions that are the trace when a record has no reasoning field.
SOLUTION_FIELDS = ("solution",)
_JOIN = "+"
_TURNS = ("last", "each")


class BadRecord(ValueError):
    """A record that cannot become an :class:`Example`; `reason` is its count column suffix.

    `fix`, when given, replaces the reason's general advice in the error message.
    """

    def __init__(self, reason: str, detail: str, fix: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.fix = fix


@dataclass(frozen=True)
class ColumnMapping:
    """Field names of each part of an example (``None``: detect it, or absent).

    Parameters
    ----------
    question, reasoning, answer, domain, id : str, optional
        Record field holding that part; ``question`` may join fields with ``+``.
    chat : str, optional
        Field holding chat turns (``messages``), used for parts without a field.
    turns : {"last", "each"}
        Which assistant turns of a chat are examples (see :mod:`metaq.io.chat`).

    Examples
    --------
    >>> ColumnMapping.parse("question=prompt,reasoning=cot")
    ColumnMapping(question='prompt', reasoning='cot', answer=None, domain=None, id=None, \
chat=None, turns='last')
    """

    question: str | None = None
    reasoning: str | None = None
    answer: str | None = None
    domain: str | None = None
    id: str | None = None
    chat: str | None = None
    turns: str = "last"

    def __post_init__(self) -> None:
        if self.turns not in _TURNS:
            raise DatasetReadError(f"turns={self.turns!r} is not one of {_TURNS}; use 'last' "
                                   f"(the final assistant turn) or 'each'.")

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
                    f"bad column mapping item {item!r}. Fix: write PART=FIELD with PART one "
                    f"of {sorted(parts)}, e.g. `--columns question=prompt,reasoning=cot`.")
            values[part.strip()] = field.strip()
        return cls(**values)

    def describe(self) -> str:
        """``part=field`` pairs of the mapped parts, for provenance."""
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name) and getattr(self, f.name) != f.default)

    def completed(self, record: Mapping[str, Any]) -> ColumnMapping:
        """Return this mapping with the unset parts detected from `record`'s fields."""
        by_lower = {str(k).lower(): str(k) for k in record}
        detected: dict[str, str] = {}
        taken = {name for p in (*CANDIDATES, "chat") if getattr(self, p)
                 for name in getattr(self, p).split(_JOIN)}
        for part, names in CANDIDATES.items():
            if getattr(self, part) is not None:
                continue
            match = next((by_lower[n] for n in names if n in by_lower
                          and by_lower[n] not in taken), None)
            if part == "reasoning" and match is None:
                match = _trace_field(record, taken) or next(
                    (by_lower[n] for n in SOLUTION_FIELDS if n in by_lower
                     and by_lower[n] not in taken), None)
            if match is not None:
                detected[part] = match
                taken.add(match)
        if detected.get("question", "").lower() == "instruction" and "input" in by_lower \
                and by_lower["input"] not in taken:
            detected["question"] += _JOIN + by_lower["input"]  # Alpaca
        has_question = bool(self.question or detected.get("question"))
        has_reasoning = bool(self.reasoning or detected.get("reasoning"))
        if self.chat is None and not (has_question and has_reasoning):
            chat = next((by_lower[n] for n in CHAT_FIELDS if n in by_lower), None)
            if chat is not None and chat not in taken:
                detected["chat"] = chat
        return replace(self, **detected)


def _trace_field(record: Mapping[str, Any], taken: set[str]) -> str | None:
    """Return the first text (or list of texts) field whose value holds trace markers."""
    for key, value in record.items():
        texts = value if isinstance(value, list) else [value]
        if str(key) not in taken and any(isinstance(t, str) and has_trace_markers(t)
                                         for t in texts):
            return str(key)
    return None


def record_to_examples(record: Mapping[str, Any], mapping: ColumnMapping, *,
                       fallback_id: str, location: str) -> list[Example]:
    """Turn one record into its examples using a completed mapping.

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
    list of Example
        One, or one per generation (a list of traces) or per chat turn (``turns="each"``).

    Raises
    ------
    BadRecord
        ``missing_field`` (no question or reasoning; the detail names the layout seen and
        what to map), ``bad_type`` (a part that is not text), ``bad_chat`` (unusable chat
        turns), ``not_utf8`` (a lone surrogate) or ``empty_reasoning``.
    """
    chats = _chat_parts(record, mapping)
    question = _question(record, mapping.question)
    traces = _traces(record, mapping.reasoning)
    answer = _text(record, mapping.answer, "answer")
    if traces is None and chats:
        if not any(c.reasoning.strip() for c in chats):
            raise BadRecord("empty_reasoning", "the final assistant turn has no reasoning (no "
                                               "reasoning_content field, no reasoning content "
                                               "part, no <think> or other trace markers)")
        parts = [(question or c.question, c.reasoning, c.answer if answer is None else answer,
                  c.turn) for c in chats]
    else:
        if question is None and chats:
            question = chats[-1].question
        if question is None or traces is None:
            raise BadRecord("missing_field", *_layout(record, mapping, question is None))
        chat_answer = chats[-1].answer if chats else ""
        parts = []
        if not any(t.strip() for t in traces):
            raise BadRecord("empty_reasoning", f"the reasoning field {mapping.reasoning!r} is "
                                               f"empty")
        for k, trace in enumerate(traces):
            if has_trace_markers(trace):  # the trace's own answer, even an empty one
                reasoning, own_answer = split_trace(trace)
            else:
                reasoning, own_answer = trace, chat_answer if answer is None else answer
            parts.append((question, reasoning, own_answer, k + 1))
    record_id = _text(record, mapping.id, "id") or fallback_id
    domain = (_text(record, mapping.domain, "domain") or "").strip()
    return [_example(q, r, a, record_id if len(parts) == 1 else f"{record_id}#{n}", domain,
                     f"{location}" if len(parts) == 1 else f"{location}#{n}")
            for q, r, a, n in parts]


def _example(question: str, reasoning: str, answer: str, example_id: str, domain: str,
             location: str) -> Example:
    if not reasoning.strip():
        raise BadRecord("empty_reasoning", "the reasoning is empty")
    if has_trace_markers(answer):
        answer = split_trace(answer)[1]
    for part, text in (("question", question), ("reasoning", reasoning), ("answer", answer),
                       ("id", example_id), ("domain", domain)):
        _check_unicode(text, part)
    return Example(id=example_id, question=question, reasoning=reasoning, answer=answer,
                   domain=domain, location=location)


def _check_unicode(text: str, part: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise BadRecord("not_utf8", f"the {part} holds {text[err.start]!r} at character "
                                    f"{err.start + 1}, a lone surrogate that is not Unicode "
                                    f"text") from None


def _chat_parts(record: Mapping[str, Any], mapping: ColumnMapping) -> list[ChatTurns]:
    if mapping.chat is None or mapping.chat not in record:
        return []
    try:
        return parse_chat(record[mapping.chat], mode=mapping.turns)
    except ChatFormatError as err:
        raise BadRecord("bad_chat", f"field {mapping.chat!r}: {err}") from None


def _question(record: Mapping[str, Any], field: str | None) -> str | None:
    if field is None:
        return None
    names = [field] if field in record else field.split(_JOIN)
    prompt = last_user_text(record.get(names[0]))  # a prompt given as chat turns (verl)
    if prompt is not None:
        return prompt
    texts = [_text(record, name, "question") for name in names]
    if texts[0] is None:
        return None
    return "\n\n".join(t for t in texts if t and t.strip())


def _traces(record: Mapping[str, Any], field: str | None) -> list[str] | None:
    """Return the reasoning field as a list of traces (a list field: one per generation)."""
    if field is None or field not in record or record[field] is None:
        return None
    value = record[field]
    if isinstance(value, list):
        if not value or not all(isinstance(v, str) for v in value):
            kinds = sorted({type(v).__name__ for v in value}) or ["nothing"]
            raise BadRecord("bad_type", f"the reasoning field {field!r} holds a list of "
                                        f"{', '.join(kinds)}, not of texts")
        return value
    text = _text(record, field, "reasoning")
    return None if text is None else [text]


def _text(record: Mapping[str, Any], field: str | None, part: str) -> str | None:
    if field is None or field not in record or record[field] is None:
        return None
    value = record[field]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value) if math.isfinite(value) else None  # JSON NaN: no value
    raise BadRecord("bad_type", f"the {part} field {field!r} holds a {type(value).__name__}, "
                                f"not text")


def _layout(record: Mapping[str, Any], mapping: ColumnMapping,
            no_question: bool) -> tuple[str, str]:
    """Describe the record's layout and what to map, for a missing-field message."""
    names = sorted(map(str, record))
    lower = {n.lower() for n in names}
    seen = f"fields {names}, mapping {mapping.describe() or 'none detected'}"
    if no_question:
        return (f"no question ({seen})", "map the question's field with --columns "
                                         "question=FIELD (e.g. question=puzzle)")
    if {"instruction", "output"} <= lower:
        return (f"no reasoning: an Alpaca record ({seen}), data without traces",
                "to measure the outputs as traces map --columns reasoning=output")
    if isinstance(record.get("prompt"), list):
        return (f"no reasoning: an RL prompt record ({seen}: prompt turns, no response)",
                "extract the dataset of generated traces instead; prompts have no trace")
    answers = [n for n in names if n.lower() in CANDIDATES["answer"]]
    if answers:
        return (f"no reasoning: no field holds a trace ({seen})",
                f"if {answers[0]!r} holds the reasoning map --columns reasoning={answers[0]}; "
                f"else the data has no traces to measure")
    return f"no reasoning ({seen})", "map the fields with --columns question=FIELD,reasoning=FIELD"
