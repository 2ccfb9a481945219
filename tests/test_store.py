"""The per-example result cache: round trip, first write wins, persistence, clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metaq.exceptions import MetaqError
from metaq.store import ScoreStore, decode_scores, encode_scores


def test_round_trip_keeps_nan_inf_text_and_numpy_scalars() -> None:
    scores = {"a": math.nan, "b": math.inf, "c": np.float32(0.5), "d": np.int64(3), "e": "en"}
    back = decode_scores(encode_scores(scores))
    assert math.isnan(back["a"]) and back["b"] == math.inf
    assert (back["c"], back["d"], back["e"]) == (0.5, 3, "en")


def test_unserialisable_value_is_named() -> None:
    with pytest.raises(TypeError, match="score value .* is not a number or string"):
        encode_scores({"x": object()})


def test_get_many_returns_only_cached_and_first_write_wins(tmp_path) -> None:
    store = ScoreStore(tmp_path)
    store.put_many("k@1", {"h1": {"x": 1.0}, "h2": {"x": 2.0}})
    store.put_many("k@1", {"h1": {"x": 99.0}})  # already stored: ignored
    store.put_many("other@1", {"h1": {"x": 5.0}})
    assert store.get_many("k@1", ["h1", "h3", "h2", "h1"]) == {"h1": {"x": 1.0},
                                                               "h2": {"x": 2.0}}
    assert (store.count("k@1"), store.count(), store.keys()) == (2, 3, ["k@1", "other@1"])


def test_persists_across_instances_and_many_keys(tmp_path) -> None:
    hashes = [f"h{i}" for i in range(2500)]  # more than one SQL statement's parameters
    first = ScoreStore(tmp_path)
    first.put_many("k", {h: {"i": i} for i, h in enumerate(hashes)})
    first.close()
    found = ScoreStore(tmp_path).get_many("k", hashes)
    assert len(found) == 2500 and found["h2499"] == {"i": 2499}
    assert (tmp_path / "scores.sqlite").is_file()


def test_in_memory_store_and_unwritable_folder(tmp_path) -> None:
    memory = ScoreStore(None)
    memory.put_many("k", {"h": {"x": 1}})
    assert memory.count() == 1
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(MetaqError, match="cannot open the result cache .* writable --cache"):
        ScoreStore(blocker / "cache").count()
