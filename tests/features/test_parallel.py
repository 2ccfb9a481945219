"""Scoring in worker processes gives exactly the table of one process."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from metaq.datasets import sample_path
from metaq.exceptions import MetaqError
from metaq.features.base import Example, Extractor
from metaq.features.parallel import BatchPool
from metaq.features.runner import extract_features

SAMPLES = ("gsm8k_train.jsonl", "marco_o1_cot.jsonl", "gsm8k_model_solutions.jsonl")


class CachedWords(Extractor):
    """A cached, parallel extractor (like spaCy's syntax): words per trace."""

    name: ClassVar[str] = "cached_words"
    metrics: ClassVar[tuple[str, ...]] = ("reasoning_words",)
    parallel: ClassVar[bool] = True

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        return [{"reasoning_words": float(len(ex.reasoning.split()))} for ex in examples]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples in one file, twice (equal texts in different batches)."""
    lines = [line for name in SAMPLES
             for line in (sample_path(name)).read_text(encoding="utf-8").splitlines()]
    path = tmp_path_factory.mktemp("parallel") / "mixed.jsonl"
    path.write_text("\n".join(lines + lines[::3]) + "\n", encoding="utf-8")
    return path


def test_workers_give_exactly_the_single_process_table(dataset: Path, tmp_path: Path) -> None:
    metrics = ["text", CachedWords()]
    options = dict(by_domain=True, batch_size=32)
    serial = extract_features(dataset, metrics, workers=1, **options)
    parallel = extract_features(dataset, ["text", CachedWords()], workers=2,
                                cache_dir=tmp_path / "cache", **options)
    assert serial.loc[0, "n_examples"] > 32 * 10  # more than 4 batches: the pool really ran
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    cached = extract_features(dataset, ["text", CachedWords()], workers=2,
                              cache_dir=tmp_path / "cache", **options)
    pd.testing.assert_frame_equal(serial, cached, check_exact=True)


def test_errors_of_workers_reach_the_caller() -> None:
    with pytest.raises(MetaqError, match="workers=0"):
        BatchPool({}, workers=0)
    pool = BatchPool({"bad": Broken()}, workers=2)
    try:
        with pytest.raises(ValueError, match="broken on purpose"):
            pool.submit({"bad": [Example("1", "q", "r")]}).result()
    finally:
        pool.close()


class Broken(Extractor):
    name: ClassVar[str] = "broken"
    metrics: ClassVar[tuple[str, ...]] = ("x",)
    parallel: ClassVar[bool] = True

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        raise ValueError("broken on purpose")
