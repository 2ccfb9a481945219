"""A run killed with SIGKILL and restarted gives the uninterrupted run's table."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pandas as pd

from metaq.datasets import sample_path
from metaq.features.base import Example, Extractor
from metaq.features.runner import extract_features

DATASET = sample_path("gsm8k_train.jsonl")  # 300 distinct examples
BATCH = 10

CHILD = """
import sys
sys.path.insert(0, {here!r})
from test_runner_resume import SlowRedundancy
from metaq.features.runner import extract_features
extract_features([{dataset!r}], [SlowRedundancy(delay=0.05)], cache_dir=sys.argv[1],
                 batch_size={batch})
"""


class SlowRedundancy(Extractor):
    """Redundancy ratio, slowed down per batch so the run can be killed half-way."""

    name: ClassVar[str] = "slow_redundancy"
    metrics: ClassVar[tuple[str, ...]] = ("redundancy_ratio",)

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.scored = 0

    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        from metaq.features.text import redundancy_ratio

        time.sleep(self.delay)
        self.scored += len(examples)
        return [{"redundancy_ratio": redundancy_ratio(ex.reasoning)} for ex in examples]


def stored_rows(cache: Path) -> int:
    database = cache / "scores.sqlite"
    if not database.exists():
        return 0
    with sqlite3.connect(database, timeout=10) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        except sqlite3.OperationalError:  # table not created yet
            return 0


def kill_when_stored(cache: Path, at_least: int) -> int:
    code = CHILD.format(here=str(Path(__file__).parent), dataset=str(DATASET), batch=BATCH)
    child = subprocess.Popen([sys.executable, "-c", code, str(cache)])
    deadline = time.monotonic() + 120
    try:
        while stored_rows(cache) < at_least:
            assert child.poll() is None, "the child finished or failed before it was killed"
            assert time.monotonic() < deadline, "the child stored nothing in time"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    return stored_rows(cache)


def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = kill_when_stored(cache, at_least=5 * BATCH)
    assert 5 * BATCH <= first < 300 and first % BATCH == 0  # whole batches only
    stored = kill_when_stored(cache, at_least=first + 8 * BATCH)  # killed again after resuming
    assert first + 8 * BATCH <= stored < 300 and stored % BATCH == 0

    resumed = SlowRedundancy()
    table = extract_features([DATASET], [resumed], cache_dir=cache, batch_size=BATCH)
    assert resumed.scored == 300 - stored  # nothing scored twice, nothing lost
    assert stored_rows(cache) == 300

    fresh = extract_features([DATASET], [SlowRedundancy()], cache_dir=tmp_path / "fresh",
                             batch_size=BATCH)
    pd.testing.assert_frame_equal(table, fresh)
    assert table.loc[0, "n_examples"] == 300
