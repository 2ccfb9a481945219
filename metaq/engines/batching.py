"""Token-budget batching: sort by length, fill each batch up to a padded-token budget.

A batch of right-padded sequences costs ``rows * longest`` token slots. Sorting by length
(longest first, so an out-of-memory batch shows up at once) keeps neighbours of similar
length together, and sizing batches by that product rather than by a row count keeps the
memory of every forward pass about the same whatever the lengths. The padding share of the
slots (:func:`padding_waste`) is what sorting saves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def token_budget_batches(lengths: Sequence[int], batch_tokens: int, *,
                         sort: bool = True) -> list[list[int]]:
    """Group sequence indices into batches whose padded size stays within a token budget.

    Parameters
    ----------
    lengths : sequence of int
        Length of each sequence, in tokens.
    batch_tokens : int
        Budget of padded token slots per batch (``rows * longest row``). A sequence longer
        than the budget gets a batch of its own.
    sort : bool
        Visit sequences longest first (default). ``False`` keeps the input order (the naive
        baseline).

    Returns
    -------
    list of list of int
        Indices into ``lengths``; every index appears exactly once.

    Raises
    ------
    ValueError
        When ``batch_tokens`` is not positive.

    Examples
    --------
    >>> token_budget_batches([2, 9, 3, 8], batch_tokens=18)
    [[1, 3], [2, 0]]
    >>> token_budget_batches([2, 9, 3, 8], batch_tokens=18, sort=False)
    [[0, 1], [2, 3]]
    """
    if batch_tokens < 1:
        raise ValueError(f"batch_tokens must be a positive number of tokens, got {batch_tokens}")
    order = (sorted(range(len(lengths)), key=lambda i: -lengths[i]) if sort
             else list(range(len(lengths))))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        grown = max(longest, lengths[index])
        if current and grown * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, grown = [], lengths[index]
        current.append(index)
        longest = grown
    if current:
        batches.append(current)
    return batches


def pad_right(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token id lists into a matrix plus its attention mask.

    Right padding keeps every real token at its natural position, so absolute position
    embeddings (GPT-2) see the same positions as in a one-by-one run; left padding does not
    without explicit ``position_ids``.

    Parameters
    ----------
    sequences : sequence of sequence of int
        Token ids per row.
    pad_id : int
        Id written into the padding slots.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ids, mask)``, both int64 of shape ``(rows, longest)``; ``mask`` is 1 on real tokens.

    Examples
    --------
    >>> ids, mask = pad_right([[5, 6, 7], [8]], pad_id=0)
    >>> ids.tolist(), mask.tolist()
    ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])
    """
    longest = max((len(s) for s in sequences), default=0)
    ids = np.full((len(sequences), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), longest), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, :len(seq)] = seq
        mask[row, :len(seq)] = 1
    return ids, mask


def padded_size(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> tuple[int, int]:
    """Real and padded token counts of a batching.

    Parameters
    ----------
    lengths : sequence of int
        Length of each sequence.
    batches : sequence of sequence of int
        Indices per batch, as from :func:`token_budget_batches`.

    Returns
    -------
    tuple of int
        ``(real, padded)`` token slots.

    Examples
    --------
    >>> padded_size([2, 9, 3, 8], [[0, 1], [2, 3]])
    (22, 34)
    """
    real = sum(lengths[i] for batch in batches for i in batch)
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches if batch)
    return real, padded


def padding_waste(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of padded token slots that are padding, in [0, 1].

    Examples
    --------
    >>> round(padding_waste([2, 9, 3, 8], [[0, 1], [2, 3]]), 3)
    0.353
    """
    real, padded = padded_size(lengths, batches)
    return 1.0 - real / padded if padded else 0.0
