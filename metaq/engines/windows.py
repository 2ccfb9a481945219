"""Long sequences: which windows of tokens to run, and which of their tokens to score.

A sequence of ``n`` tokens whose targets start at ``score_from`` (the first text token after
any prefix or context) is cut into model-sized windows under one of two policies:

- ``"sliding"``: windows of ``max_length`` tokens starting every ``stride`` tokens; each
  window scores only the targets the previous one did not reach, so each of them is scored
  exactly once, with at least ``max_length - stride`` tokens of left context (except near
  the start). The standard strided perplexity evaluation.
- ``"truncate"``: one window over the first ``max_length`` tokens; later text tokens are not
  scored and are counted as unscored.

When the sequence fits, both give the single full window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

WindowPolicy = Literal["sliding", "truncate"]
WINDOW_POLICIES: tuple[str, ...] = ("sliding", "truncate")


@dataclass(frozen=True)
class Window:
    """Tokens ``[start, end)`` run through the model; targets ``[first_target, end)`` scored.

    The target at absolute position ``t`` is predicted from the hidden state at ``t - 1``,
    so ``first_target > start`` always.
    """

    start: int
    end: int
    first_target: int


def plan_windows(n_tokens: int, score_from: int, *, max_length: int,
                 policy: WindowPolicy = "sliding", stride: int | None = None
                 ) -> tuple[list[Window], int]:
    """Windows that score the targets ``[max(score_from, 1), n_tokens)`` of a sequence.

    Parameters
    ----------
    n_tokens : int
        Length of the whole sequence (prefix + context + text).
    score_from : int
        Position of the first target to score.
    max_length : int
        Longest window the model accepts.
    policy : {"sliding", "truncate"}
        What to do when the sequence is longer than ``max_length``.
    stride : int, optional
        Step between sliding windows, ``1 <= stride <= max_length - 1``; default half the
        window.

    Returns
    -------
    tuple
        ``(windows, n_unscored)``: windows with at least one target, and the number of
        targets left unscored by truncation.

    Raises
    ------
    ValueError
        On an unknown policy, ``max_length < 2`` or a stride out of range.

    Examples
    --------
    >>> plan_windows(10, 1, max_length=4, stride=2)[0][:2]
    [Window(start=0, end=4, first_target=1), Window(start=2, end=6, first_target=4)]
    >>> plan_windows(10, 1, max_length=4, policy="truncate")
    ([Window(start=0, end=4, first_target=1)], 6)
    """
    if policy not in WINDOW_POLICIES:
        raise ValueError(f"window policy {policy!r} is unknown; use one of {WINDOW_POLICIES}")
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2 tokens, got {max_length}")
    stride = max_length // 2 if stride is None else stride
    if not 1 <= stride < max_length:
        raise ValueError(f"stride must lie in [1, max_length - 1] = [1, {max_length - 1}], "
                         f"got {stride}")
    score_from = max(score_from, 1)
    if policy == "truncate" or n_tokens <= max_length:
        end = min(n_tokens, max_length)
        windows = [Window(0, end, score_from)] if score_from < end else []
        return windows, max(0, n_tokens - max(end, score_from))
    windows: list[Window] = []
    scored_until = 0
    for start in range(0, n_tokens, stride):
        end = min(start + max_length, n_tokens)
        first = max(scored_until, start + 1, score_from)
        if first < end:
            windows.append(Window(start, end, first))
        scored_until = end
        if end == n_tokens:
            break
    return windows, 0


@dataclass(frozen=True)
class Segment:
    """One window of one text's token sequence, as run through a model.

    Attributes
    ----------
    owner : int
        Index of the text it belongs to.
    ids : tuple of int
        The window's tokens.
    first : int
        Offset in ``ids`` of the first scored target; targets ``ids[first:]`` are scored.
    """

    owner: int
    ids: tuple[int, ...]
    first: int

    @property
    def n_targets(self) -> int:
        """Number of tokens this segment scores."""
        return len(self.ids) - self.first


def plan_segments(text_ids: Sequence[Sequence[int]],
                  context_ids: Sequence[Sequence[int]] | None, prefix: Sequence[int], *,
                  max_length: int, policy: WindowPolicy = "sliding",
                  stride: int | None = None) -> tuple[list[Segment], int]:
    """Cut every ``prefix + context + text`` sequence into scored windows.

    Parameters
    ----------
    text_ids : sequence of sequence of int
        Token ids of each text (scored).
    context_ids : sequence of sequence of int, optional
        Token ids of each text's context (not scored).
    prefix : sequence of int
        Tokens placed first in every sequence (BOS), not scored.
    max_length, policy, stride
        As in :func:`plan_windows`.

    Returns
    -------
    tuple
        ``(segments, n_unscored)``: segments in text order (windows of a text in order),
        and the number of text tokens truncation left unscored.

    Examples
    --------
    >>> segments, unscored = plan_segments([[7, 8]], [[5]], [1], max_length=8)
    >>> segments, unscored
    ([Segment(owner=0, ids=(1, 5, 7, 8), first=2)], 0)
    """
    segments: list[Segment] = []
    n_unscored = 0
    for owner, ids in enumerate(text_ids):
        context = list(context_ids[owner]) if context_ids is not None else []
        sequence = [*prefix, *context, *ids]
        windows, unscored = plan_windows(len(sequence), len(prefix) + len(context),
                                         max_length=max_length, policy=policy, stride=stride)
        n_unscored += unscored
        segments += [Segment(owner, tuple(sequence[w.start:w.end]), w.first_target - w.start)
                     for w in windows]
    return segments, n_unscored


def gather_by_owner(segments: Sequence[Segment], pieces: Sequence[np.ndarray],
                    n_texts: int) -> list[np.ndarray]:
    """Concatenate each text's per-segment log-probabilities, in window order.

    Parameters
    ----------
    segments : sequence of Segment
        As from :func:`plan_segments`.
    pieces : sequence of numpy.ndarray
        Log-probabilities of each segment's targets, aligned with ``segments``.
    n_texts : int
        Number of texts (a text with no segment gets an empty array).

    Returns
    -------
    list of numpy.ndarray
    """
    per_text: list[list[np.ndarray]] = [[] for _ in range(n_texts)]
    for segment, piece in zip(segments, pieces, strict=True):
        per_text[segment.owner].append(np.asarray(piece, dtype=np.float64))
    return [np.concatenate(p) if p else np.empty(0) for p in per_text]


def encode_plain(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text without special tokens (one batched tokenizer call).

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
    texts : sequence of str

    Returns
    -------
    list of list of int
    """
    if not texts:
        return []
    return [list(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def prefix_ids(tokenizer: Any) -> list[int]:
    """Token put before every scored sequence: BOS, else EOS (as lm-eval does), else none.

    With a prefix the first text token is scored too; without one it has no prediction.

    Parameters
    ----------
    tokenizer : object
        Anything with ``bos_token_id`` and ``eos_token_id`` attributes.

    Returns
    -------
    list of int
    """
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return [int(token_id)]
    return []


def describe_policy(policy: WindowPolicy, max_length: int | str, stride: int | str) -> str:
    """Long-text policy as recorded in provenance, e.g. ``"sliding(max_length=512,stride=256)"``.

    Examples
    --------
    >>> describe_policy("truncate", 512, 256)
    'truncate(max_length=512)'
    """
    if policy == "sliding":
        return f"sliding(max_length={max_length},stride={stride})"
    return f"truncate(max_length={max_length})"
