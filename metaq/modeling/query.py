"""Which base models and benchmarks a forecast is for: the one reading of that user input.

Every forecaster's ``predict``, ``slopes`` and ``contributions`` (and everything built on
them: explain tables, the forecasting pipeline, reports, validation) reads its target models
and benchmarks through these two functions, so the same input gives the same rows everywhere.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, SchemaError, UnknownTargetSizeError
from metaq.tables.runs import MAX_PARAMS_B

logger = logging.getLogger(__name__)

#: Separates a benchmark from one of its domains in a task label: ``"mot_pl_eval/math"``.
TASK_SEPARATOR = "/"

TargetModels = pd.DataFrame | Sequence[str | Mapping[str, Any] | tuple] | str | None
"""Names of training models, ``(name, params_b[, family])`` tuples, mappings or a DataFrame
with those columns (``target_model`` is accepted for ``name``); None means every training
model."""

Benchmarks = Sequence[str | tuple[str, str]] | str | None
"""``"benchmark"``, ``"benchmark/domain"`` or ``(benchmark, domain)`` items; None means every
whole benchmark of training (every task when all are per domain)."""


def task_label(benchmark: str, domain: str) -> str:
    """Label of a (benchmark, domain) pair: ``"aya_en"`` or ``"mot_pl_eval/math"``.

    Examples
    --------
    >>> task_label("mot_pl_eval", "math"), task_label("aya_en", "")
    ('mot_pl_eval/math', 'aya_en')
    """
    return f"{benchmark}{TASK_SEPARATOR}{domain}" if domain else benchmark


def resolve_target_models(target_models: TargetModels, known: pd.DataFrame) -> pd.DataFrame:
    """Complete target models with the size and family the predictor knows for them.

    Parameters
    ----------
    target_models : DataFrame, sequence, str or None
        See :data:`TargetModels`. A training model keeps its training size and family (a
        family given for it wins); any other needs ``params_b``, a positive number of
        billions of parameters, and takes ``family`` if given (else ``""``: no family).
    known : pandas.DataFrame
        The predictor's training base models: ``name``, ``params_b``, ``family``.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``name``, ``params_b`` (float), ``family``.

    Raises
    ------
    UnknownTargetSizeError
        For an unseen model without a size.
    InvalidParameterError
        For a size that is not a positive number, or one that contradicts the training size
        of a seen model.
    SchemaError
        For an empty list of targets.

    Examples
    --------
    >>> known = pd.DataFrame({"name": ["PLLuM-8B-instruct"], "params_b": [8.0],
    ...                       "family": ["llama"]})
    >>> resolve_target_models(["PLLuM-8B-instruct", ("x", 70)], known)[["name", "params_b"]]
                    name  params_b
    0  PLLuM-8B-instruct       8.0
    1                  x      70.0
    """
    if target_models is None:
        return _frame(known.to_dict(orient="records"))
    if isinstance(target_models, pd.DataFrame):
        records = target_models.to_dict(orient="records")
    elif isinstance(target_models, (str, Mapping)):
        records = [target_models]
    else:
        records = list(target_models)
    if not records:
        raise SchemaError("no target model given. Fix: pass at least one model name.")
    lookup = known.set_index("name")
    return _frame([_resolve_one(_as_mapping(item), lookup) for item in records])


def _as_mapping(item: str | Mapping[str, Any] | tuple) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": item}
    if isinstance(item, Mapping):
        item = dict(item)
        item.setdefault("name", item.pop("target_model", ""))
        return item
    return dict(zip(("name", "params_b", "family"), item, strict=False))


def _resolve_one(target: dict[str, Any], known: pd.DataFrame) -> dict[str, Any]:
    name = str(target["name"])
    size, family = target.get("params_b"), target.get("family")
    given = size is not None and not (isinstance(size, float) and np.isnan(size))
    family = "" if family is None or (isinstance(family, float) and np.isnan(family)) else family
    if name in known.index:
        seen = float(known.at[name, "params_b"])
        if given and not np.isclose(_size(name, size), seen):
            raise InvalidParameterError(
                f"target model {name!r} was seen in training with params_b={seen:g}, but "
                f"params_b={size!r} was given. Fix: drop the size for it, or give the new model "
                f"another name.")
        return {"name": name, "params_b": seen,
                "family": str(family or known.at[name, "family"] or "")}
    if not given:
        raise UnknownTargetSizeError(
            f"target model {name!r} was not in the training runs (known: {list(known.index)}), "
            f"so its size is needed. Fix: pass (name, params_b, family), e.g. ({name!r}, 13.0, "
            f"'llama').", model_name=name, known=list(known.index))
    return {"name": name, "params_b": _size(name, size), "family": str(family)}


def _size(name: str, size: Any) -> float:
    try:
        value = float(size)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value <= MAX_PARAMS_B:
        raise InvalidParameterError(
            f"target model {name!r}: params_b={size!r} must be a positive number of billions "
            f"of parameters up to {MAX_PARAMS_B:g}. Fix: e.g. 3 or 70 (a raw count divided by "
            f"1e9).")
    return value


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["name", "params_b", "family"])
    frame["family"] = frame["family"].fillna("").astype(str)
    return frame.astype({"name": object, "family": object, "params_b": float})


def resolve_tasks(benchmarks: Benchmarks, tasks: pd.DataFrame) -> pd.DataFrame:
    """Read benchmarks as a table of ``benchmark``, ``domain``, ``label``.

    Parameters
    ----------
    benchmarks : sequence, str or None
        See :data:`Benchmarks`. A benchmark the predictor never saw is forecast from the
        population of benchmarks (wide intervals); a warning names it, with the closest
        training benchmark, in case it is a typo.
    tasks : pandas.DataFrame
        The predictor's training tasks: ``benchmark``, ``domain``, ``label``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> trained = pd.DataFrame({"benchmark": ["x", "y"], "domain": ["", "d"],
    ...                         "label": ["x", "y/d"]})
    >>> resolve_tasks(None, trained)["label"].tolist()
    ['x']
    >>> resolve_tasks(["y/d", ("x", "")], trained)["label"].tolist()
    ['y/d', 'x']
    """
    if benchmarks is None:
        whole = tasks[tasks["domain"] == ""]
        chosen = whole if len(whole) else tasks
        return chosen[["benchmark", "domain", "label"]].reset_index(drop=True).astype(object)
    if isinstance(benchmarks, str):
        benchmarks = [benchmarks]
    pairs = []
    for item in benchmarks:
        if isinstance(item, str):
            benchmark, _, domain = item.partition(TASK_SEPARATOR)
            pairs.append((benchmark, domain))
        else:
            pairs.append((str(item[0]), str(item[1] or "")))
    if not pairs:
        raise SchemaError("no benchmark given. Fix: pass at least one, or None for all.")
    frame = pd.DataFrame(pairs, columns=["benchmark", "domain"], dtype=object)
    frame["label"] = [task_label(b, d) for b, d in pairs]
    known = tasks["label"].tolist()
    for label in dict.fromkeys(frame["label"]):
        if label not in known:
            close = difflib.get_close_matches(label, known, n=1)
            logger.warning("benchmark %r was not in the training runs: its offsets are drawn "
                           "from the population of benchmarks (wide intervals)%s", label,
                           f"; did you mean {close[0]!r}?" if close else "")
    return frame
