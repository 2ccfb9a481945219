"""Runs from lm-evaluation-harness result files (0.3, 0.4, Open LLM Leaderboard / lighteval).

Every file is first read into one normalised form (:mod:`metaq.importers._lm_eval_files`:
task names, groups, item counts, few-shot counts, versions, the model). Then each task gets
one metric and one row:

* **Metric.** The one given for the task (``metrics={"gsm8k": "exact_match,flexible-extract"}``,
  task names may be globs, ``"*"`` or a plain string means every task), else the first
  per-item 0/1 metric of :data:`DEFAULT_METRIC_PREFERENCE` the task reports (``acc_norm``
  first for the tasks in :data:`ACC_NORM_TASKS`, as the Open LLM Leaderboard reports them).
  Filters: ``none``, then ``strict-match``, then ``flexible-extract``.
* **Tasks without a per-item 0/1 metric** (perplexity-only wikitext, crows_pairs' likelihood
  difference, cola's mcc) are skipped and named, the rest imported (``strict=True`` makes it
  an error). Metrics that are not a score in [0, 1] where higher is better (perplexities,
  bits per byte, mcc, ``higher_is_better: false``) are refused even when asked for.
* **Item count** (``n_items``, the binomial noise of the score) only for per-item 0/1
  metrics (:data:`BINARY_METRICS`): a group's ``sample_count`` for the chosen metric where
  lm-eval writes it, else the task's count (``n-samples`` effective, i.e. after ``--limit``),
  else the sum over the group's members that report the metric, else recovered from the
  standard error (``se² = p (1 - p) / (n - 1)``). Any other metric chosen with ``metrics``
  (mc2, f1, rouge) is a continuous score: its ``n_items`` stays empty, so it is never
  modelled as a binomial accuracy.
* **Groups.** By default a group is imported and its members are not (``mmlu``, not its 57
  subjects); ``members_as_domains=True`` adds each member as a domain row of the group.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from metaq.exceptions import ResultsReadError
from metaq.importers._append import append_runs
from metaq.importers._lm_eval_files import (
    NON_METRIC_KEYS,
    ResultsFile,
    has_results,
    items_from_stderr,
    load_results_file,
    metric_value,
)

logger = logging.getLogger(__name__)

#: Metric chosen for a task when none is configured: the first per-item 0/1 one it reports.
DEFAULT_METRIC_PREFERENCE: tuple[str, ...] = (
    "acc", "exact_match", "em", "multiple_choice_grade", "pass@1", "mc1",
    "prompt_level_strict_acc", "acc_norm",
)
#: Tasks whose conventional score (Open LLM Leaderboard v1 and v2) is ``acc_norm``.
ACC_NORM_TASKS: tuple[str, ...] = ("arc_challenge", "arc_easy", "hellaswag", "leaderboard_bbh*",
                                   "leaderboard_gpqa*", "leaderboard_musr*")
#: Filter chosen when a metric is reported under several filters: the first one present.
DEFAULT_FILTER_PREFERENCE: tuple[str, ...] = ("none", "strict-match", "flexible-extract")
#: Metrics that average a 0/1 outcome per item: binomial, with an item count.
BINARY_METRICS = frozenset({
    "acc", "acc_norm", "acc_mutual_info", "exact_match", "em", "exact", "pass@1", "mc1",
    "multiple_choice_grade", "prompt_level_strict_acc", "prompt_level_loose_acc",
})
#: Metrics that are not a score in [0, 1] where higher is better (refused as run scores).
NOT_SCORES = frozenset({
    "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "likelihood_difference",
    "pct_stereotype", "mcc", "ter", "brier_score",
})
_NO_FILTER = "none"
_STDERR = "_stderr"
COLUMNS = ["task", "group", "metric", "score", "stderr", "n_items", "n_shot", "version",
           "source"]


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
            inside = [p for p in sorted(path.rglob("*.json")) if has_results(p)]
            if not inside:
                raise ResultsReadError(
                    f"{path}: no lm-eval result file (*.json with a 'results' object) in this "
                    f"directory. Fix: point to the folder lm_eval --output_path wrote.")
            found.extend(inside)
        else:
            raise ResultsReadError(f"{path}: no such file or directory. Fix: check the path.")
    return found


def read_lm_eval_results(paths: Iterable[str | Path], *,
                         metrics: Mapping[str, str] | str | None = None,
                         tasks: Sequence[str] | None = None, strict: bool = False,
                         members: bool = False) -> pd.DataFrame:
    """Read lm-eval result files into one row per task with the chosen metric.

    Parameters
    ----------
    paths : iterable of str or Path
        Result files or directories holding them. A task reported by several files is
        taken from the newest (by the file's ``date``, then by path order).
    metrics : mapping of str to str, or str, optional
        Task (or glob, ``"*"`` for all) -> metric, as ``"acc"`` or with a filter,
        ``"exact_match,flexible-extract"``; a plain string is the metric of every task.
        Other tasks get their default (see the module docstring).
    tasks : sequence of str, optional
        Tasks (or globs, ``"mmlu_*"``) to read. Default: every task that is not a member of
        a group also reported (so ``mmlu`` is read, not its 57 subjects).
    strict : bool, default False
        Raise on a task without a usable metric instead of skipping it.
    members : bool, default False
        Also read the members of each group read, with the group in column ``group``.

    Returns
    -------
    pandas.DataFrame
        Columns ``task``, ``group`` (``""`` unless a member row), ``metric``
        (``"<metric>,<filter>"``), ``score``, ``stderr``, ``n_items`` (nullable integer,
        empty for continuous metrics), ``n_shot``, ``version`` and ``source`` (the file).
        ``attrs["skipped"]`` maps each skipped task to the reason.

    Raises
    ------
    ResultsReadError
        On an unreadable or malformed file, a requested task that is absent or a glob that
        matches none, a metric given for a task that does not report it, a metric that is not
        a score, a skipped task with `strict`, or nothing left to import.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "results_1.json").write_text(json.dumps({
    ...     "results": {"arc_easy": {"acc,none": 0.75, "acc_stderr,none": 0.02},
    ...                 "wikitext": {"word_perplexity,none": 9.1}},
    ...     "n-samples": {"arc_easy": {"original": 2376, "effective": 400}}}))
    >>> table = read_lm_eval_results([folder])
    >>> table[["task", "metric", "score", "n_items"]]
           task    metric  score  n_items
    0  arc_easy  acc,none   0.75      400
    >>> table.attrs["skipped"]["wikitext"]
    "no per-item 0/1 metric (it reports ['word_perplexity,none'])"
    """
    latest = _latest_per_task(load_files(paths))
    return _read(latest, _metric_specs(metrics), _wanted_tasks(latest, tasks), strict=strict,
                 members=members)


def load_files(paths: Iterable[str | Path]) -> list[ResultsFile]:
    """Find and read the result files at or under `paths` (see :func:`find_results_files`)."""
    return [load_results_file(p) for p in find_results_files(paths)]


def import_lm_eval(results: Iterable[str | Path], *, dataset_id: str,
                   base_model: str | None = None, params_b: float | None = None,
                   family: str = "unknown",
                   base_results: Iterable[str | Path] | None = None,
                   metrics: Mapping[str, str] | str | None = None,
                   tasks: Sequence[str] | None = None, strict: bool = False,
                   members_as_domains: bool = False, allow_different_setup: bool = False,
                   append: str | Path | None = None) -> pd.DataFrame:
    """Turn the lm-eval results of one fine-tuned model into rows of a runs table.

    Parameters
    ----------
    results : iterable of str or Path
        Result files or directories of the model fine-tuned on `dataset_id`.
    dataset_id : str
        The fine-tuning dataset.
    base_model : str, optional
        The model that was fine-tuned. Default: read from the files' ``config.model_args``
        (``pretrained=`` of `base_results`, or of a ``peft=`` fine-tune): a Hugging Face id
        as it is, a local path by its last folder name.
    params_b : float, optional
        Its size in billions of parameters. Default: ``config.model_num_parameters`` (of
        `base_results`, else of `results`), to two significant digits.
    family : str, default "unknown"
        Its architecture family (``llama``, ``qwen``, ...).
    base_results : iterable of str or Path, optional
        Result files of the untuned `base_model`; each task's ``score_base`` is read with the
        same metric as the fine-tuned score. Without them ``score_base`` is missing (NaN).
    metrics, tasks, strict
        See :func:`read_lm_eval_results`.
    members_as_domains : bool, default False
        Also import each group's members, as domain rows of the group's benchmark (domain:
        the member's name without the group's prefix, ``mmlu_anatomy`` -> ``anatomy``).
    allow_different_setup : bool, default False
        Pair base and fine-tuned scores of a task evaluated with different few-shot counts,
        item counts (``--limit``) or task versions, with a warning, instead of refusing.
    append : str or Path, optional
        A runs table to which the new rows are appended (started when it does not exist).

    Returns
    -------
    pandas.DataFrame
        The validated runs table (the existing rows of `append` first), with an extra
        ``metric`` column naming the lm-eval metric of each imported row;
        ``attrs["skipped"]`` names the skipped tasks and ``attrs["inferred"]`` what was read
        from the files (``base_model``, ``params_b``).

    Raises
    ------
    ResultsReadError
        See :func:`read_lm_eval_results`; also a base model or size that the files do not
        tell, and base and fine-tuned runs evaluated differently.
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
    ...         "n-samples": {"arc_easy": {"original": 500, "effective": 500}},
    ...         "config": {"model_args": "pretrained=org/tiny-1b",
    ...                    "model_num_parameters": 1_100_000_000}}))
    >>> runs = import_lm_eval([folder / "ft"], dataset_id="my_sft",
    ...                       base_results=[folder / "base"])
    >>> runs[["base_model", "params_b", "benchmark", "score_base", "score_ft", "n_items"]]
        base_model  params_b benchmark  score_base  score_ft  n_items
    0  org/tiny-1b       1.1  arc_easy         0.7       0.8      500
    """
    tuned_files = load_files(results)
    base_files = load_files(base_results) if base_results is not None else None
    latest = _latest_per_task(tuned_files)
    tuned = _read(latest, _metric_specs(metrics), _wanted_tasks(latest, tasks), strict=strict,
                  members=members_as_domains)
    inferred = {}
    if base_model is None:
        base_model = inferred["base_model"] = infer_base_model(tuned_files, base_files)
    if params_b is None:
        params_b = inferred["params_b"] = infer_params_b(tuned_files, base_files)
    benchmark, domain = _benchmark_and_domain(tuned)
    runs = pd.DataFrame({
        "dataset_id": dataset_id, "base_model": base_model, "params_b": float(params_b),
        "family": family, "benchmark": benchmark, "domain": domain,
        "score_base": float("nan"), "score_ft": tuned["score"], "n_items": tuned["n_items"],
        "metric": tuned["metric"],
    })
    if base_files is not None:
        runs["score_base"] = _base_scores(tuned, _latest_per_task(base_files),
                                          allow_different_setup)
    logger.info("imported %d row(s) of %s fine-tuned on %s", len(runs), base_model, dataset_id)
    table = append_runs(runs, append, source=f"lm-eval results of {dataset_id}")
    table.attrs.update(skipped=tuned.attrs["skipped"], inferred=inferred)
    return table


def infer_base_model(tuned: Sequence[ResultsFile], base: Sequence[ResultsFile] | None) -> str:
    """Read the base model's name from the files' model arguments.

    Raises
    ------
    ResultsReadError
        When the files do not name exactly one base model.
    """
    if base:
        names = {f.model for f in base if f.model}
        where = "the base model's result files"
    else:
        names = {f.model for f in tuned if f.model and f.peft}
        where = "the fine-tuned model's adapter runs (pretrained= beside peft=)"
    if len(names) != 1:
        found = sorted(names) or "none"
        raise ResultsReadError(f"cannot tell the base model from {where} (names found: "
                               f"{found}). Fix: pass base_model= (CLI: --base-model NAME).")
    name = names.pop().rstrip("/")
    is_hub_id = name.count("/") == 1 and not name.startswith((".", "/", "~"))
    return name if is_hub_id else name.rsplit("/", 1)[-1]


def infer_params_b(tuned: Sequence[ResultsFile], base: Sequence[ResultsFile] | None) -> float:
    """Read the size in billions from ``config.model_num_parameters`` (two digits).

    Raises
    ------
    ResultsReadError
        When the files hold no parameter count, or several different ones.
    """
    counts = {f.n_params for f in (base or tuned) if f.n_params}
    sizes = {float(f"{n / 1e9:.2g}") for n in counts}  # a LoRA adapter's few M disappear
    if len(sizes) != 1:
        raise ResultsReadError(f"cannot tell the model size from the files' "
                               f"config.model_num_parameters (found: {sorted(counts) or 'none'}). "
                               f"Fix: pass params_b= (CLI: --params-b N, in billions).")
    return sizes.pop()


def _latest_per_task(files: list[ResultsFile]) -> dict[str, ResultsFile]:
    latest: dict[str, ResultsFile] = {}
    for file in sorted(files, key=lambda f: f.date):  # stable: path order among equal dates
        for task in file.tasks:
            if task in latest:
                logger.info("task %s is in %s and %s; using the newer %s", task,
                            latest[task].path, file.path, file.path)
            latest[task] = file
    return latest


def _metric_specs(metrics: Mapping[str, str] | str | None) -> dict[str, str]:
    if metrics is None:
        return {}
    return {"*": metrics} if isinstance(metrics, str) else dict(metrics)


def _wanted_tasks(latest: Mapping[str, ResultsFile], tasks: Sequence[str] | None) -> list[str]:
    if tasks is None:
        return _top_level_tasks(latest)
    wanted: list[str] = []
    for pattern in tasks:
        if pattern in latest:
            matched = [pattern]
        elif any(c in pattern for c in "*?["):
            matched = [t for t in latest if fnmatch.fnmatchcase(t, pattern)]
        else:
            matched = []
        if not matched:
            raise ResultsReadError(
                f"task(s) [{pattern!r}] are not in the result files (they report "
                f"{sorted(latest)}). Fix: correct the task names or add the missing result "
                f"files.")
        wanted.extend(t for t in matched if t not in wanted)
    return wanted


def _top_level_tasks(latest: Mapping[str, ResultsFile]) -> list[str]:
    hidden = {m for task, file in latest.items() if _metric_values(file.tasks[task])
              for m in file.members.get(task, ())}
    return [task for task in latest if task not in hidden]


def _read(latest: Mapping[str, ResultsFile], specs: dict[str, str], wanted: list[str], *,
          strict: bool, members: bool) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for task in wanted:
        row = _task_row(task, latest, specs, skipped, strict)
        if row is None:
            continue
        rows.append(row)
        if members:
            rows.extend(_member_rows(task, row["metric"], latest, skipped, strict))
    _check_specs_used(specs, [r["task"] for r in rows] + list(skipped), wanted)
    if not rows:
        reasons = "; ".join(f"{t}: {r}" for t, r in skipped.items())
        raise ResultsReadError(f"no task could be imported ({reasons}). Fix: choose a metric "
                               f"with --metric TASK=METRIC, or other tasks with --tasks.")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["n_items"] = frame["n_items"].astype("Int64")
    frame["n_shot"] = frame["n_shot"].astype("Int64")
    frame.attrs["skipped"] = skipped
    return frame


def _task_row(task: str, latest: Mapping[str, ResultsFile], specs: Mapping[str, str],
              skipped: dict[str, str], strict: bool, group: str = "",
              spec: str | None = None) -> dict[str, Any] | None:
    file = latest[task]
    entry = file.tasks[task]
    values = _metric_values(entry)
    if spec is None:
        spec, explicit = _spec_for(task, specs)
    else:
        explicit = False
    key, reason = _choose_metric(task, values, spec, explicit, file)
    if key is None or file.counts.get(task) == 0:
        reason = reason or "was evaluated on 0 items (n-samples effective 0)"
        return _skip(task, reason, file, skipped, strict)
    _refuse_non_scores(task, key, file)
    stderr = metric_value(entry.get(_stderr_key(key, entry)))
    return {"task": task, "group": group, "metric": _label(key), "score": values[key],
            "stderr": stderr, "n_items": _n_items(task, key, latest),
            "n_shot": file.n_shot.get(task), "version": file.versions.get(task, ""),
            "source": str(file.path)}


def _member_rows(group: str, metric: str, latest: Mapping[str, ResultsFile],
                 skipped: dict[str, str], strict: bool) -> list[dict[str, Any]]:
    rows = []
    for member in latest[group].members.get(group, ()):
        if member not in latest:
            logger.warning("group %s lists %s, which the files do not report", group, member)
            continue
        row = _task_row(member, latest, {}, skipped, strict, group=group, spec=metric)
        if row is not None:
            rows.append(row)
    return rows


def _skip(task: str, reason: str, file: ResultsFile, skipped: dict[str, str],
          strict: bool) -> None:
    if strict:
        raise ResultsReadError(f"{file.path}, task {task!r}: {reason}. Fix: pass --metric "
                               f"{task}=<metric> or leave the task out with --tasks.")
    logger.warning("skipped task %s: %s", task, reason)
    skipped[task] = reason


def _spec_for(task: str, specs: Mapping[str, str]) -> tuple[str | None, bool]:
    if task in specs:
        return specs[task], True
    for pattern, spec in specs.items():
        if fnmatch.fnmatchcase(task, pattern):
            return spec, False
    return None, False


def _check_specs_used(specs: Mapping[str, str], seen: list[str], wanted: list[str]) -> None:
    unused = sorted(p for p in specs if p != "*" and not any(fnmatch.fnmatchcase(t, p)
                                                             for t in seen))
    if unused:
        raise ResultsReadError(
            f"--metric given for task(s) {unused} that are not imported (imported: {wanted}). "
            f"Fix: correct the task names.")


def _metric_values(entry: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """Numeric metrics of one task as ``(metric, filter) -> value`` (stderrs, counts excluded)."""
    values = {}
    for raw_key, raw_value in entry.items():
        metric, _, filter_ = str(raw_key).partition(",")
        value = metric_value(raw_value)
        if value is None or metric.endswith(_STDERR) or metric in NON_METRIC_KEYS:
            continue
        values[(metric, filter_ or _NO_FILTER)] = value
    return values


def _choose_metric(task: str, values: Mapping[tuple[str, str], float], spec: str | None,
                   explicit: bool, file: ResultsFile) -> tuple[tuple[str, str] | None, str]:
    """Return the metric key, or None and why the task is skipped."""
    available = sorted(_label(k) for k in values)
    if spec is not None:
        metric, _, filter_ = spec.partition(",")
        candidates = [k for k in values if k[0] == metric and (not filter_ or k[1] == filter_)]
        if candidates:
            return _prefer_filter(candidates), ""
        if explicit:
            raise ResultsReadError(
                f"{file.path}, task {task!r}: has no metric {spec!r} (it reports {available}). "
                f"Fix: pass --metric {task}=<one of those>.")
        return None, f"has no metric {spec!r} (it reports {available})"
    for metric in _preference(task):
        candidates = [k for k in values if k[0] == metric]
        if candidates:
            return _prefer_filter(candidates), ""
    return None, f"no per-item 0/1 metric (it reports {available})"


def _preference(task: str) -> tuple[str, ...]:
    if any(fnmatch.fnmatchcase(task, pattern) for pattern in ACC_NORM_TASKS):
        return ("acc_norm", *[m for m in DEFAULT_METRIC_PREFERENCE if m != "acc_norm"])
    return DEFAULT_METRIC_PREFERENCE


def _refuse_non_scores(task: str, key: tuple[str, str], file: ResultsFile) -> None:
    lower_is_better = file.higher_is_better.get(task, {}).get(key[0]) is False
    if key[0] in NOT_SCORES or lower_is_better:
        raise ResultsReadError(
            f"{file.path}, task {task!r}: metric {_label(key)!r} is not a score in [0, 1] where "
            f"higher is better, so it cannot be a run's score. Fix: choose an accuracy-like "
            f"metric with --metric {task}=<metric>, or leave the task out with --tasks.")


def _prefer_filter(candidates: list[tuple[str, str]]) -> tuple[str, str]:
    rank = {name: i for i, name in enumerate(DEFAULT_FILTER_PREFERENCE)}
    return min(candidates, key=lambda k: (rank.get(k[1], len(rank)), k[1]))


def _stderr_key(key: tuple[str, str], entry: Mapping[str, Any]) -> str:
    metric, filter_ = key
    recent = f"{metric}{_STDERR},{filter_}"
    return recent if recent in entry else f"{metric}{_STDERR}"


def _label(key: tuple[str, str]) -> str:
    return f"{key[0]},{key[1]}"


def _n_items(task: str, key: tuple[str, str], latest: Mapping[str, ResultsFile]) -> int | None:
    """Items behind the task's `key` metric; None for a continuous metric or when unknown."""
    if key[0] not in BINARY_METRICS:
        return None
    file = latest[task]
    entry = file.tasks[task]
    per_metric = entry.get("sample_count")
    if isinstance(per_metric, dict) and metric_value(per_metric.get(_label(key))) is not None:
        return int(per_metric[_label(key)])
    if task in file.counts:
        return file.counts[task]
    reporting = [m for m in file.members.get(task, ())
                 if m in latest and key in _metric_values(latest[m].tasks[m])]
    if reporting:
        parts = [_n_items(m, key, latest) for m in reporting]
        return int(sum(parts)) if all(p is not None for p in parts) else None
    score = _metric_values(entry)[key]
    return items_from_stderr(score, metric_value(entry.get(_stderr_key(key, entry))))


def _benchmark_and_domain(tuned: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    is_member = tuned["group"] != ""
    benchmark = tuned["group"].where(is_member, tuned["task"])
    domain = [task.removeprefix(f"{group}_") if group else ""
              for task, group in zip(tuned["task"], tuned["group"], strict=True)]
    return benchmark, pd.Series(domain, index=tuned.index, dtype=object)


def _base_scores(tuned: pd.DataFrame, latest: Mapping[str, ResultsFile],
                 allow_different_setup: bool) -> pd.Series:
    scores = []
    absent = []
    for row in tuned.itertuples(index=False):
        base = _base_row(row, latest)
        if base is None:
            absent.append(row.task)
            scores.append(math.nan)
            continue
        _compare_setup(row, base, allow_different_setup)
        scores.append(base["score"])
    if absent:
        logger.warning("the base model's results lack task(s) %s (or their metric); their "
                       "score_base stays missing", absent)
    return pd.Series(scores, index=tuned.index, dtype=float)


def _base_row(row: Any, latest: Mapping[str, ResultsFile]) -> dict[str, Any] | None:
    if row.task not in latest:
        return None
    metric, _, filter_ = row.metric.partition(",")
    if (metric, filter_) not in _metric_values(latest[row.task].tasks[row.task]):
        return None
    return _task_row(row.task, latest, {}, {}, strict=True, spec=row.metric)


def _compare_setup(row: Any, base: Mapping[str, Any], allow: bool) -> None:
    differences = []
    for column, what in (("n_shot", "few-shot examples"), ("n_items", "items (--limit)"),
                         ("version", "task version")):
        tuned_value, base_value = getattr(row, column), base[column]
        if _known(tuned_value) and _known(base_value) and tuned_value != base_value:
            differences.append(f"{what}: base {base_value}, fine-tuned {tuned_value}")
    if not differences:
        return
    message = (f"task {row.task!r}: the base and fine-tuned models were evaluated differently "
               f"({'; '.join(differences)})")
    if not allow:
        raise ResultsReadError(f"{message}, so the change between them is not the change "
                               f"fine-tuning made. Fix: evaluate both the same way, or pass "
                               f"allow_different_setup=True (CLI: --allow-different-setup) to "
                               f"pair them anyway.")
    logger.warning("%s; paired anyway (allow_different_setup)", message)


def _known(value: Any) -> bool:
    return value is not None and value is not pd.NA and value != "" and not (
        isinstance(value, float) and math.isnan(value))
