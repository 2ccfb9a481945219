import numpy as np
import pytest

from metaq.engines.windows import (
    Segment,
    describe_policy,
    gather_by_owner,
    plan_segments,
    plan_windows,
    prefix_ids,
)


@pytest.mark.parametrize(("n", "score_from", "max_length", "stride"),
                         [(10, 1, 4, 2), (37, 5, 8, 3), (100, 60, 16, 15), (5, 1, 8, 4),
                          (64, 1, 64, 32), (65, 1, 64, 32)])
def test_sliding_scores_every_target_exactly_once(n, score_from, max_length, stride):
    windows, unscored = plan_windows(n, score_from, max_length=max_length, stride=stride)
    targets = [t for w in windows for t in range(w.first_target, w.end)]
    assert targets == list(range(score_from, n))
    assert unscored == 0
    for w in windows:
        assert w.end - w.start <= max_length and w.first_target > w.start
        # every scored target sees at least max_length - stride tokens (or all before it)
        assert w.first_target - w.start >= min(max_length - stride, w.first_target)


def test_truncate_counts_unscored():
    windows, unscored = plan_windows(10, 3, max_length=6, policy="truncate")
    assert [(w.start, w.end, w.first_target) for w in windows] == [(0, 6, 3)]
    assert unscored == 4  # targets 6..9
    windows, unscored = plan_windows(10, 8, max_length=6, policy="truncate")
    assert windows == [] and unscored == 2


def test_fitting_sequence_is_one_window_under_both_policies():
    for policy in ("sliding", "truncate"):
        assert plan_windows(6, 1, max_length=6, policy=policy)[0] == plan_windows(
            6, 1, max_length=100, policy=policy)[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"policy": "chunk"}, "window policy 'chunk' is unknown"),
    ({"max_length": 1}, "max_length must be at least 2"),
    ({"stride": 8}, r"stride must lie in \[1, max_length - 1\]"),
])
def test_bad_window_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plan_windows(10, 1, **{"max_length": 8, **kwargs})


def test_segments_and_gather():
    segments, unscored = plan_segments([[7, 8, 9], []], [[5], [6]], [1], max_length=3,
                                       stride=1)
    assert unscored == 0
    # text 0: [1, 5, 7, 8, 9]; targets 7, 8, 9 -> windows [1,5,7] (7), [5,7,8] (8), [7,8,9]
    assert segments == [Segment(0, (1, 5, 7), 2), Segment(0, (5, 7, 8), 2),
                        Segment(0, (7, 8, 9), 2)]
    pieces = [np.array([-1.0]), np.array([-2.0]), np.array([-3.0])]
    out = gather_by_owner(segments, pieces, 2)
    np.testing.assert_array_equal(out[0], [-1.0, -2.0, -3.0])
    assert out[1].size == 0


def test_prefix_and_policy_description():
    class Tok:
        bos_token_id = None
        eos_token_id = 3

    assert prefix_ids(Tok()) == [3]
    Tok.eos_token_id = None
    assert prefix_ids(Tok()) == []
    assert describe_policy("sliding", 512, 256) == "sliding(max_length=512,stride=256)"
