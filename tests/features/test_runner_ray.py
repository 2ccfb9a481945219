"""The Ray Data engine gives the local engine's table and fills the same cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from metaq.datasets import sample_path
from metaq.features.runner import extract_features
from metaq.store import ScoreStore

DATASETS = [sample_path("gsm8k_train.jsonl"), sample_path("marco_o1_cot.jsonl")]
METRICS = "length,redundancy,symbolic,dedup,answer,embedding"
OPTIONS = {"by_domain": True, "batch_size": 64, "sample": 100,
           "extractor_options": {"embedding_model": "wordllama"}}


@pytest.mark.slow
def test_ray_engine_equals_local_engine(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        remote = extract_features(DATASETS, METRICS, engine="ray", cache_dir=tmp_path,
                                  ray_options={"concurrency": 2, "chunk_size": 150}, **OPTIONS)
    finally:
        ray.shutdown()
    local = extract_features(DATASETS, METRICS, **OPTIONS)
    pd.testing.assert_frame_equal(remote, local)
    # only the cached (model-based) extractor went through Ray, on its sample only
    store = ScoreStore(tmp_path)
    assert [key.split("@")[0] for key in store.keys()] == ["embedding"]
    assert store.count() == 100 + 100
