"""Run extractors over datasets: stream, score what is not cached, aggregate to a table.

For each dataset the runner streams example batches (:mod:`metaq.io`), asks the result cache
(:class:`~metaq.store.ScoreStore`) which examples each extractor has already scored, scores
only the rest (locally, or on Ray with ``engine="ray"``), stores them batch by batch, and
finally reduces the per-example scores with each extractor's ``aggregate`` (mean and
standard error by default) into the features table of :mod:`metaq.tables.features`: one row
per dataset and, with ``by_domain``, one more row per (dataset, domain).

Cheap CPU extractors (``Extractor.parallel``) run in worker processes, one batch each
(:mod:`metaq.features.parallel`), with the same result as in one process; cheap ones are not
cached at all (``Extractor.cacheable``: recomputing them is faster than a cache round trip).
Subsampled extractors (``Extractor.subsampled``: embeddings, perplexity) score only a
stratified sample of each dataset (domain x length quartile, ``sample`` examples,
:mod:`metaq.features.sampling`), drawn from a first pass over the file; their mean and
standard error then estimate the whole dataset's, and ``n_<extractor>_sampled`` says how
many examples they rest on. Extractors are set up (models loaded) only when they have
something left to score, so a fully cached re-run loads no model. An extractor whose
optional dependency is missing (:class:`~metaq.exceptions.MissingDependencyError`, e.g. no
spaCy pipeline) is skipped with a warning and a ``meta__<name>_skipped`` column saying why;
it is never faked.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from metaq import __version__
from metaq._outputs import TABLE_SUFFIXES, check_output_path, write_table
from metaq.exceptions import DatasetReadError, MetaqError, MissingDependencyError, SchemaError
from metaq.features.base import Example, Extractor
from metaq.features.collect import DomainIndex, ScoreCollector
from metaq.features.parallel import BatchPool, default_workers
from metaq.features.registry import accepted_options, build_extractor, resolve_selection
from metaq.features.sampling import sample_keys, sample_size
from metaq.io.mapping import ColumnMapping
from metaq.io.reader import OnError, ReadStats, iter_example_batches
from metaq.io.records import count_records, dataset_stem
from metaq.store import ScoreStore
from metaq.tables.features import read_features, validate_features

logger = logging.getLogger(__name__)

Engine = Literal["local", "ray"]
Columns = ColumnMapping | str
#: Score function: (extractor, examples still missing) -> one score dict per example.
Scorer = Callable[[Extractor, Sequence[Example]], list[dict[str, Any]]]
#: Examples scored per dataset by subsampled extractors unless ``sample`` says otherwise.
DEFAULT_SAMPLE = 1000
#: Datasets of at most this many batches are scored without worker processes.
_LOCAL_BATCHES = 4


@dataclass
class _Job:
    """One extractor in a run: the instance, the metrics to report, its state."""

    name: str
    metrics: tuple[str, ...]
    extractor: Extractor | None = None
    skipped_reason: str = ""
    ready: bool = False
    collector: ScoreCollector | None = None

    @property
    def key(self) -> str:
        """Cache key of the extractor's configuration."""
        return self.extractor.cache_key()

    @property
    def active(self) -> bool:
        """Whether the extractor runs (it was built and its set-up did not fail)."""
        return not self.skipped_reason

    def skip(self, err: MissingDependencyError) -> None:
        """Mark the extractor unavailable, saying why."""
        self.skipped_reason = str(err)
        logger.warning("skipping extractor %r: %s", self.name, err)


def extract_features(paths: str | Path | Sequence[str | Path],
                     metrics: Sequence[str | Extractor] | str = "text", *,
                     cache_dir: str | Path | None = None,
                     dataset_ids: Sequence[str] | None = None, by_domain: bool = False,
                     on_error: OnError = "stop", engine: Engine = "local",
                     batch_size: int = 256, progress: bool = False,
                     extractor_options: Mapping[str, Any] | None = None,
                     columns: Columns | Sequence[Columns] | None = None,
                     split: str | None = None,
                     ray_options: Mapping[str, Any] | None = None,
                     out: str | Path | None = None,
                     append: str | Path | None = None, sample: int | str | None = DEFAULT_SAMPLE,
                     workers: int | None = None) -> pd.DataFrame:
    """Measure datasets and return their features table.

    Parameters
    ----------
    paths : path or sequence of paths
        Dataset files or folders (JSONL, JSON, Parquet, CSV, ``datasets`` folders).
    metrics : str or sequence of (str or Extractor)
        Metric names (``redundancy_ratio``), extractor names (``embedding``), group names
        (``text``, ``study``), a comma-separated string of those, or extractor instances.
    cache_dir : str or Path, optional
        Folder of the per-example result cache; ``None`` caches in memory for this call only.
    dataset_ids : sequence of str, optional
        One id per path; default the file stem.
    by_domain : bool, default False
        Add one row per (dataset, domain).
    on_error : {"stop", "skip"}
        Bad-record policy (see :mod:`metaq.io.reader`).
    engine : {"local", "ray"}
        Score in this process, or on Ray Data (``ray_options``: ``num_gpus``,
        ``concurrency``, ``chunk_size``; see :mod:`metaq.features.ray_runner`).
    batch_size : int
        Examples per batch handed to extractors (and per cache transaction).
    progress : bool, default False
        Show a tqdm progress bar (examples, characters/s, ETA).
    extractor_options : mapping, optional
        Keyword options (``tokenizer``, ``lm``, ``device``...); each extractor receives those
        its constructor accepts.
    columns : ColumnMapping or str, or a sequence of them, optional
        Field names of the datasets, or their ``part=field,...`` text (detected when not
        given); one for every path, or one per path.
    split : str, optional
        Split of ``datasets`` sources.
    ray_options : mapping, optional
        Options of the Ray engine.
    out : str or Path, optional
        Also write the table there (``.csv`` or ``.parquet``).
    append : str or Path, optional
        A features table the new rows are added to (the result holds both; started when it
        does not exist). A dataset id it already holds is refused before any work.
    sample : int, "all" or None, default 1000
        Examples per dataset scored by the subsampled extractors (embeddings, perplexity),
        drawn stratified by domain x reasoning-length quartile; ``"all"`` or ``None``
        scores every example. Other extractors always see every example.
    workers : int, optional
        Processes for the parallel CPU extractors; default every core, 1 for none.

    Returns
    -------
    pandas.DataFrame
        Validated features table: ``dataset_id``, ``domain``, ``<metric>``,
        ``<metric>__se``, ``n_examples``, ``n_skipped``, ``n_skipped_<reason>``,
        ``n_<extractor>_sampled`` (subsampled extractors), ``meta__*`` provenance.

    Raises
    ------
    DatasetReadError
        On a bad record with ``on_error="stop"``, or a dataset without one usable record.
    SchemaError
        When `append` is not a features table or already holds one of the dataset ids.
    UnknownNameError
        On an unknown metric name.
    InvalidParameterError
        On a `sample` that is not a positive number or ``"all"``.
    MetaqError
        When no requested metric can be computed here.

    Examples
    --------
    >>> from metaq.datasets import sample_path
    >>> table = extract_features([sample_path("gsm8k_train.jsonl")], "redundancy_ratio")
    >>> table[["dataset_id", "n_examples"]].values.tolist()
    [['gsm8k_train', 300]]
    """
    if engine not in ("local", "ray"):
        raise MetaqError(f"engine={engine!r} is not an execution engine; use 'local' or 'ray' "
                         f"(the model back-end, transformers or vllm, is an extractor option).")
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if out is not None:
        out = check_output_path(out, option="out", suffixes=TABLE_SUFFIXES)
    mappings = _mappings(columns, len(paths))
    ids = _dataset_ids(paths, dataset_ids)
    existing = _existing_table(append, ids)
    size = sample_size(sample, "sample")
    jobs = _make_jobs(metrics, extractor_options or {})
    pool = BatchPool({job.name: job.extractor for job in jobs
                      if job.active and job.extractor.parallel},
                     default_workers() if workers is None else workers)
    store = ScoreStore(cache_dir)
    # On Ray the cache is filled first; the local pass then only collects.
    scorer = _local_scorer if engine == "local" else _nothing_left
    rows: list[dict[str, Any]] = []
    try:
        for path, dataset_id, mapping in zip(paths, ids, mappings, strict=True):
            read = dict(mapping=mapping, on_error=on_error, batch_size=batch_size, split=split)
            selected = _draw_sample(path, jobs, size, read)
            if engine == "ray":
                from metaq.features.ray_runner import fill_cache_on_ray

                fill_cache_on_ray(path, jobs, store, {"progress": progress, **(ray_options or {})},
                                  selected=selected, **read)
            stats = ReadStats()
            for job in (j for j in jobs if j.active):
                job.collector = ScoreCollector(
                    job.extractor, job.metrics, by_domain=by_domain,
                    count_as=f"n_{job.name}_sampled" if job.extractor.subsampled else None)
            run = _DatasetRun(jobs, store, scorer, pool, selected)
            domains = run.score(path, dataset_id, stats, progress, read)
            _require_examples(path, stats)
            rows.extend(_dataset_rows(dataset_id, path, jobs, stats, domains, by_domain, size))
    finally:
        pool.close()
        store.close()
    table = _to_table(rows, jobs)
    if existing is not None:
        table = validate_features(pd.concat([existing, table], ignore_index=True),
                                  source=f"{append} with the new rows", allow_missing=True)
    if out is not None:
        write_table(table, out)
    return table


def _draw_sample(path: str | Path, jobs: list[_Job], size: int | None,
                 read: Mapping[str, Any]) -> frozenset[str] | None:
    """Content hashes the subsampled extractors score (``None``: every example)."""
    if size is None or not any(j.active and j.extractor.subsampled for j in jobs):
        return None
    selected = sample_keys(iter_example_batches(path, stats=ReadStats(), **read), size)
    logger.info("%s: subsampled extractors score a stratified sample of %d examples",
                path, len(selected))
    return selected


def _mappings(columns: Columns | Sequence[Columns] | None, n_paths: int
              ) -> list[ColumnMapping | None]:
    if columns is None or isinstance(columns, str | ColumnMapping):
        columns = [columns] * n_paths
    mappings = [ColumnMapping.parse(c) if isinstance(c, str) else c for c in columns]
    if len(mappings) == 1:
        return mappings * n_paths
    if len(mappings) != n_paths:
        raise MetaqError(f"got {len(mappings)} column mappings for {n_paths} path(s). Fix: "
                         f"give one mapping for all paths, or one per path, in order.")
    return mappings


def _existing_table(append: str | Path | None, ids: list[str]) -> pd.DataFrame | None:
    if append is None or not Path(append).exists():
        return None
    table = read_features(append, allow_missing=True)
    clash = sorted(set(ids) & set(table["dataset_id"]))
    if clash:
        raise SchemaError(f"{append}: already holds dataset(s) {clash}. Fix: give them other "
                          f"ids (--dataset-id), or remove their rows first.")
    return table


def _require_examples(path: str | Path, stats: ReadStats) -> None:
    """Refuse a dataset without one usable record: its metrics would be NaN, not measured."""
    if stats.n_examples:
        return
    if not stats.n_skipped:
        raise DatasetReadError(f"{path}: holds no records. Fix: check the file (an empty file, "
                               f"a header-only CSV, an empty split).")
    reasons = ", ".join(f"{n} {reason}" for reason, n in stats.skipped.most_common())
    raise DatasetReadError(f"{path}: no usable record; all {stats.n_skipped} were skipped "
                           f"({reasons}). Fix: map the fields with --columns (see how records "
                           f"parse with `metaq inspect {path}`), or check the file.")


def _dataset_ids(paths: list, dataset_ids: Sequence[str] | None) -> list[str]:
    if dataset_ids is None:
        return [dataset_stem(p) for p in paths]
    if len(dataset_ids) != len(paths):
        raise MetaqError(f"got {len(dataset_ids)} dataset id(s) {list(dataset_ids)} for "
                         f"{len(paths)} path(s). Fix: give one id per path, in order.")
    return [str(i) for i in dataset_ids]


def _make_jobs(metrics: Sequence[str | Extractor] | str,
               options: Mapping[str, Any]) -> list[_Job]:
    items = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    jobs = [_Job(item.name, tuple(item.metrics), item)
            for item in items if isinstance(item, Extractor)]
    names = [item for item in items if isinstance(item, str)]
    for name, wanted in resolve_selection(names).items():
        job = _Job(name, wanted)
        try:
            job.extractor = build_extractor(name, options)
        except MissingDependencyError as err:
            job.skip(err)
        jobs.append(job)
    if not jobs:
        raise MetaqError(f"nothing to extract: metrics {items!r} select no extractor. Fix: "
                         f"choose names listed by `metaq metrics`.")
    _reject_clashes(jobs)
    _warn_unused(options, jobs)
    return jobs


def _warn_unused(options: Mapping[str, Any], jobs: list[_Job]) -> None:
    used = {k for job in jobs if job.extractor is not None
            for k in accepted_options(type(job.extractor), options)}
    unused = sorted(k for k, v in options.items() if v is not None and k not in used)
    if unused:
        logger.warning("option(s) %s are not used by the selected extractors %s",
                       unused, [job.name for job in jobs])


def _reject_clashes(jobs: list[_Job]) -> None:
    owners: dict[str, str] = {}
    for job in jobs:
        for metric in job.metrics:
            if metric in owners:
                raise MetaqError(f"metric {metric!r} would come from two extractors, "
                                 f"{owners[metric]!r} and {job.name!r}. Fix: select one.")
            owners[metric] = job.name


@dataclass
class _Part:
    """One job's share of a batch: its examples, what the cache had, what is being scored."""

    job: _Job
    examples: list[Example]
    hashes: list[str] | None
    codes: np.ndarray
    cached: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] | None = None  # hashes being scored; None: not cached, all scored
    scores: list[dict[str, Any]] | None = None  # scored in this process


@dataclass
class _DatasetRun:
    """Scores one dataset into the jobs' collectors, keeping worker batches in flight."""

    jobs: list[_Job]
    store: ScoreStore
    scorer: Scorer
    pool: BatchPool
    selected: frozenset[str] | None
    local: bool = False

    def score(self, path: str | Path, dataset_id: str, stats: ReadStats, progress: bool,
              read: Mapping[str, Any]) -> DomainIndex:
        """Score every batch of `path`; return the examples' domains."""
        bar = _progress_bar(dataset_id, path) if progress else None
        chars = 0
        domains = DomainIndex()
        pending: deque[tuple[list[_Part], Future | None]] = deque()
        batches = iter_example_batches(path, stats=stats, **read)
        head = list(itertools.islice(batches, _LOCAL_BATCHES + 1))
        self.local = len(head) <= _LOCAL_BATCHES  # too small to be worth worker processes
        for batch in itertools.chain(head, batches):
            codes = domains.add([ex.domain for ex in batch])
            needs_hashes = any(j.active and (j.extractor.cacheable or j.extractor.subsampled)
                               for j in self.jobs)
            hashes = [ex.content_hash() for ex in batch] if needs_hashes else None
            parts, future = self._submit(batch, hashes, codes)
            self._finish([p for p in parts if p.job.name not in self.pool.extractors], None)
            pending.append(([p for p in parts if p.job.name in self.pool.extractors], future))
            while len(pending) > self.pool.window:
                self._finish(*pending.popleft())
            if bar is not None:
                chars += sum(len(ex.question) + len(ex.reasoning) + len(ex.answer)
                             for ex in batch)
                bar.update(len(batch))
                bar.set_postfix_str(f"{chars / max(bar.format_dict['elapsed'], 1e-9):,.0f} "
                                    f"chars/s")
        while pending:
            self._finish(*pending.popleft())
        if bar is not None:
            bar.close()
        return domains

    def _submit(self, batch: list[Example], hashes: list[str] | None,
                codes: np.ndarray) -> tuple[list[_Part], Future | None]:
        """Look the batch up in the cache, score in-process jobs, send the rest to the pool.

        Parts of the pool's jobs are finished in submission order (one job's batches must
        reach its collector in reading order); the others can be finished at once.
        """
        parts, work = [], {}
        for job in (j for j in self.jobs if j.active):
            part = self._share(job, batch, hashes, codes)
            if not part.examples:
                continue
            if part.missing is None:
                todo = part.examples
            else:
                part.cached = self.store.get_many(job.key, part.hashes)
                fresh = {h: ex for h, ex in zip(part.hashes, part.examples, strict=True)
                         if h not in part.cached}
                part.missing, todo = list(fresh), list(fresh.values())
            if todo and not _ensure_setup(job):
                continue
            local = self.scorer is _local_scorer or part.missing is None
            if todo and job.extractor.parallel and local:
                work[job.name] = todo
            elif todo:
                part.scores = (self.scorer if part.missing is not None
                               else _local_scorer)(job.extractor, todo)
            parts.append(part)
        return parts, (self.pool.submit(work, local=self.local) if work else None)

    def _share(self, job: _Job, batch: list[Example], hashes: list[str] | None,
               codes: np.ndarray) -> _Part:
        missing = [] if job.extractor.cacheable else None
        if self.selected is None or not job.extractor.subsampled:
            return _Part(job, batch, hashes, codes, missing=missing)
        keep = [i for i, h in enumerate(hashes) if h in self.selected]
        return _Part(job, [batch[i] for i in keep], [hashes[i] for i in keep], codes[keep],
                     missing=missing)

    def _finish(self, parts: list[_Part], future: Future | None) -> None:
        """Store what was scored and hand each job its batch of scores, in reading order."""
        frames = future.result() if future is not None else {}
        for part in parts:
            fresh = frames.get(part.job.name)
            if part.missing is None:
                frame = fresh if fresh is not None else pd.DataFrame.from_records(part.scores)
            else:
                if part.missing:
                    records = fresh.to_dict("records") if fresh is not None else part.scores
                    scored = dict(zip(part.missing, records, strict=True))
                    self.store.put_many(part.job.key, scored)
                    part.cached.update(scored)
                frame = pd.DataFrame.from_records([part.cached[h] for h in part.hashes])
            part.job.collector.add(frame, part.codes)


def _ensure_setup(job: _Job) -> bool:
    if not job.ready:
        try:
            job.extractor.setup()
        except MissingDependencyError as err:
            job.skip(err)
            return False
        job.ready = True
    return True


def _local_scorer(extractor: Extractor, examples: Sequence[Example]) -> list[dict[str, Any]]:
    scores = extractor.score_batch(examples)
    if len(scores) != len(examples):
        raise MetaqError(f"extractor {extractor.name!r} returned {len(scores)} score rows for "
                         f"{len(examples)} examples; score_batch must return one per example.")
    return scores


def _nothing_left(extractor: Extractor, examples: Sequence[Example]) -> list[dict[str, Any]]:
    raise MetaqError(f"{len(examples)} example(s) of extractor {extractor.name!r} were not "
                     f"scored on Ray (first: {examples[0].location}); the cache is incomplete.")


def _progress_bar(dataset_id: str, path: str | Path) -> Any:
    from tqdm.auto import tqdm

    return tqdm(desc=f"extract {dataset_id}", unit="ex", total=count_records(path),
                dynamic_ncols=True)


def _dataset_rows(dataset_id: str, path: str | Path, jobs: list[_Job], stats: ReadStats,
                  domains: DomainIndex, by_domain: bool,
                  sample: int | None) -> Iterable[dict[str, Any]]:
    base = {"dataset_id": dataset_id, "domain": "", "n_examples": stats.n_examples,
            "n_skipped": stats.n_skipped,
            **{f"n_skipped_{reason}": n for reason, n in sorted(stats.skipped.items())}}
    provenance = _provenance(path, jobs, stats, sample)
    yield {**base, **_aggregate(jobs, domains, None), **provenance}
    if not by_domain:
        return
    if not domains.has_domains:
        logger.warning("%s: no domain field, so no per-domain rows", path)
        return
    for domain in domains.labels():
        yield {"dataset_id": dataset_id, "domain": domain,
               "n_examples": int(domains.mask(domain).sum()),
               **_aggregate(jobs, domains, domain), **provenance}


def _aggregate(jobs: list[_Job], domains: DomainIndex, domain: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for job in (j for j in jobs if j.active):
        values = job.collector.aggregate(domains, domain)
        wanted = set(job.metrics) | {f"{m}__se" for m in job.metrics}
        out.update({k: v for k, v in values.items()
                    if k in wanted or k.startswith(("n_", "meta__"))})
    return out


def _provenance(path: str | Path, jobs: list[_Job], stats: ReadStats,
                sample: int | None) -> dict[str, str]:
    meta = {"meta__source": str(path), "meta__metaq_version": __version__,
            "meta__columns": stats.mapping.describe() if stats.mapping else ""}
    for job in jobs:
        prefix = f"meta__{job.name}"
        if not job.active:
            meta[f"{prefix}_skipped"] = job.skipped_reason
            continue
        meta.update({f"{prefix}_{k}": v for k, v in job.extractor.provenance().items()})
        if job.extractor.subsampled:
            meta[f"{prefix}_sample"] = ("all" if sample is None else
                                        f"{sample} stratified by domain x length quartile")
    return meta


def _to_table(rows: list[dict[str, Any]], jobs: list[_Job]) -> pd.DataFrame:
    if not any(job.active for job in jobs):
        reasons = "; ".join(f"{j.name}: {j.skipped_reason}" for j in jobs)
        raise MetaqError(f"no requested metric could be computed ({reasons}).")
    table = pd.DataFrame.from_records(rows)
    keys = ["dataset_id", "domain"]
    metric_cols = [c for job in jobs for m in job.metrics for c in (m, f"{m}__se")
                   if c in table.columns]
    counts = sorted(c for c in table.columns if c.startswith("n_"))
    counts = ["n_examples", *[c for c in counts if c != "n_examples"]]
    meta = [c for c in table.columns if c.startswith("meta__")]
    rest = [c for c in table.columns if c not in {*keys, *metric_cols, *counts, *meta}]
    table = table[keys + metric_cols + rest + counts + meta]
    whole = table["domain"] == ""
    for column in (c for c in counts if c.startswith("n_skipped_")):
        table.loc[whole, column] = table.loc[whole, column].fillna(0)
    return validate_features(table, source="extracted features", allow_missing=True)
