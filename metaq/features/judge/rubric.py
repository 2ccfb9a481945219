r"""Rubric prompts (English and Polish) and the prompt layout that lets steps share a prefix.

One rubric describes all four criteria, so the whole prompt up to the current step is shared
by every criterion and every later step of the trace. The prompt that judges step ``k`` on
criterion ``c`` is::

    frame.head                        chat-template text before the user message ("" if none)
    rubric + problem + premises       the prefix, shared by every judgment of the trace
    "\n[Step 1] ..." ... "[Step k] ..." the history: steps 1..k, step k being the current one
    probe(k, c) + frame.tail          "is [Step k] POSITIVE or NEGATIVE for <c>?" + answer cue

so the prompt of step ``k`` is a prefix of the prompt of step ``k + 1`` up to the probe.
The judge reads the next-token probabilities of the two label words after the prompt.

Label words: ``POSITIVE`` and ``NEGATIVE``. Only their *first* tokens are read, so a
tokenizer must give them different first tokens (checked by
:func:`~metaq.features.judge.scoring.base.label_token_ids`); "P..." and "N..." differ in
every tokenizer we know. Bump :data:`RUBRIC_VERSION` whenever any text here changes: it is
part of the judge's cache key, so only judge results are recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from metaq.exceptions import InvalidParameterError

RUBRIC_VERSION = "1"
CRITERIA: tuple[str, ...] = ("factuality", "validity", "coherence", "utility")
LABELS: tuple[str, str] = ("POSITIVE", "NEGATIVE")
Language = Literal["en", "pl"]


@dataclass(frozen=True)
class Rubric:
    """The words of one language's rubric.

    Attributes
    ----------
    language : str
        ISO code.
    instructions : str
        What the judge does and the four criteria.
    problem, premises, steps : str
        Section headings.
    probe : str
        The closing question; ``{step}`` and ``{criterion}`` are filled in.
    criterion_names : dict
        Criterion -> the name used in the probe (upper case, as in the instructions).
    """

    language: str
    instructions: str
    problem: str
    premises: str
    steps: str
    probe: str
    criterion_names: dict[str, str]


_EN = Rubric(
    language="en",
    instructions=(
        "You check a worked solution one step at a time. Below are a problem, the facts it "
        "gives (premises) and the numbered steps of a solution. After the steps you are asked "
        "about one step and one criterion. Reply with one word: POSITIVE if the step meets "
        "the criterion, NEGATIVE if it does not.\n"
        "Criteria:\n"
        "- FACTUALITY: everything the step states agrees with the problem, the premises, the "
        "earlier steps and well-established knowledge.\n"
        "- VALIDITY: every calculation in the step is carried out correctly and every "
        "conclusion it draws really follows from what came before. A step that neither "
        "computes nor concludes anything is POSITIVE.\n"
        "- COHERENCE: the step is understandable and connects to the steps before it. Be "
        "lenient: informal or clumsy wording is fine.\n"
        "- UTILITY: the step brings the solution closer to the answer with something new. "
        "Repeating an earlier step, re-checking something already settled or hesitating "
        "without content is NEGATIVE."
    ),
    problem="Problem:",
    premises="Premises:",
    steps="Solution steps:",
    probe="\n\nIs [Step {step}] POSITIVE or NEGATIVE for {criterion}?",
    criterion_names={"factuality": "FACTUALITY", "validity": "VALIDITY",
                     "coherence": "COHERENCE", "utility": "UTILITY"},
)

_PL = Rubric(
    language="pl",
    instructions=(
        "Sprawdzasz rozwiązanie zadania krok po kroku. Poniżej są: zadanie, podane w nim "
        "fakty (przesłanki) i ponumerowane kroki rozwiązania. Po krokach padnie pytanie o "
        "jeden krok i jedno kryterium. Odpowiedz jednym słowem: POSITIVE, jeśli krok "
        "spełnia kryterium, NEGATIVE, jeśli go nie spełnia.\n"
        "Kryteria:\n"
        "- FAKTYCZNOŚĆ: wszystko, co krok stwierdza, zgadza się z zadaniem, przesłankami, "
        "wcześniejszymi krokami i ugruntowaną wiedzą.\n"
        "- POPRAWNOŚĆ: każde obliczenie w kroku jest wykonane bez błędu, a każdy wniosek "
        "naprawdę wynika z tego, co było wcześniej. Krok, który niczego nie liczy ani nie "
        "wnioskuje, jest POSITIVE.\n"
        "- SPÓJNOŚĆ: krok jest zrozumiały i łączy się z poprzednimi krokami. Oceniaj "
        "łagodnie: potoczny albo niezgrabny język jest w porządku.\n"
        "- UŻYTECZNOŚĆ: krok wnosi coś nowego, co przybliża rozwiązanie do odpowiedzi. "
        "Powtórzenie wcześniejszego kroku, ponowne sprawdzanie czegoś już ustalonego albo "
        "wahanie bez treści jest NEGATIVE."
    ),
    problem="Zadanie:",
    premises="Przesłanki:",
    steps="Kroki rozwiązania:",
    probe="\n\nCzy [Krok {step}] jest POSITIVE czy NEGATIVE pod względem kryterium {criterion}?",
    criterion_names={"factuality": "FAKTYCZNOŚĆ", "validity": "POPRAWNOŚĆ",
                     "coherence": "SPÓJNOŚĆ", "utility": "UŻYTECZNOŚĆ"},
)

RUBRICS: dict[str, Rubric] = {"en": _EN, "pl": _PL}


@dataclass(frozen=True)
class ChatFrame:
    r"""Text around the user message, so the label word is the model's first reply token.

    Attributes
    ----------
    head : str
        Chat-template text before the user message (``""`` without a template).
    tail : str
        Text after it up to where the reply starts (the assistant header), or a plain
        ``"\nAnswer:\n"`` cue for models without a chat template (the label then starts
        a line, so its first token is "P..." or "N..." in any byte-level tokenizer).
    """

    head: str = ""
    tail: str = "\nAnswer:\n"

    @property
    def label_prefix(self) -> str:
        """``" "`` when the cue does not end in whitespace (e.g. ``"[/INST]"``), else ``""``."""
        return "" if not self.tail or self.tail[-1].isspace() else " "


@dataclass(frozen=True)
class Probe:
    """One judgment: step ``step`` (0-based) on ``criterion``; ``text`` closes the prompt."""

    step: int
    criterion: str
    text: str


@dataclass(frozen=True)
class JudgePrompt:
    r"""All judgments of one trace, laid out so they share their prefixes.

    Attributes
    ----------
    prefix : str
        Chat head, rubric, problem, premises and the steps heading.
    history : tuple of str
        One entry per step (``"\n[Step k] text"``).
    probes : tuple of Probe
        The judgments, step-major (all criteria of step 0, then of step 1, ...).
    """

    prefix: str
    history: tuple[str, ...]
    probes: tuple[Probe, ...]

    def text(self, probe: Probe) -> str:
        """Return the full prompt of one judgment (what a server without prefix sharing gets)."""
        return self.prefix + "".join(self.history[: probe.step + 1]) + probe.text


def get_rubric(language: str) -> Rubric:
    """Return the rubric of ``language`` ("en" or "pl").

    Raises
    ------
    InvalidParameterError
        For another language.
    """
    try:
        return RUBRICS[language]
    except KeyError:
        raise InvalidParameterError(
            f"no judge rubric for language {language!r}: use one of {sorted(RUBRICS)}"
        ) from None


def build_prompt(question: str, premises: Sequence[str], steps: Sequence[str], *,
                 rubric: Rubric, frame: ChatFrame,
                 criteria: Sequence[str] = CRITERIA) -> JudgePrompt:
    r"""Lay out every judgment of one trace (see the module docstring).

    Parameters
    ----------
    question : str
        The problem.
    premises : sequence of str
        Statements taken from the problem.
    steps : sequence of str
        The trace's steps, verbatim.
    rubric : Rubric
        Which language's words.
    frame : ChatFrame
        The judge model's chat template around the user message.
    criteria : sequence of str
        Criteria to judge, a subset of :data:`CRITERIA`.

    Returns
    -------
    JudgePrompt
        ``len(steps) * len(criteria)`` probes.

    Examples
    --------
    >>> p = build_prompt("2+2?", [], ["2+2=4"], rubric=RUBRICS["en"], frame=ChatFrame())
    >>> p.text(p.probes[1]).endswith("[Step 1] POSITIVE or NEGATIVE for VALIDITY?\nAnswer:\n")
    True
    """
    step_word = "Krok" if rubric.language == "pl" else "Step"
    premise_lines = "".join(f"\n- {p}" for p in premises) or "\n-"
    prefix = (f"{frame.head}{rubric.instructions}\n\n{rubric.problem}\n{question}\n\n"
              f"{rubric.premises}{premise_lines}\n\n{rubric.steps}")
    history = tuple(f"\n[{step_word} {i + 1}] {text}" for i, text in enumerate(steps))
    probes = tuple(
        Probe(i, c, rubric.probe.format(step=i + 1, criterion=rubric.criterion_names[c])
              + frame.tail)
        for i in range(len(steps)) for c in criteria)
    return JudgePrompt(prefix, history, probes)
