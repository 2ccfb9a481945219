"""Score CPU extractors on every core: batches go to worker processes, results come back in order.

:class:`BatchPool` holds one set-up copy of each parallel extractor
(``Extractor.parallel = True``: pure functions of the example, no model on a device) per
worker process. The runner submits one batch at a time and reads the results back in
submission order, with at most ``window`` batches in flight, so memory stays bounded and the
table is exactly the one a single process computes (each example's score does not depend on
which process computed it).

A pool costs a second or two to start (each worker imports the extractors' libraries and
loads their compiled kernels), so the runner scores a dataset of a few batches in this
process (``local=True``): small datasets never start one. Workers start with the
``forkserver`` method (``spawn`` where it does not exist), which imports the extractors'
modules once and forks the workers from there: they never inherit the parent's threads,
open database or loaded models.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from metaq.exceptions import MetaqError
from metaq.features.base import Example, Extractor

logger = logging.getLogger(__name__)

#: Extractors of this worker process, by job name (set by the pool's initializer).
_WORKER_EXTRACTORS: dict[str, Extractor] = {}


def default_workers() -> int:
    """Return the number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def score_frames(extractors: Mapping[str, Extractor],
                 work: Mapping[str, Sequence[Example]]) -> dict[str, pd.DataFrame]:
    """Score each job's examples with its extractor; one frame (a row per example) per job.

    Parameters
    ----------
    extractors : mapping
        Job name -> extractor (set up here if it is not yet).
    work : mapping
        Job name -> the examples to score.

    Returns
    -------
    dict
        Job name -> per-example scores, in the examples' order.

    Raises
    ------
    MetaqError
        When an extractor returns a different number of rows than it got examples.
    """
    out = {}
    for name, examples in work.items():
        extractor = extractors[name]
        extractor.setup()
        scores = extractor.score_batch(examples)
        if len(scores) != len(examples):
            raise MetaqError(f"extractor {extractor.name!r} returned {len(scores)} score rows "
                             f"for {len(examples)} examples; score_batch must return one per "
                             f"example.")
        out[name] = pd.DataFrame.from_records(scores)
    return out


def _init_worker(extractors: Mapping[str, Extractor]) -> None:
    _WORKER_EXTRACTORS.clear()
    _WORKER_EXTRACTORS.update(extractors)


def _score_in_worker(work: Mapping[str, Sequence[Example]]) -> dict[str, pd.DataFrame]:
    return score_frames(_WORKER_EXTRACTORS, work)


class BatchPool:
    """Worker processes scoring batches of the parallel extractors.

    Parameters
    ----------
    extractors : mapping
        Job name -> a constructed extractor, not yet set up: a copy of it is pickled to the
        workers; the instance itself scores the batches run in this process.
    workers : int
        Worker processes; 1 scores everything in this process.
    """

    def __init__(self, extractors: Mapping[str, Extractor], workers: int) -> None:
        if workers < 1:
            raise MetaqError(f"workers={workers} must be at least 1 (1: no worker processes).")
        self.extractors = dict(extractors)
        self.workers = workers
        self.window = 2 * workers
        self._pristine = {name: copy.deepcopy(e) for name, e in self.extractors.items()}
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, work: Mapping[str, Sequence[Example]], *, local: bool = False) -> Future:
        """Score one batch: a future of ``{job name: frame}``.

        With ``local=True`` (or one worker) the batch is scored at once in this process.
        """
        if self.workers > 1 and not local:
            return self._start().submit(_score_in_worker, dict(work))
        future: Future = Future()
        try:
            future.set_result(score_frames(self.extractors, work))
        except Exception as err:  # raised by result(), as a worker's would be
            future.set_exception(err)
        return future

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn")
            if context.get_start_method() == "forkserver":
                context.set_forkserver_preload(
                    sorted({__name__, *(type(e).__module__ for e in self.extractors.values())}))
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                 initializer=_init_worker,
                                                 initargs=(self._pristine,))
            logger.info("scoring %s in %d worker processes", sorted(self.extractors),
                        self.workers)
        return self._executor

    def close(self) -> None:
        """Stop the workers (pending batches are cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
