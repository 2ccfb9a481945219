"""One lm-eval result file, in any common layout, read into one normalised form.

Layouts met in the wild, all read into a :class:`ResultsFile`:

* lm-eval 0.4: ``results`` maps a task to ``{"<metric>,<filter>": value, ...}``; item counts
  in ``n-samples`` (``effective``: after ``--limit``), in an entry's ``samples`` or
  ``sample_len``, and per metric in a group's ``sample_count``; groups in ``group_subtasks``
  (0.4.3 on) or, before that, only in the indentation of the members' ``alias``
  (``" - anatomy"``); few-shot counts in ``n-shot``/``configs``; ``versions``;
  ``higher_is_better``; the model in ``config.model_args`` and ``config.model_num_parameters``.
* lm-eval 0.3: metrics without a filter suffix, one ``config.num_fewshot`` for every task, no
  counts; MMLU as 57 ``hendrycksTest-<subject>`` tasks without an aggregate.
* Open LLM Leaderboard v1 / lighteval: task names ``suite|task|shots``
  (``harness|arc:challenge|25``), a pseudo-task ``all`` averaging everything, counts in
  ``summary_tasks`` (``truncated + non_truncated``), the model in ``config_general``.

Names are normalised to lm-eval 0.4's: ``harness|arc:challenge|25`` -> ``arc_challenge``,
``hendrycksTest-anatomy`` and ``mmlu:anatomy`` -> ``mmlu_anatomy``. MMLU subjects that arrive
without an aggregate get one, ``mmlu``: each metric's item-weighted mean over the subjects
(lm-eval 0.4's definition; the Open LLM Leaderboard v1 printed the unweighted mean), with the
subjects as its members.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaq.exceptions import ResultsReadError

logger = logging.getLogger(__name__)

#: Keys of a task entry that describe it rather than score it.
NON_METRIC_KEYS = frozenset({"alias", "name", "samples", "sample_len", "sample_count",
                             "group", "task"})
_STDERR = "_stderr"
_MMLU_PREFIXES = ("hendrycksTest-", "mmlu:")
_PSEUDO_TASKS = frozenset({"all"})


@dataclass
class ResultsFile:
    """The parts of one result file metaq uses, with task names normalised.

    Attributes
    ----------
    path : Path
        The file.
    tasks : dict
        Task -> its entry (``"<metric>[,<filter>]"`` -> value, plus ``alias`` etc.), in file
        order.
    members : dict
        Group -> the tasks it aggregates.
    counts : dict
        Task -> items evaluated (after ``--limit``).
    n_shot, versions : dict
        Task -> few-shot examples; task -> task version (as text).
    higher_is_better : dict
        Task -> metric -> whether higher is better.
    model, peft : str or None
        ``pretrained=`` and ``peft=`` of the model arguments (or the model name).
    n_params : int or None
        ``config.model_num_parameters``.
    date : float
        The file's ``date`` (0 when absent).
    """

    path: Path
    tasks: dict[str, dict[str, Any]]
    members: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    n_shot: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    higher_is_better: dict[str, dict[str, bool]] = field(default_factory=dict)
    model: str | None = None
    peft: str | None = None
    n_params: int | None = None
    date: float = 0.0


def read_json(path: Path) -> Any:
    """Parse a JSON file, turning every failure into :class:`ResultsReadError`."""
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise ResultsReadError(f"{path}: cannot be read as JSON ({reason}). Fix: pass the "
                               f"results_*.json file lm_eval wrote.") from err


def has_results(path: Path) -> bool:
    """Whether `path` is a JSON file with a top-level ``results`` object."""
    try:
        data = read_json(path)
    except ResultsReadError:
        return False
    return isinstance(data, dict) and isinstance(data.get("results"), dict)


def load_results_file(path: Path) -> ResultsFile:
    """Read and normalise one result file.

    Raises
    ------
    ResultsReadError
        When the file is not JSON, has no ``results`` object, or a part of it has the wrong
        shape (a task that is not an object of metrics, ``n-samples`` that is not an object,
        a group whose members are not a list of names).
    """
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ResultsReadError(f"{path}: has no top-level 'results' object, so it is not an "
                               f"lm-eval result file. Fix: pass the results_*.json file.")
    rename, shots_in_name = _task_names(data["results"], path)
    tasks = {rename[raw]: entry for raw, entry in data["results"].items() if raw in rename}
    file = ResultsFile(path=path, tasks=tasks, date=_date(data))
    file.members = _members(data, rename, tasks, path)
    file.counts = _counts(data, rename, tasks, path)
    file.n_shot = {**_config_shots(data, tasks), **shots_in_name,
                   **_renamed(_section(data, "n-shot", path), rename, _as_int)}
    file.versions = _renamed(_section(data, "versions", path), rename, _version)
    file.higher_is_better = _renamed(_section(data, "higher_is_better", path), rename,
                                     lambda v: v if isinstance(v, dict) else None)
    file.model, file.peft, file.n_params = _model(data, path)
    _aggregate_mmlu(file, [name for raw, name in rename.items() if _is_mmlu_subject(raw)])
    return file


def metric_value(value: Any) -> float | None:
    """Return `value` as a finite float, else None (lm-eval writes ``"N/A"`` for no stderr)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def items_from_stderr(score: float, stderr: float | None) -> int | None:
    """Items behind a mean of 0/1 outcomes from its standard error (``se² = p(1-p)/(n-1)``)."""
    if stderr is None or stderr <= 0 or not 0 < score < 1:
        return None
    return int(round(score * (1 - score) / stderr**2 + 1))


def _task_names(results: Mapping[str, Any], path: Path) -> tuple[dict[str, str], dict[str, int]]:
    rename: dict[str, str] = {}
    shots: dict[str, int] = {}
    for raw, entry in results.items():
        if str(raw) in _PSEUDO_TASKS:
            logger.info("%s: dropped the pseudo-task %r (an average over all tasks)", path, raw)
            continue
        if not isinstance(entry, dict):
            raise ResultsReadError(
                f"{path}: task {raw!r} is a {type(entry).__name__}, not an object of metrics "
                f"(e.g. {{\"acc,none\": 0.5}}). Fix: pass the file lm_eval wrote, unedited.")
        name, n_shot = _normalise(str(raw))
        if name in rename.values():
            raise ResultsReadError(f"{path}: two results entries are task {name!r} (one is "
                                   f"{raw!r}). Fix: keep one of them.")
        rename[raw] = name
        if n_shot is not None:
            shots[name] = n_shot
    return rename, shots


def _is_mmlu_subject(raw: str) -> bool:
    """``hendrycksTest-<subject>`` (0.3) or ``mmlu:<subject>`` (lighteval), not an average."""
    task = raw.split("|")[1] if raw.count("|") == 2 else raw
    return any(task.startswith(p) and not task[len(p):].startswith("_") for p in _MMLU_PREFIXES)


def _normalise(raw: str) -> tuple[str, int | None]:
    """``harness|arc:challenge|25`` -> (``arc_challenge``, 25); ``hendrycksTest-x`` -> mmlu_x."""
    n_shot = None
    parts = raw.split("|")
    if len(parts) == 3:
        raw, n_shot = parts[1], _as_int(parts[2])
    for prefix in _MMLU_PREFIXES:
        if raw.startswith(prefix):
            raw = "mmlu_" + raw[len(prefix):]
    return raw.replace(":", "_"), n_shot


def _section(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ResultsReadError(f"{path}: {key!r} is a {type(value).__name__}, not an object "
                               f"keyed by task. Fix: pass the file lm_eval wrote, unedited.")
    return value


def _renamed(section: Mapping[str, Any], rename: Mapping[str, str], convert) -> dict[str, Any]:
    out = {}
    for raw, value in section.items():
        name = rename.get(raw, _normalise(str(raw))[0])
        converted = convert(value) if value is not None else None
        if converted is not None:
            out[name] = converted
    return out


def _as_int(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def _version(value: Any) -> str:
    """Write a task version as text; ``1``, ``1.0`` and ``"1.0"`` are one version."""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


def _date(data: Mapping[str, Any]) -> float:
    value = metric_value(data.get("date"))
    return value if value is not None else 0.0


def _members(data: Mapping[str, Any], rename: Mapping[str, str],
             tasks: Mapping[str, dict], path: Path) -> dict[str, list[str]]:
    listed = _section(data, "group_subtasks", path)
    if not listed:
        return _members_from_aliases(tasks)
    members = {}
    for group, names in listed.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ResultsReadError(f"{path}: group_subtasks[{group!r}] is not a list of task "
                                   f"names. Fix: pass the file lm_eval wrote, unedited.")
        if names:
            members[rename.get(group, group)] = [rename.get(n, n) for n in names]
    return members


def _members_from_aliases(tasks: Mapping[str, dict]) -> dict[str, list[str]]:
    """Read groups from alias indentation (``" - anatomy"`` belongs to the entry above it)."""
    members: dict[str, list[str]] = {}
    stack: list[tuple[int, str]] = []
    for name, entry in tasks.items():
        alias = entry.get("alias")
        stripped = alias.lstrip(" ") if isinstance(alias, str) else ""
        depth = len(alias) - len(stripped) if stripped.startswith("- ") else 0
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if depth and stack:
            members.setdefault(stack[-1][1], []).append(name)
        stack.append((depth, name))
    return members


def _counts(data: Mapping[str, Any], rename: Mapping[str, str], tasks: Mapping[str, dict],
            path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for raw, summary in _section(data, "summary_tasks", path).items():
        if isinstance(summary, dict) and "non_truncated" in summary:
            total = _as_int(summary.get("non_truncated", 0)) or 0
            counts[rename.get(raw, raw)] = total + (_as_int(summary.get("truncated", 0)) or 0)
    for name, entry in tasks.items():
        for key in ("samples", "sample_len"):
            if _as_int(entry.get(key)) is not None:
                counts[name] = _as_int(entry[key])
    for raw, count in _section(data, "n-samples", path).items():
        n = count.get("effective", count.get("original")) if isinstance(count, dict) else count
        if _as_int(n) is None:
            raise ResultsReadError(f"{path}: n-samples[{raw!r}] is {count!r}, not an item count "
                                   f"(e.g. {{\"original\": 1319, \"effective\": 500}}). Fix: "
                                   f"pass the file lm_eval wrote, unedited.")
        counts[rename.get(raw, _normalise(str(raw))[0])] = _as_int(n)
    return counts


def _config_shots(data: Mapping[str, Any], tasks: Mapping[str, dict]) -> dict[str, int]:
    config = data.get("config")
    shots = {}
    if isinstance(config, dict) and _as_int(config.get("num_fewshot")) is not None:
        shots = dict.fromkeys(tasks, _as_int(config["num_fewshot"]))  # 0.3: one for all
    configs = data.get("configs")
    for name, task_config in (configs.items() if isinstance(configs, dict) else ()):
        if isinstance(task_config, dict) and _as_int(task_config.get("num_fewshot")) is not None:
            shots[_normalise(str(name))[0]] = _as_int(task_config["num_fewshot"])
    return shots


def _model(data: Mapping[str, Any], path: Path) -> tuple[str | None, str | None, int | None]:
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    args = config.get("model_args")
    if isinstance(args, str):
        args = dict(item.partition("=")[::2] for item in args.split(",") if "=" in item)
    args = args if isinstance(args, dict) else {}
    general = data.get("config_general") if isinstance(data.get("config_general"), dict) else {}
    model = args.get("pretrained") or data.get("model_name") or general.get("model_name")
    n_params = _as_int(config.get("model_num_parameters"))
    return (str(model) if model else None, str(args["peft"]) if args.get("peft") else None,
            n_params if n_params and n_params > 0 else None)


def _aggregate_mmlu(file: ResultsFile, subjects: list[str]) -> None:
    """Add an item-weighted ``mmlu`` aggregate over MMLU subjects reported without one."""
    if not subjects or "mmlu" in file.tasks:
        return
    metrics = [k for k in file.tasks[subjects[0]] if k not in NON_METRIC_KEYS
               and _STDERR not in k and all(metric_value(file.tasks[s].get(k)) is not None
                                            for s in subjects)]
    sizes = [file.counts.get(s) or _subject_items(file.tasks[s]) for s in subjects]
    known = all(n is not None for n in sizes)
    if not known:
        logger.warning("%s: the item count of some MMLU subjects is unknown; mmlu is their "
                       "unweighted mean, without an item count", file.path)
    weights = sizes if known else [1] * len(subjects)
    entry: dict[str, Any] = {"alias": f"mmlu (metaq: {len(subjects)} subjects aggregated)"}
    for key in metrics:
        values = [metric_value(file.tasks[s][key]) for s in subjects]
        entry[key] = sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights)
    file.tasks["mmlu"] = entry
    file.members["mmlu"] = subjects
    if known:
        file.counts["mmlu"] = int(sum(sizes))
    shots = {file.n_shot.get(s) for s in subjects}
    if len(shots) == 1 and None not in shots:
        file.n_shot["mmlu"] = shots.pop()
    logger.info("%s: %d MMLU subjects aggregated into 'mmlu' (%s)", file.path, len(subjects),
                "item-weighted" if known else "unweighted")


def _subject_items(entry: Mapping[str, Any]) -> int | None:
    for metric in ("acc", "acc,none"):
        score = metric_value(entry.get(metric))
        stderr_key = "acc_stderr" if metric == "acc" else "acc_stderr,none"
        if score is not None:
            return items_from_stderr(score, metric_value(entry.get(stderr_key)))
    return None
