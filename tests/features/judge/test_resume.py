"""A judge run killed with SIGKILL and restarted gives the uninterrupted run's table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from metaq.datasets import sample_path
from metaq.features.runner import extract_features
from metaq.store import ScoreStore

DATASET = sample_path("gsm8k_model_solutions.jsonl")


def _stored(cache) -> int:
    if not (cache / ScoreStore.FILENAME).exists():
        return 0
    store = ScoreStore(cache)
    try:
        return store.count()
    except Exception:  # noqa: BLE001 - table not created yet
        return 0
    finally:
        store.close()


def _options(judge_path):
    return {"judge_model": str(judge_path), "judge_sample": 60, "device": "cpu"}


@pytest.mark.slow
def test_kill_9_then_resume_equals_an_uninterrupted_run(judge_path, tmp_path):
    cache = tmp_path / "cache"
    child = subprocess.Popen(
        [sys.executable, "-m", "metaq", "-q", "extract", str(DATASET), "--metrics", "fvcu",
         "--judge-model", str(judge_path), "--judge-sample", "60", "--device", "cpu",
         "--batch-size", "10", "--cache", str(cache), "--out", str(tmp_path / "killed.csv")],
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 240
    try:
        while _stored(cache) < 60:
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert 60 <= _stored(cache) < 300
    resumed = extract_features([DATASET], "fvcu", cache_dir=cache,
                               extractor_options=_options(judge_path))
    fresh = extract_features([DATASET], "fvcu", cache_dir=tmp_path / "fresh",
                             extractor_options=_options(judge_path))
    assert _stored(cache) == 300
    backend = [c for c in fresh.columns if c.startswith("meta__fvcu_backend_")]
    pd.testing.assert_frame_equal(resumed.drop(columns=backend), fresh.drop(columns=backend),
                                  rtol=1e-6)
    assert resumed.loc[0, "n_judged"] == 60
