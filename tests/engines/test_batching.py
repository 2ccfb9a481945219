import numpy as np
import pytest

from metaq.engines.batching import pad_right, padded_size, padding_waste, token_budget_batches


@pytest.mark.parametrize("sort", [True, False])
def test_every_index_once_and_budget_respected(rng, sort):
    lengths = rng.integers(1, 60, size=200).tolist()
    batches = token_budget_batches(lengths, batch_tokens=128, sort=sort)
    assert sorted(i for b in batches for i in b) == list(range(200))
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) <= 128


def test_sorting_cuts_padding(rng):
    lengths = rng.integers(1, 200, size=500).tolist()
    sorted_waste = padding_waste(lengths, token_budget_batches(lengths, 1024))
    naive_waste = padding_waste(lengths, token_budget_batches(lengths, 1024, sort=False))
    assert sorted_waste < 0.05 < naive_waste


def test_sequence_longer_than_budget_gets_own_batch():
    assert token_budget_batches([5, 50, 5], batch_tokens=10) == [[1], [0, 2]]


def test_bad_budget():
    with pytest.raises(ValueError, match="batch_tokens must be a positive"):
        token_budget_batches([1], 0)


def test_pad_right_and_sizes():
    ids, mask = pad_right([[4, 5], [6, 7, 8], []], pad_id=-1)
    np.testing.assert_array_equal(ids, [[4, 5, -1], [6, 7, 8], [-1, -1, -1]])
    np.testing.assert_array_equal(mask, [[1, 1, 0], [1, 1, 1], [0, 0, 0]])
    assert padded_size([2, 3, 4], [[0, 1], [2]]) == (9, 10)
    assert padding_waste([], []) == 0.0
