"""Rule-based step splitter: a reasoning trace into verbatim steps, a question into premises.

Rules, applied in order:

1. Fenced code blocks (```` ``` ```` ... ```` ``` ````, an unterminated fence runs to the end)
   are one step each, kept whole.
2. The rest is cut into lines; each non-blank line starts a new unit. Paragraphs, numbered
   steps ("1.", "Step 2:", "- ") and GSM8K-style one-calculation-per-line traces all put their
   steps on their own lines, so a line is the natural unit. (Hard-wrapped prose, rare in
   model traces, is therefore split per line.)
3. A line is cut into sentences (after ``.``, ``!`` or ``?`` followed by whitespace, and
   between adjacent ``<<...>>`` calculator annotations). Every sentence that contains a
   calculation (an operator between numbers, ``=``, or ``<<...>>``) becomes its own step;
   runs of consecutive non-calculation sentences stay together as one step. A list marker
   ("1.", "a)") is not a sentence: it stays with the sentence after it.
4. A piece without any letter or digit (a lone ``**`` or ``---``) is merged into the step
   before it (or after it, when it comes first).

Every step is a span of the trace: ``trace[step.start:step.end] == step.text``, spans are
increasing and disjoint, and only whitespace lies between them, so no text is lost or
invented (the steps concatenate back to the trace up to whitespace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

StepKind = Literal["code", "calculation", "text"]

_CODE_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_LINE = re.compile(r"[^\n]+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=>>)\s+(?=<<)")
_CALCULATION = re.compile(r"[\d)]\s*[-+*/×÷^]\s*[\d($]|=|<<[^>]*>>")
_WORD = re.compile(r"\w")
_LIST_MARKER = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]")


@dataclass(frozen=True)
class Step:
    """One reasoning step: a verbatim span of the trace.

    Attributes
    ----------
    text : str
        The step, ``trace[start:end]``, with no leading or trailing whitespace.
    start, end : int
        Character offsets in the trace.
    kind : {"code", "calculation", "text"}
        What the rules saw: a code block, a sentence with a calculation, or prose.
    """

    text: str
    start: int
    end: int
    kind: StepKind


def split_steps(trace: str) -> list[Step]:
    r"""Split a reasoning trace into verbatim steps (rules in the module docstring).

    Parameters
    ----------
    trace : str
        The reasoning text.

    Returns
    -------
    list of Step
        In order; empty when the trace is blank.

    Examples
    --------
    >>> [s.text for s in split_steps("We need the total. 2 + 3 = 5.\nSo the answer is 5.")]
    ['We need the total.', '2 + 3 = 5.', 'So the answer is 5.']
    """
    pieces: list[Step] = []
    cursor = 0
    for fence in _CODE_FENCE.finditer(trace):
        pieces.extend(_split_prose(trace, cursor, fence.start()))
        pieces.append(Step(fence.group(), fence.start(), fence.end(), "code"))
        cursor = fence.end()
    pieces.extend(_split_prose(trace, cursor, len(trace)))
    return _merge_wordless(trace, pieces)


def extract_premises(question: str) -> list[str]:
    """Return the question's statements (its sentences that are not questions), verbatim.

    The study keeps "the question's data as premises"; here a premise is every sentence of
    the question that does not end with ``?``. A question with no such sentence gives an
    empty list (the question itself is always shown to the judge).

    Parameters
    ----------
    question : str
        The problem statement.

    Returns
    -------
    list of str
        The premises, in order.

    Examples
    --------
    >>> extract_premises("Ann has 3 apples. Bob has 2. How many in total?")
    ['Ann has 3 apples.', 'Bob has 2.']
    """
    return [s.text for s in _split_prose(question, 0, len(question), group=False)
            if not s.text.rstrip("*_ ").endswith("?")]


def _split_prose(text: str, start: int, end: int, *, group: bool = True) -> list[Step]:
    steps: list[Step] = []
    for line in _LINE.finditer(text, start, end):
        sentences = _sentences(text, line.start(), line.end())
        steps.extend(_group_sentences(text, sentences) if group else
                     [Step(text[a:b], a, b, _kind(text[a:b])) for a, b in sentences])
    return steps


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for brk in _SENTENCE_BREAK.finditer(text, start, end):
        spans.extend(_stripped(text, cursor, brk.start()))
        cursor = brk.end()
    spans.extend(_stripped(text, cursor, end))
    # a list marker ("1.", "a)") belongs to the sentence after it
    for i in range(len(spans) - 2, -1, -1):
        if _LIST_MARKER.fullmatch(text[spans[i][0]:spans[i][1]]):
            spans[i:i + 2] = [(spans[i][0], spans[i + 1][1])]
    return spans


def _stripped(text: str, start: int, end: int):
    chunk = text[start:end]
    if chunk.strip():
        lead = len(chunk) - len(chunk.lstrip())
        yield start + lead, start + len(chunk.rstrip())


def _group_sentences(text: str, spans: list[tuple[int, int]]) -> list[Step]:
    """Put calculation sentences alone and join runs of prose sentences into one step."""
    steps: list[Step] = []
    run_start: int | None = None
    run_end = 0
    for a, b in spans:
        if _kind(text[a:b]) == "calculation":
            if run_start is not None:
                steps.append(Step(text[run_start:run_end], run_start, run_end, "text"))
                run_start = None
            steps.append(Step(text[a:b], a, b, "calculation"))
        else:
            run_start = a if run_start is None else run_start
            run_end = b
    if run_start is not None:
        steps.append(Step(text[run_start:run_end], run_start, run_end, "text"))
    return steps


def _kind(sentence: str) -> StepKind:
    return "calculation" if _CALCULATION.search(sentence) else "text"


def _merge_wordless(trace: str, pieces: list[Step]) -> list[Step]:
    merged: list[Step] = []
    pending_start: int | None = None  # wordless pieces before the first real step
    for piece in pieces:
        if _WORD.search(piece.text) or piece.kind == "code":
            start = piece.start if pending_start is None else pending_start
            merged.append(Step(trace[start:piece.end], start, piece.end, piece.kind))
            pending_start = None
        elif merged:
            last = merged[-1]
            merged[-1] = Step(trace[last.start:piece.end], last.start, piece.end, last.kind)
        elif pending_start is None:
            pending_start = piece.start
    if pending_start is not None:  # the whole trace is wordless: keep it as one step
        end = pieces[-1].end
        merged.append(Step(trace[pending_start:end], pending_start, end, "text"))
    return merged
