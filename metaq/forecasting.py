"""Forecast new datasets end to end: features (extracted or given) -> predictor -> tables.

:func:`forecast_datasets` is what ``metaq forecast`` runs; :func:`forecast_report_tables` is
the forecast + explain part of ``metaq demo``: it writes the tidy tables (CSV) and figures
(PNG) a report is built from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError, MetaqError, SchemaError
from metaq.explain._names import check_known

logger = logging.getLogger(__name__)

TargetSpec = Mapping[str, Any] | str
"""A target model: a name the predictor saw, or ``{"name", "params_b", ["family"]}``."""

UNKNOWN_FAMILY = "unknown"


def resolve_target_models(targets: Sequence[TargetSpec] | pd.DataFrame | None,
                          known: pd.DataFrame) -> pd.DataFrame:
    """Complete target models with the size and family the predictor knows for them.

    Parameters
    ----------
    targets : sequence of str or mapping, or DataFrame, optional
        Names of models the predictor saw, or mappings with ``name``, ``params_b`` and
        optionally ``family`` (any size: an unseen one is forecast from the population).
        None means every training base model.
    known : pandas.DataFrame
        The predictor's training base models: ``name``, ``params_b``, ``family``.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``name``, ``params_b`` (float), ``family``.

    Raises
    ------
    InvalidParameterError
        For a target with no size that the predictor did not see, or a size that is not a
        positive number; a given size that contradicts the known size of a seen model.

    Examples
    --------
    >>> import pandas as pd
    >>> known = pd.DataFrame({"name": ["PLLuM-8B-instruct"], "params_b": [8.0],
    ...                       "family": ["llama"]})
    >>> resolve_target_models(["PLLuM-8B-instruct", {"name": "x", "params_b": 70}], known)
                    name  params_b   family
    0  PLLuM-8B-instruct       8.0    llama
    1                  x      70.0  unknown
    """
    if targets is None:
        return known[["name", "params_b", "family"]].reset_index(drop=True)
    if isinstance(targets, pd.DataFrame):
        targets = targets.to_dict(orient="records")
    lookup = known.set_index("name")
    rows = [_resolve_one({"name": t} if isinstance(t, str) else dict(t), lookup)
            for t in targets]
    return pd.DataFrame(rows, columns=["name", "params_b", "family"])


def _resolve_one(target: dict[str, Any], known: pd.DataFrame) -> dict[str, Any]:
    name = str(target["name"])
    size = target.get("params_b")
    family = target.get("family")
    if name in known.index:
        seen_size = float(known.loc[name, "params_b"])
        if size is not None and not np.isclose(float(size), seen_size):
            raise InvalidParameterError(
                f"target model {name!r} was seen in training with params_b={seen_size:g}, but "
                f"params_b={size!r} was given. Fix: drop --params-b for it, or give the "
                f"new model another name.")
        return {"name": name, "params_b": seen_size,
                "family": family or str(known.loc[name, "family"])}
    if size is None:
        raise InvalidParameterError(
            f"target model {name!r} has no size: the predictor did not see it (it knows "
            f"{list(known.index)}). Fix: give its size in billions of parameters, e.g. "
            f"`--target-model {name} --params-b 3` (and --family if known).")
    try:
        size = float(size)
    except (TypeError, ValueError):
        size = float("nan")
    if not size > 0 or not np.isfinite(size):
        raise InvalidParameterError(
            f"target model {name!r}: params_b={target['params_b']!r} must be a positive number "
            f"of billions of parameters, e.g. 3 or 70.")
    return {"name": name, "params_b": size, "family": family or UNKNOWN_FAMILY}


def gather_features(datasets: Sequence[str | Path], needed: Sequence[str], *,
                    cache_dir: str | Path | None = None,
                    extractor_options: Mapping[str, Any] | None = None
                    ) -> tuple[pd.DataFrame, list[str]]:
    """Extract the `needed` features of dataset files, skipping extractors that cannot run.

    Each extractor is run on its own (results are cached per example, so a rerun only reads
    the cache). An extractor that cannot run here (a package or a model it needs is not
    installed, an option it needs was not given) is skipped with a warning: its features are
    then missing and the forecast integrates over them. Features no registered extractor emits
    (e.g. a tokenizer-specific length of the training table) are missing too.

    Parameters
    ----------
    datasets : sequence of str or Path
        Dataset files; the dataset id is the file stem.
    needed : sequence of str
        Features the predictor uses.
    cache_dir : str or Path, optional
        Per-example cache of the extraction runner.
    extractor_options : mapping, optional
        Options for the extractors (``tokenizer``, ``lm``, ``embedding_model``, ...).

    Returns
    -------
    features : pandas.DataFrame
        One row per dataset with the features that could be extracted.
    not_extracted : list of str
        Needed features that could not be extracted (integrated over by the forecast).
    """
    from metaq.exceptions import DatasetReadError, UnknownNameError
    from metaq.features.registry import metric_owner
    from metaq.features.runner import extract_features

    by_extractor: dict[str, list[str]] = {}
    for name in needed:
        try:
            by_extractor.setdefault(metric_owner(name), []).append(name)
        except UnknownNameError:
            logger.info("no extractor emits feature %r; it is integrated over", name)
    table = pd.DataFrame({"dataset_id": [Path(p).stem for p in datasets]})
    for extractor, metrics in by_extractor.items():
        try:
            part = extract_features(list(datasets), metrics, cache_dir=cache_dir,
                                    extractor_options=dict(extractor_options or {}))
        except DatasetReadError:
            raise
        except MetaqError as err:  # a package, model or option this extractor needs
            logger.warning("extractor %r cannot run here, its features %s are integrated over: "
                           "%s", extractor, metrics, err)
            continue
        whole = part.loc[part["domain"] == ""] if "domain" in part.columns else part
        table = table.merge(whole.drop(columns=["domain"], errors="ignore"), on="dataset_id",
                            how="left", suffixes=("", "__dup"))
        table = table.loc[:, ~table.columns.str.endswith("__dup")]
    not_extracted = [n for n in needed if n not in table.columns]
    return table, not_extracted
