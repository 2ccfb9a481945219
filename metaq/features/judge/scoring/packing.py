"""All judgments of a trace in one forward pass: a packed sequence with a tree attention mask.

A trace's prompts share everything up to the current step (see
:mod:`metaq.features.judge.rubric`). Instead of prefilling one prompt per judgment, the
judge prefills one packed sequence::

    [prefix][step 1][step 2] ... [step K][probe a][probe b] ...

where the part before the probes (the *history*) is ordinary causal text, and each probe
attends to the history up to and including its own step, plus its own earlier tokens, and
to nothing else. Each probe's tokens get the positions they would have in their own prompt
(continuing right after their step). For a causal transformer whose attention depends only on
token content, the mask and the positions (absolute or rotary embeddings, no sliding window),
the hidden state at a probe's last token is then exactly that of its separate prompt: every
query sees the same keys and values at the same positions. The cost is one pass over the trace
plus the short probes, instead of one pass per judgment; the test suite checks equality with
separately prefilled prompts.

Token ids are those of each segment tokenized on its own (no merges across segment
boundaries); every back-end defines the prompt this way.
"""

from __future__ import annotations

from collections.abc import Sequence
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

    def full_prompt(self, probe: int) -> list[int]:
        """Return the separate prompt of one probe (the naive path)."""
        k = self.probe_steps[probe]
        return (self.prefix + [t for h in self.history[: k + 1] for t in h]
                + self.probes[probe])


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
class PackedChunk:
    """One packed sequence: a trace's history and some of its probes.

    Attributes
    ----------
    prompt : int
        Index of the trace in the scored batch.
    probes : numpy.ndarray
        Indices of the probes (of that trace) read out of this chunk.
    input_ids, position_ids : numpy.ndarray
        Tokens and their positions (probe tokens continue after their step).
    context_end : numpy.ndarray
        Per token: it sees history tokens ``[0, context_end)``.
    own_start : numpy.ndarray
        Per token: it also sees tokens ``[own_start, itself]`` (its probe's earlier tokens).
    readout : numpy.ndarray
        Per probe: index of its last token, where the label distribution is read.
    """

    prompt: int
    probes: np.ndarray
    input_ids: np.ndarray
    position_ids: np.ndarray
    context_end: np.ndarray
    own_start: np.ndarray
    readout: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)


def plan_chunks(prompt: TokenizedPrompt, *, max_length: int,
                max_chunk_tokens: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Group a trace's probes into packed chunks; drop those whose prompt is too long.

    Parameters
    ----------
    prompt : TokenizedPrompt
        The trace.
    max_length : int
        The judge's context: a probe whose separate prompt is longer is not judged.
    max_chunk_tokens : int
        Longest packed sequence; a chunk holds at least one probe whatever its length.

    Notes
    -----
    Attention over a packed sequence costs its length squared (the mask is applied to a
    dense score matrix), so packing every probe of a long trace into one sequence would
    trade the naive path's repeated prefills for quadratic attention. A chunk therefore
    takes probes only while their tokens do not exceed its history: with history ``H`` and
    probe tokens ``P`` in all, the attention cost is about ``4 H P`` instead of the naive
    ``H^2 P / (3 q)`` for probes of ``q`` tokens, and the token cost about ``2 P`` instead of
    ``H P / (2 q)``.

    Returns
    -------
    chunks : list of numpy.ndarray
        Probe indices of each chunk, in step order.
    truncated : numpy.ndarray
        Boolean per probe: True when it does not fit ``max_length``.
    """
    lengths = prompt.prompt_lengths()
    truncated = lengths > max_length
    ends = prompt.step_ends()
    chunks: list[list[int]] = []
    probe_tokens = 0
    for i in np.flatnonzero(~truncated):
        history = ends[prompt.probe_steps[i]]
        grown = probe_tokens + len(prompt.probes[i])
        if chunks and history + grown <= max_chunk_tokens and grown <= history:
            chunks[-1].append(int(i))
            probe_tokens += len(prompt.probes[i])
        else:
            chunks.append([int(i)])
            probe_tokens = len(prompt.probes[i])
    return [np.array(c, dtype=int) for c in chunks], truncated


def pack(prompt: TokenizedPrompt, probes: Sequence[int], *, index: int = 0) -> PackedChunk:
    """Build the packed sequence of ``probes`` (indices into ``prompt.probes``).

    Examples
    --------
    >>> tp = TokenizedPrompt([1, 2], [[3], [4, 5]], [[9], [8]], [0, 1])
    >>> chunk = pack(tp, [0, 1])
    >>> chunk.input_ids.tolist(), chunk.position_ids.tolist(), chunk.readout.tolist()
    ([1, 2, 3, 4, 5, 9, 8], [0, 1, 2, 3, 4, 3, 5], [5, 6])
    """
    ends = prompt.step_ends()
    last_step = max(prompt.probe_steps[p] for p in probes)
    history = prompt.prefix + [t for h in prompt.history[: last_step + 1] for t in h]
    n_hist = len(history)
    ids, pos, ctx, own, readout = [history], [np.arange(n_hist)], [np.arange(1, n_hist + 1)], \
        [np.arange(1, n_hist + 1)], []
    cursor = n_hist
    for p in probes:
        q = prompt.probes[p]
        end = int(ends[prompt.probe_steps[p]])
        ids.append(q)
        pos.append(end + np.arange(len(q)))
        ctx.append(np.full(len(q), end))
        own.append(np.full(len(q), cursor))
        cursor += len(q)
        readout.append(cursor - 1)
    return PackedChunk(index, np.asarray(probes, dtype=int),
                       np.concatenate([np.asarray(x, dtype=int) for x in ids]),
                       np.concatenate(pos).astype(int), np.concatenate(ctx).astype(int),
                       np.concatenate(own).astype(int), np.array(readout, dtype=int))
