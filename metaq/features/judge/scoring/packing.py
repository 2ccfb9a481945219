"""Every judgment of a trace from one prefill of the trace: a shared cache and packed probes.

A trace's prompts share everything up to the current step (see
:mod:`metaq.features.judge.rubric`). Instead of prefilling one prompt per judgment, the
judge prefills the *history* once, as ordinary causal text::

    [prefix][step 1][step 2] ... [step K]          -> key/value cache

and then runs the probes (the short closing questions) packed side by side in a few
sequences of at most ``max_tokens`` tokens that read that cache. Each probe token attends
to the cached history up to and including its own step, plus its own earlier tokens, and to
nothing else (a tree attention mask), and gets the positions it would have in its own prompt
(continuing right after its step). For a causal transformer whose attention depends only on
token content, the mask and the positions (absolute or rotary embeddings, no sliding window),
the hidden state at a probe's last token is then exactly that of its separate prompt: every
query sees the same keys and values at the same positions. The test suite checks equality
with separately prefilled prompts.

Cost for history ``H`` and probe tokens ``P`` in all: one causal pass over ``H`` plus ``P``
probe tokens attending to at most ``H + max_tokens`` keys, instead of one pass over
``H_k + q`` tokens for each of the ``P / q`` probes.

Token ids are those of each segment tokenized on its own (no merges across segment
boundaries); every back-end defines the prompt this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from metaq.features.judge.rubric import JudgePrompt


@dataclass(frozen=True)
class TokenizedPrompt:
    """Token ids of one :class:`~metaq.features.judge.rubric.JudgePrompt`, per segment."""

    prefix: list[int]
    history: list[list[int]]
    probes: list[list[int]]
    probe_steps: list[int]

    def step_ends(self) -> np.ndarray:
        """Length of the history up to and including each step."""
        return len(self.prefix) + np.cumsum([len(h) for h in self.history], dtype=int)

    def prompt_lengths(self) -> np.ndarray:
        """Token length of each probe's full, separate prompt."""
        ends = self.step_ends()
        return np.array([ends[k] + len(q) for k, q in zip(self.probe_steps, self.probes,
                                                           strict=True)], dtype=int)

    def history_ids(self, through_step: int) -> list[int]:
        """Prefix and steps ``0 .. through_step``: what the probes of those steps read."""
        return self.prefix + [t for h in self.history[: through_step + 1] for t in h]

    def full_prompt(self, probe: int) -> list[int]:
        """Return the separate prompt of one probe (the naive path)."""
        return self.history_ids(self.probe_steps[probe]) + self.probes[probe]


def tokenize_prompt(tokenizer: Any, prompt: JudgePrompt) -> TokenizedPrompt:
    """Token ids of each segment of ``prompt``, each tokenized on its own (no special tokens).

    Parameters
    ----------
    tokenizer : transformers tokenizer
        The judge's tokenizer.
    prompt : JudgePrompt
        The trace's judgments.

    Returns
    -------
    TokenizedPrompt
    """
    enc = tokenizer([prompt.prefix, *prompt.history, *(p.text for p in prompt.probes)],
                    add_special_tokens=False)["input_ids"]
    n_hist = len(prompt.history)
    return TokenizedPrompt(enc[0], enc[1:1 + n_hist], enc[1 + n_hist:],
                           [p.step for p in prompt.probes])


@dataclass(frozen=True)
class ProbeGroup:
    """Probes of one trace packed into one sequence that reads the trace's cached history.

    Attributes
    ----------
    probes : numpy.ndarray
        Indices of the probes (of that trace).
    input_ids, position_ids : numpy.ndarray
        Probe tokens and their positions (continuing after each probe's step).
    context_end : numpy.ndarray
        Per token: it sees cached history positions ``[0, context_end)``.
    own_start : numpy.ndarray
        Per token: it also sees group tokens ``[own_start, itself]`` (its probe's earlier ones).
    readout : numpy.ndarray
        Per probe: index of its last token in the group, where the label distribution is read.
    """

    probes: np.ndarray
    input_ids: np.ndarray
    position_ids: np.ndarray
    context_end: np.ndarray
    own_start: np.ndarray
    readout: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)


def probe_groups(prompt: TokenizedPrompt, probes: np.ndarray, *,
                 max_tokens: int) -> list[ProbeGroup]:
    """Pack ``probes`` (in order) into groups of at most ``max_tokens`` tokens.

    A group holds at least one probe whatever its length.

    Examples
    --------
    >>> tp = TokenizedPrompt([1, 2], [[3], [4, 5]], [[9], [8, 7], [6]], [0, 1, 1])
    >>> g1, g2 = probe_groups(tp, np.arange(3), max_tokens=3)
    >>> g1.input_ids.tolist(), g1.position_ids.tolist(), g1.context_end.tolist()
    ([9, 8, 7], [3, 5, 6], [3, 5, 5])
    >>> g1.own_start.tolist(), g1.readout.tolist(), g2.probes.tolist()
    ([0, 1, 1], [0, 2], [2])
    """
    ends = prompt.step_ends()
    groups: list[list[int]] = []
    size = 0
    for i in probes:
        q = len(prompt.probes[i])
        if groups and size + q <= max_tokens:
            groups[-1].append(int(i))
            size += q
        else:
            groups.append([int(i)])
            size = q
    return [_pack(prompt, ends, g) for g in groups]


def _pack(prompt: TokenizedPrompt, ends: np.ndarray, probes: list[int]) -> ProbeGroup:
    ids, pos, ctx, own, readout = [], [], [], [], []
    cursor = 0
    for p in probes:
        q = prompt.probes[p]
        end = int(ends[prompt.probe_steps[p]])
        ids.extend(q)
        pos.extend(range(end, end + len(q)))
        ctx.extend([end] * len(q))
        own.extend([cursor] * len(q))
        cursor += len(q)
        readout.append(cursor - 1)
    as_int = [np.array(x, dtype=int) for x in (probes, ids, pos, ctx, own, readout)]
    return ProbeGroup(*as_int)
