"""The Ray Data engine gives the local engine's table and fills the same cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from metaq._paths import SAMPLES_DIR
from metaq.features.runner import extract_features
from metaq.store import ScoreStore

DATASETS = [SAMPLES_DIR / "gsm8k_train.jsonl", SAMPLES_DIR / "marco_o1_cot.jsonl"]
METRICS = "length,redundancy,symbolic,dedup,answer"


@pytest.mark.slow
def test_ray_engine_equals_local_engine(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        remote = extract_features(DATASETS, METRICS, by_domain=True, engine="ray",
                                  cache_dir=tmp_path, batch_size=64,
                                  ray_options={"concurrency": 2, "chunk_size": 150})
    finally:
        ray.shutdown()
    local = extract_features(DATASETS, METRICS, by_domain=True, batch_size=64)
    pd.testing.assert_frame_equal(remote, local)
    store = ScoreStore(tmp_path)
    assert len(store.keys()) == 5 and store.count() == 5 * (300 + 125)
