"""Answer-presence rates: whether an example has a final answer and the trace reaches it.

Per example (dataset level: the mean, i.e. the rate, with its standard error):

- ``answer_present`` = 1 when the answer, stripped of whitespace, is not empty; else 0.
- ``answer_in_reasoning`` = 1 when the answer is present and its normalised form occurs as a
  whole token sequence in the normalised last ``tail_chars`` characters of the reasoning;
  else 0. Normalisation: Unicode case-folding, whitespace runs collapsed to one space,
  thousands separators between digits removed (``1,000`` -> ``1000``), and the answer's
  leading/trailing punctuation stripped. "Whole" means not preceded or followed by a letter,
  digit or underscore, so the answer ``5`` does not match inside ``550``.

A trace that ends by stating its answer is the form reasoning fine-tuning wants; a low rate
flags truncated traces or answers that were never derived in the trace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from metaq.features.base import Example, Extractor

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_EDGE_PUNCTUATION = " \t\n.,;:!?\"'`()[]{}"


def normalise(text: str) -> str:
    r"""Case-fold, collapse whitespace and drop thousands separators.

    Examples
    --------
    >>> normalise("The  Total is 1,200\nEUR")
    'the total is 1200 eur'
    """
    collapsed = " ".join(text.casefold().split())  # str.split: the whitespace of regex \s
    return _THOUSANDS.sub("", collapsed) if "," in collapsed else collapsed


def answer_in_reasoning(answer: str, reasoning: str, *, tail_chars: int = 300) -> bool:
    """Whether `answer` is stated, as whole tokens, in the tail of `reasoning`.

    Examples
    --------
    >>> answer_in_reasoning("5", "550 / 110 = 5 bags")
    True
    >>> answer_in_reasoning("5", "550 / 110 = 50 bags")
    False
    """
    target = normalise(answer).strip(_EDGE_PUNCTUATION)
    if not target:
        return False
    tail = normalise(reasoning[-tail_chars:])
    start = tail.find(target)
    while start != -1:  # str.find, not a regex: no pattern compiled per distinct answer
        end = start + len(target)
        if not (_is_word(tail, start - 1) or _is_word(tail, end)):
            return True
        start = tail.find(target, start + 1)
    return False


def _is_word(text: str, index: int) -> bool:
    """Tell whether ``text[index]`` exists and is a word character (alphanumeric or ``_``)."""
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


class AnswerPresenceExtractor(Extractor):
    """``answer_present`` and ``answer_in_reasoning`` rates.

    Parameters
    ----------
    tail_chars : int, default 300
        How many final characters of the reasoning are searched for the answer.
    """

    name: ClassVar[str] = "answer"
    metrics: ClassVar[tuple[str, ...]] = ("answer_present", "answer_in_reasoning")
    cacheable: ClassVar[bool] = False
    parallel: ClassVar[bool] = True

    def __init__(self, *, tail_chars: int = 300) -> None:
        self.tail_chars = tail_chars

    def config(self) -> dict[str, Any]:
        """Return the searched tail length."""
        return {"tail_chars": self.tail_chars}

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """0/1 flags of each example."""
        return [{"answer_present": float(bool(ex.answer.strip())),
                 "answer_in_reasoning": float(answer_in_reasoning(
                     ex.answer, ex.reasoning, tail_chars=self.tail_chars))}
                for ex in examples]
