import math

import numpy as np
import pytest

from metaq.datasets import sample_path
from metaq.features.sampling import (
    length_bins,
    mean_se,
    ratio_se,
    stratified_sample,
)
from metaq.io import read_examples


def _population():
    examples = (read_examples(sample_path("marco_o1_cot.jsonl"))
                + read_examples(sample_path("gsm8k_train.jsonl")))
    return ([e.content_hash() for e in examples], [e.domain for e in examples],
            [len(e.reasoning) for e in examples])


def test_sample_is_stratified_by_domain_and_length():
    keys, domains, lengths = _population()
    mask = stratified_sample(keys, domains, lengths, 85, seed=3)
    assert mask.sum() == 85
    domains = np.array(domains)
    bins = length_bins(lengths)
    for stratum in {(d, b) for d, b in zip(domains, bins, strict=True)}:
        members = (domains == stratum[0]) & (bins == stratum[1])
        share = members.sum() * 85 / len(keys)
        assert math.floor(share) <= (mask & members).sum() <= math.ceil(share)


def test_sample_is_reproducible_order_free_and_seeded():
    keys, domains, lengths = _population()
    mask = stratified_sample(keys, domains, lengths, 60, seed=1)
    order = np.random.default_rng(0).permutation(len(keys))
    shuffled = stratified_sample([keys[i] for i in order], [domains[i] for i in order],
                                 [lengths[i] for i in order], 60, seed=1)
    assert {keys[i] for i in order[shuffled]} == {keys[i] for i in np.flatnonzero(mask)}
    again = stratified_sample(keys, domains, lengths, 60, seed=1)
    assert (again == mask).all()
    other = stratified_sample(keys, domains, lengths, 60, seed=2)
    assert (other != mask).any()


@pytest.mark.parametrize("n", [None, 425, 10_000])
def test_all_or_more_than_everything_selects_everything(n):
    keys, domains, lengths = _population()
    assert stratified_sample(keys, domains, lengths, n).all()


def test_mean_se_by_hand():
    values = np.array([0.2, 0.4, 0.9])
    mean, se = mean_se(values, population=12)
    sd = math.sqrt(((0.2 - 0.5) ** 2 + (0.4 - 0.5) ** 2 + (0.9 - 0.5) ** 2) / 2)
    assert mean == pytest.approx(0.5)
    assert se == pytest.approx(sd / math.sqrt(3) * math.sqrt(1 - 3 / 12))
    assert mean_se(values, population=3)[1] == 0.0  # the whole population judged
    assert math.isnan(mean_se(np.array([0.3]), population=10)[1])


def test_ratio_se_by_hand():
    y, m = np.array([1.0, 4.0, 0.0]), np.array([2.0, 5.0, 3.0])
    ratio, se = ratio_se(y, m, population=30)
    r = 5 / 10
    resid = y - r * m  # [0, 1.5, -1.5]
    expected = math.sqrt((resid ** 2).sum() / (3 * 2)) / (10 / 3) * math.sqrt(1 - 3 / 30)
    assert ratio == pytest.approx(0.5) and se == pytest.approx(expected)
