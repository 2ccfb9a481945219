"""Runs from lm-evaluation-harness result files.

lm-evaluation-harness writes one ``results*.json`` per evaluation. Two layouts exist:

* recent (0.4.x): ``results`` maps a task to ``{"<metric>,<filter>": value,
  "<metric>_stderr,<filter>": value, "alias": ...}``; ``n-samples`` maps a task to
  ``{"original": N, "effective": N}``; ``group_subtasks`` lists the tasks behind a group;
  ``configs``, ``versions``, ``config`` and ``date`` describe the run.
* older (0.3.x): ``results`` maps a task to ``{"<metric>": value, "<metric>_stderr": value}``
  without a filter suffix, and there is no ``n-samples`` section.

Both are read into one long table of (task, metric, score, stderr, n_items). The number of
items comes from ``n-samples`` (``effective``, i.e. after ``--limit``); a group's count is the
sum over its subtasks. Without ``n-samples`` it is recovered from the standard error of a
per-item 0/1 metric: lm-eval reports ``se = sd / sqrt(n)`` with the sample standard
deviation, so ``se**2 = p (1 - p) / (n - 1)`` and ``n = p (1 - p) / se**2 + 1``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from metaq.exceptions import ResultsReadError
from metaq.importers._append import append_runs

logger = logging.getLogger(__name__)

#: Metric chosen for a task when none is configured: the first one the task reports.
DEFAULT_METRIC_PREFERENCE: tuple[str, ...] = (
    "acc_norm", "acc", "exact_match", "pass@1", "em", "mc2", "mc1",
)
#: Filter chosen when a metric is reported under several filters: the first one present.
DEFAULT_FILTER_PREFERENCE: tuple[str, ...] = ("none", "strict-match", "flexible-extract")
#: Metrics that average a 0/1 outcome per item, so the item count follows from their stderr.
BINARY_METRICS = frozenset({"acc", "acc_norm", "exact_match", "pass@1", "em", "mc1"})
_NO_FILTER = "none"
_STDERR = "_stderr"
_COLUMNS = ["task", "metric", "score", "stderr", "n_items", "source"]


@dataclass(frozen=True)
class _ResultsFile:
    path: Path
    data: dict[str, Any]

    @property
    def date(self) -> float:
        value = self.data.get("date")
        return float(value) if isinstance(value, int | float) else 0.0


def find_results_files(paths: Iterable[str | Path]) -> list[Path]:
    """List the lm-eval result files at or under `paths`.

    Parameters
    ----------
    paths : iterable of str or Path
        Result files or directories (searched recursively for ``*.json`` files with a
        top-level ``results`` object, e.g. lm-eval's ``results_<timestamp>.json``).

    Returns
    -------
    list of Path
        The files, sorted within each directory.

    Raises
    ------
    ResultsReadError
        When a path does not exist or a directory holds no result file.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            inside = [p for p in sorted(path.rglob("*.json")) if _has_results(p)]
            if not inside:
                raise ResultsReadError(
                    f"{path}: no lm-eval result file (*.json with a 'results' object) in this "
                    f"directory. Fix: point to the folder lm_eval --output_path wrote."
                )
            found.extend(inside)
        else:
            raise ResultsReadError(f"{path}: no such file or directory")
    return found


def read_lm_eval_results(paths: Iterable[str | Path], *,
                         metrics: Mapping[str, str] | None = None,
                         tasks: Sequence[str] | None = None) -> pd.DataFrame:
    """Read lm-eval result files into one row per task with the chosen metric.

    Parameters
    ----------
    paths : iterable of str or Path
        Result files or directories holding them. A task reported by several files is
        taken from the newest (by the file's ``date``, then by path order).
    metrics : mapping of str to str, optional
        Task -> metric to use, as ``"acc"`` or with a filter, ``"exact_match,flexible-extract"``.
        Other tasks use :data:`DEFAULT_METRIC_PREFERENCE` and :data:`DEFAULT_FILTER_PREFERENCE`.
    tasks : sequence of str, optional
        Tasks to read. Default: every task that is not a subtask of a group also reported
        (so ``mmlu`` is read, not its 57 subjects).

    Returns
    -------
    pandas.DataFrame
        Columns ``task``, ``metric`` (``"<metric>,<filter>"``), ``score``, ``stderr``,
        ``n_items`` (nullable integer) and ``source`` (the file).

    Raises
    ------
    ResultsReadError
        On an unreadable file, a requested task or metric that is absent, or a task without
        any metric of the preference list.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "results_1.json").write_text(json.dumps({
    ...     "results": {"arc_easy": {"acc,none": 0.75, "acc_stderr,none": 0.02}},
    ...     "n-samples": {"arc_easy": {"original": 2376, "effective": 400}}}))
    >>> read_lm_eval_results([folder])[["task", "metric", "score", "n_items"]]
           task    metric  score  n_items
    0  arc_easy  acc,none   0.75      400
    """
    metrics = dict(metrics or {})
    latest = _latest_entry_per_task([_load(p) for p in find_results_files(paths)])
    wanted = list(tasks) if tasks is not None else _top_level_tasks(latest)
    missing = [t for t in wanted if t not in latest]
    if missing:
        raise ResultsReadError(
            f"task(s) {missing} are not in the result files (they report {sorted(latest)}). "
            f"Fix: correct the task names or add the missing result files."
        )
    unused = sorted(set(metrics) - set(wanted))
    if unused:
        raise ResultsReadError(
            f"--metric given for task(s) {unused} that are not imported (imported: {wanted}). "
            f"Fix: correct the task names."
        )
    rows = [_task_row(task, latest[task], latest, metrics.get(task)) for task in wanted]
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    frame["n_items"] = frame["n_items"].astype("Int64")
    return frame


def import_lm_eval(results: Iterable[str | Path], *, dataset_id: str, base_model: str,
                   params_b: float, family: str = "unknown",
                   base_results: Iterable[str | Path] | None = None,
                   metrics: Mapping[str, str] | None = None,
                   tasks: Sequence[str] | None = None,
                   append: str | Path | None = None) -> pd.DataFrame:
    """Turn the lm-eval results of one fine-tuned model into rows of a runs table.

    Parameters
    ----------
    results : iterable of str or Path
        Result files or directories of the model fine-tuned on `dataset_id`.
    dataset_id : str
        The fine-tuning dataset.
    base_model : str
        The model that was fine-tuned.
    params_b : float
        Its size in billions of parameters.
    family : str, default "unknown"
        Its architecture family (``llama``, ``qwen``, ...).
    base_results : iterable of str or Path, optional
        Result files of the untuned `base_model`; each task's ``score_base`` is read with the
        same metric as the fine-tuned score. Without them ``score_base`` is missing (NaN).
    metrics, tasks
        See :func:`read_lm_eval_results`.
    append : str or Path, optional
        An existing runs table to which the new rows are appended.

    Returns
    -------
    pandas.DataFrame
        The validated runs table (the existing rows of `append` first), with an extra
        ``metric`` column naming the lm-eval metric of each imported row.

    Raises
    ------
    ResultsReadError
        See :func:`read_lm_eval_results`.
    SchemaError
        When the rows break the runs contract (a score outside [0, 1], a duplicate run).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name, acc in [("ft", 0.8), ("base", 0.7)]:
    ...     _ = (folder / name).mkdir()
    ...     _ = (folder / name / "results.json").write_text(json.dumps({
    ...         "results": {"arc_easy": {"acc,none": acc}},
    ...         "n-samples": {"arc_easy": {"original": 500, "effective": 500}}}))
    >>> runs = import_lm_eval([folder / "ft"], dataset_id="my_sft", base_model="tiny-1b",
    ...                       params_b=1.0, base_results=[folder / "base"])
    >>> runs[["benchmark", "score_base", "score_ft", "n_items"]]
      benchmark  score_base  score_ft  n_items
    0  arc_easy         0.7       0.8      500
    """
    tuned = read_lm_eval_results(results, metrics=metrics, tasks=tasks)
    runs = pd.DataFrame({
        "dataset_id": dataset_id, "base_model": base_model, "params_b": float(params_b),
        "family": family, "benchmark": tuned["task"], "domain": "",
        "score_base": float("nan"), "score_ft": tuned["score"], "n_items": tuned["n_items"],
        "metric": tuned["metric"],
    })
    if base_results is not None:
        runs["score_base"] = _base_scores(tuned, base_results)
    logger.info("imported %d task(s) of %s fine-tuned on %s", len(runs), base_model, dataset_id)
    return append_runs(runs, append, source=f"lm-eval results of {dataset_id}")


def _base_scores(tuned: pd.DataFrame, base_results: Iterable[str | Path]) -> pd.Series:
    chosen = dict(zip(tuned["task"], tuned["metric"], strict=True))
    latest = _latest_entry_per_task([_load(p) for p in find_results_files(base_results)])
    absent = [t for t in chosen if t not in latest]
    if absent:
        logger.warning("the base model's results lack task(s) %s; their score_base stays "
                       "missing", absent)
    base = {t: _task_row(t, latest[t], latest, chosen[t]) for t in chosen if t in latest}
    for task, row in base.items():
        n_tuned = tuned.loc[tuned["task"] == task, "n_items"].iloc[0]
        if row["n_items"] is not None and not pd.isna(n_tuned) and row["n_items"] != n_tuned:
            logger.warning("task %s: base model scored on %s items, fine-tuned model on %s",
                           task, row["n_items"], n_tuned)
    return tuned["task"].map(lambda t: base[t]["score"] if t in base else float("nan"))


def _has_results(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("results"), dict)


def _load(path: Path) -> _ResultsFile:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        raise ResultsReadError(f"{path}: cannot be read as JSON ({err}). Fix: pass the "
                               f"results_*.json file lm_eval wrote.") from err
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ResultsReadError(f"{path}: has no top-level 'results' object, so it is not an "
                               f"lm-eval result file. Fix: pass the results_*.json file.")
    return _ResultsFile(path, data)


def _latest_entry_per_task(files: list[_ResultsFile]) -> dict[str, tuple[_ResultsFile, dict]]:
    latest: dict[str, tuple[_ResultsFile, dict]] = {}
    for file in sorted(files, key=lambda f: f.date):  # stable: path order among equal dates
        for task, entry in file.data["results"].items():
            if task in latest:
                logger.info("task %s is in %s and %s; using the newer %s", task,
                            latest[task][0].path, file.path, file.path)
            latest[task] = (file, entry)
    return latest


def _top_level_tasks(latest: Mapping[str, tuple[_ResultsFile, dict]]) -> list[str]:
    subtasks: set[str] = set()
    for file, _ in latest.values():
        for group, members in (file.data.get("group_subtasks") or {}).items():
            if group in latest:
                subtasks.update(members)
    return [task for task in latest if task not in subtasks]


def _task_row(task: str, found: tuple[_ResultsFile, dict],
              latest: Mapping[str, tuple[_ResultsFile, dict]], spec: str | None
              ) -> dict[str, Any]:
    file, entry = found
    values = _metric_values(entry)
    key = _choose_metric(task, values, spec, file.path)
    score = values[key]
    stderr = _number(entry.get(_stderr_key(key, entry)))
    n_items = _n_items(task, latest) or _n_from_stderr(key, score, stderr)
    return dict(zip(_COLUMNS, (task, _label(key), score, stderr, n_items, str(file.path)),
                    strict=True))


def _metric_values(entry: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """Numeric metrics of one task as ``(metric, filter) -> value`` (stderrs excluded)."""
    values = {}
    for raw_key, raw_value in entry.items():
        metric, _, filter_ = str(raw_key).partition(",")
        value = _number(raw_value)
        if value is None or metric.endswith(_STDERR) or metric == "alias":
            continue
        values[(metric, filter_ or _NO_FILTER)] = value
    return values


def _choose_metric(task: str, values: Mapping[tuple[str, str], float], spec: str | None,
                   path: Path) -> tuple[str, str]:
    available = sorted(_label(k) for k in values)
    if spec is not None:
        metric, _, filter_ = spec.partition(",")
        candidates = [k for k in values if k[0] == metric and (not filter_ or k[1] == filter_)]
        if not candidates:
            raise ResultsReadError(
                f"{path}, task {task!r}: has no metric {spec!r} (it reports {available}). "
                f"Fix: pass --metric {task}=<one of those>."
            )
        return _prefer_filter(candidates)
    for metric in DEFAULT_METRIC_PREFERENCE:
        candidates = [k for k in values if k[0] == metric]
        if candidates:
            return _prefer_filter(candidates)
    raise ResultsReadError(
        f"{path}, task {task!r}: none of the default metrics {list(DEFAULT_METRIC_PREFERENCE)} "
        f"is reported (it has {available}). Fix: pass --metric {task}=<metric>, choosing an "
        f"accuracy-like metric in [0, 1]."
    )


def _prefer_filter(candidates: list[tuple[str, str]]) -> tuple[str, str]:
    rank = {name: i for i, name in enumerate(DEFAULT_FILTER_PREFERENCE)}
    return min(candidates, key=lambda k: (rank.get(k[1], len(rank)), k[1]))


def _stderr_key(key: tuple[str, str], entry: Mapping[str, Any]) -> str:
    metric, filter_ = key
    recent = f"{metric}{_STDERR},{filter_}"
    return recent if recent in entry else f"{metric}{_STDERR}"


def _label(key: tuple[str, str]) -> str:
    return f"{key[0]},{key[1]}"


def _n_items(task: str, latest: Mapping[str, tuple[_ResultsFile, dict]]) -> int | None:
    file, _ = latest[task]
    counts = file.data.get("n-samples") or {}
    if task in counts:
        count = counts[task]
        n = count.get("effective", count.get("original")) if isinstance(count, dict) else count
        return int(n) if _number(n) is not None else None
    members = (file.data.get("group_subtasks") or {}).get(task)
    if members:
        parts = [_n_items(m, latest) if m in latest else None for m in members]
        if all(p is not None for p in parts):
            return int(sum(parts))
    return None


def _n_from_stderr(key: tuple[str, str], score: float, stderr: float | None) -> int | None:
    if key[0] not in BINARY_METRICS or stderr is None or stderr <= 0 or not 0 < score < 1:
        return None
    return int(round(score * (1 - score) / stderr**2 + 1))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
