"""Streaming aggregation equals the all-at-once mean and standard error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metaq.features.base import mean_and_se
from metaq.features.collect import DomainIndex, ScoreCollector
from metaq.features.dedup import BandKeys, NearDuplicateExtractor
from metaq.features.language import LanguageCounts, LanguageExtractor
from metaq.features.moments import RunningMoments
from metaq.features.text import LengthExtractor


@pytest.mark.parametrize("batch", [1, 7, 256, 1000])
def test_running_moments_equal_mean_and_se(rng: np.random.Generator, batch: int) -> None:
    values = rng.lognormal(3, 1, 1000)
    values[rng.choice(1000, 50, replace=False)] = np.nan
    frame = pd.DataFrame({"x": values, "y": 1e6 + rng.normal(size=1000)})
    moments = RunningMoments(["x", "y"])
    for start in range(0, 1000, batch):
        moments.update(frame.iloc[start:start + batch])
    expected = mean_and_se(frame, ["x", "y"])
    for key, value in moments.result().items():
        assert value == pytest.approx(expected[key], rel=1e-10), key


def test_running_moments_without_enough_values() -> None:
    moments = RunningMoments(["x"])
    assert np.isnan(moments.result()["x"])
    moments.update(pd.DataFrame({"x": [2.0]}))
    out = moments.result()
    assert out["x"] == 2.0 and np.isnan(out["x__se"])


def test_collector_streams_default_aggregation_and_keeps_set_level_scores() -> None:
    index = DomainIndex()
    assert isinstance(LengthExtractor().accumulator(), RunningMoments)
    assert isinstance(NearDuplicateExtractor().accumulator(), BandKeys)
    assert isinstance(LanguageExtractor().accumulator(), LanguageCounts)
    collector = ScoreCollector(LengthExtractor(), ["reasoning_chars"])
    for domains, chars in ((["a", "", "a"], [1.0, 2.0, 3.0]), (["b", "a"], [4.0, 5.0])):
        collector.add(pd.DataFrame({"reasoning_chars": chars}), index.add(domains))
    assert index.labels() == ["a", "b", "unknown"]
    assert index.mask("a").tolist() == [True, False, True, False, True]
    assert collector.aggregate(index)["reasoning_chars"] == 3.0
    assert collector.aggregate(index, "a")["reasoning_chars"] == 3.0
    assert collector.aggregate(index, "b")["reasoning_chars"] == 4.0
    assert collector.aggregate(index, "unknown")["reasoning_chars"] == 2.0


def test_collector_without_domains_keeps_only_the_whole_dataset() -> None:
    index = DomainIndex()
    collector = ScoreCollector(LengthExtractor(), ["reasoning_chars"], by_domain=False,
                               count_as="n_length_sampled")
    collector.add(pd.DataFrame({"reasoning_chars": [1.0, 3.0]}), index.add(["a", "b"]))
    out = collector.aggregate(index)
    assert out["reasoning_chars"] == 2.0 and out["n_length_sampled"] == 2
