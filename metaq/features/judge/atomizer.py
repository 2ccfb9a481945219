"""LLM atomizer: the judge model splits a trace into steps by verbatim extraction.

The model is asked for a JSON array of strings copied verbatim from the trace, in order.
A reply is accepted only if it parses, is a non-empty list of non-blank strings, and every
string is found in the trace after the previous one (so no text is invented or reordered;
text the model leaves out is simply not judged). An invalid reply is retried; after the
last retry the rule-based split (:func:`~metaq.features.judge.steps.split_steps`) is used
and the fallback is counted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from metaq.features.judge.steps import split_steps

logger = logging.getLogger(__name__)

ATOMIZER_VERSION = "1"

_INSTRUCTION = (
    "Split the reasoning below into its atomic steps: each step is one calculation, one "
    "definition, one case of a case split, or one remark about the solving process. Copy "
    "every step verbatim, in order, without changing a character. Reply with a JSON array "
    "of strings and nothing else.\n\nReasoning:\n"
)


def atomizer_prompt(trace: str) -> str:
    """Build the user message that asks for the verbatim split of ``trace``."""
    return _INSTRUCTION + trace


def parse_atomized(reply: str, trace: str) -> list[str] | None:
    """Validate a reply: the list of verbatim steps, or None when it is not acceptable.

    Examples
    --------
    >>> parse_atomized('["a = 1", "so b = 2"]', "First a = 1, so b = 2.")
    ['a = 1', 'so b = 2']
    >>> parse_atomized('["so b = 2", "a = 1"]', "First a = 1, so b = 2.") is None
    True
    """
    start, end = reply.find("["), reply.rfind("]")
    if start < 0 or end < start:
        return None
    try:
        steps = json.loads(reply[start:end + 1])
    except json.JSONDecodeError:
        return None
    if not steps or not isinstance(steps, list):
        return None
    cursor = 0
    for step in steps:
        if not isinstance(step, str) or not step.strip():
            return None
        found = trace.find(step, cursor)
        if found < 0:
            return None
        cursor = found + len(step)
    return [s.strip() for s in steps]


def atomize(traces: Sequence[str], generate: Callable[[Sequence[str]], list[str]], *,
            retries: int = 2) -> tuple[list[list[str]], list[bool]]:
    """Split traces with the model, retrying invalid replies, falling back to the rules.

    Parameters
    ----------
    traces : sequence of str
        Reasoning traces (blank ones get no steps and no model call).
    generate : callable
        Greedy replies to a list of user messages (a back-end's ``generate``).
    retries : int
        Extra attempts after an invalid reply.

    Returns
    -------
    steps : list of list of str
        Verbatim steps per trace.
    fell_back : list of bool
        Whether the rule-based split was used for that trace.
    """
    steps: list[list[str] | None] = [[] if not t.strip() else None for t in traces]
    for _ in range(retries + 1):
        todo = [i for i, s in enumerate(steps) if s is None]
        if not todo:
            break
        replies = generate([atomizer_prompt(traces[i]) for i in todo])
        for i, reply in zip(todo, replies, strict=True):
            steps[i] = parse_atomized(reply, traces[i])
    fell_back = [s is None for s in steps]
    if any(fell_back):
        logger.info("atomizer: %d of %d trace(s) fell back to the rule-based split",
                    sum(fell_back), len(traces))
    return ([s if s is not None else [x.text for x in split_steps(t)]
             for s, t in zip(steps, traces, strict=True)], fell_back)
