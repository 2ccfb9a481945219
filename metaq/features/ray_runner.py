"""Score the uncached examples of a dataset on Ray Data (``engine="ray"``).

The driver streams the dataset, asks the cache which examples each extractor still needs,
and sends those (in chunks of ``chunk_size`` examples) through ``Dataset.map_batches`` with
:class:`ExtractorActor`: an actor pool of ``concurrency`` actors, each holding one copy of
the extractor (one model per worker; ``num_gpus`` per actor). Results come back to the driver,
which writes them to the same cache, batch by batch, so the aggregation, the resume
guarantee and the features table are exactly those of the local engine.

Options (``ray_options`` of :func:`metaq.features.runner.extract_features`):

``address``
    Ray cluster to join (default: ``RAY_ADDRESS``, else a new local cluster).
``num_cpus``
    CPUs of a new local cluster (default: all).
``concurrency``
    Actors per extractor (default 1).
``num_gpus``
    GPUs per actor (default 0).
``progress``
    Show Ray Data's progress bars (default: as the runner's ``progress``).
``chunk_size``
    Examples per Ray dataset (default 100,000); bounds driver memory. Each chunk starts a
    fresh actor pool, so keep it large when models are slow to load.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from metaq._optional import require
from metaq.exceptions import MissingDependencyError
from metaq.features.base import Example, Extractor
from metaq.io.reader import ReadStats, iter_example_batches
from metaq.store import ScoreStore, decode_scores, encode_scores

if TYPE_CHECKING:
    from metaq.features.runner import _Job

logger = logging.getLogger(__name__)

_EXAMPLE_FIELDS = ("id", "question", "reasoning", "answer", "domain", "location")


class ExtractorActor:
    """Ray Data callable class: one copy of each extractor per actor, set up once.

    Parameters
    ----------
    extractors : dict
        Job name -> constructed, not yet set-up extractor (copied and set up in the actor).
    """

    def __init__(self, extractors: Mapping[str, Extractor]) -> None:
        self.extractors = {name: copy.deepcopy(e) for name, e in extractors.items()}
        for extractor in self.extractors.values():
            extractor.setup()

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score each row with the extractors it lacks; one output row per (job, example)."""
        rows = batch.to_dict("records")
        out: dict[str, list[str]] = {"job": [], "content_hash": [], "payload": []}
        for name, extractor in self.extractors.items():
            todo = [row for row in rows if name in row["jobs"].split(",")]
            if not todo:
                continue
            examples = [Example(**{f: str(row[f]) for f in _EXAMPLE_FIELDS}) for row in todo]
            scores = extractor.score_batch(examples)
            out["job"].extend([name] * len(todo))
            out["content_hash"].extend(row["content_hash"] for row in todo)
            out["payload"].extend(encode_scores(s) for s in scores)
        return pd.DataFrame(out)


def fill_cache_on_ray(path: str | Path, jobs: list[_Job], store: ScoreStore,
                      options: Mapping[str, Any], *, selected: frozenset[str] | None = None,
                      **read: Any) -> None:
    """Score every uncached example of `path` for every active, cacheable job on Ray.

    Extractors that are not cached (the cheap text ones) are left to the local pass, and
    subsampled ones get only the examples of the sample.

    Parameters
    ----------
    path : str or Path
        The dataset.
    jobs : list
        The runner's extractor jobs.
    store : ScoreStore
        The result cache (written by the driver only).
    options : mapping
        Ray options (see the module docstring).
    selected : frozenset of str, optional
        Content hashes of the subsample scored by subsampled extractors (``None``: all).
    **read
        Reader options (mapping, on_error, batch_size, split).
    """
    _connect(options)
    chunk_size = int(options.get("chunk_size", 100_000))
    jobs = [j for j in jobs if j.active and j.extractor.cacheable]
    pending: dict[str, dict[str, str]] = {}
    for batch in iter_example_batches(path, stats=ReadStats(), **read):
        hashes = [ex.content_hash() for ex in batch]
        for job in jobs:
            cached = store.get_many(job.key, hashes)
            sampled = selected is not None and job.extractor.subsampled
            for h, ex in zip(hashes, batch, strict=True):
                if h not in cached and (not sampled or h in selected):
                    row = pending.setdefault(h, {**asdict(ex), "content_hash": h, "jobs": ""})
                    row["jobs"] = f"{row['jobs']},{job.name}".lstrip(",")
        if len(pending) >= chunk_size:
            _run_chunk(jobs, pending, store, options, read["batch_size"])
    if pending and jobs:
        _run_chunk(jobs, pending, store, options, read["batch_size"])


def _connect(options: Mapping[str, Any]) -> None:
    ray = require("ray", extra="ray", purpose="--engine ray")
    if not ray.is_initialized():
        ray.init(address=options.get("address"), num_cpus=options.get("num_cpus"),
                 include_dashboard=False, logging_level=logging.WARNING)
    context = require("ray.data", extra="ray", purpose="--engine ray").DataContext
    context.get_current().enable_progress_bars = bool(options.get("progress", False))


def _run_chunk(jobs: list[_Job], pending: dict[str, dict[str, str]], store: ScoreStore,
               options: Mapping[str, Any], batch_size: int) -> None:
    import ray.data

    active = {job.name: job for job in jobs if job.active}
    logger.info("scoring %d example(s) with %s on Ray", len(pending), sorted(active))
    dataset = ray.data.from_items(list(pending.values())).map_batches(
        ExtractorActor,
        fn_constructor_kwargs={"extractors": {n: j.extractor for n, j in active.items()}},
        batch_size=batch_size,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=int(options.get("concurrency", 1))),
        num_gpus=float(options.get("num_gpus", 0)),
    )
    try:
        for out in dataset.iter_batches(batch_size=batch_size, batch_format="pandas"):
            for name, part in out.groupby("job", sort=False):
                store.put_many(active[name].key, {
                    h: decode_scores(p)
                    for h, p in zip(part["content_hash"], part["payload"], strict=True)})
    except Exception as err:  # Ray wraps actor errors; report a missing dependency clearly
        cause = err if isinstance(err, MissingDependencyError) else getattr(err, "cause", None)
        if not isinstance(cause, MissingDependencyError):
            raise
        raise MissingDependencyError(f"a Ray worker could not set up an extractor: {cause}. "
                                     f"Fix: install it on every worker, or drop the metric.") \
            from err
    pending.clear()
