"""Saving and loading fitted predictors: one netCDF InferenceData plus a JSON card beside it.

The card (features, scalers, groups, priors, data hashes, versions, sampler settings,
diagnostics) is stored twice: in the netCDF file's attributes, which is what loading trusts,
and as ``<name>.json`` for people and tools that should not need to open the netCDF file.
No pickle is involved. The card's ``spec_id`` is a hash of the model specification; loading
recomputes it, so an edited card or a file written for another spec is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from metaq import __version__
from metaq.exceptions import IncompatibleModelError, ModelNotFoundError

FORMAT_VERSION = 2
CARD_ATTR = "metaq_card"


def spec_id(spec: dict[str, Any]) -> str:
    """Short stable hash of a model specification (with the file format version).

    Examples
    --------
    >>> spec_id({"a": 1}) == spec_id({"a": 1})
    True
    """
    text = json.dumps({"format_version": FORMAT_VERSION, **spec}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def table_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV serialisation (identifies the data a model was fitted on)."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def card_path(path: str | Path) -> Path:
    """Return the JSON card's path beside a model file: ``x.nc`` -> ``x.json``."""
    return Path(path).with_suffix(".json")


def save_fitted(path: str | Path, idata, card: dict[str, Any]) -> Path:
    """Write `idata` to `path` (netCDF) with `card` in its attributes and beside it as JSON.

    Parameters
    ----------
    path : str or Path
        Target ``.nc`` file; its folder is created.
    idata : arviz.InferenceData
        What to store (already reduced to the groups and variables worth keeping).
    card : dict
        JSON-able model card; ``format_version``, ``metaq_version`` and ``spec_id`` are set.

    Returns
    -------
    pathlib.Path
        The netCDF path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    card = {**card, "format_version": FORMAT_VERSION, "metaq_version": __version__,
            "spec_id": spec_id(card["spec"])}
    text = json.dumps(card, indent=1, sort_keys=True)
    idata.posterior.attrs[CARD_ATTR] = text
    idata.to_netcdf(str(path))
    card_path(path).write_text(text + "\n", encoding="utf-8")
    return path


def load_fitted(path: str | Path, model_type: str):
    """Read a model file and its card, refusing incompatible or tampered files.

    Parameters
    ----------
    path : str or Path
        The ``.nc`` file written by :func:`save_fitted`.
    model_type : str
        The model class's type; a file of another type is refused.

    Returns
    -------
    arviz.InferenceData, dict
        The data (loaded into memory) and the card.

    Raises
    ------
    ModelNotFoundError
        When the file does not exist.
    IncompatibleModelError
        When the file has no metaq card, another file format version, another model type, a
        spec that does not match its ``spec_id``, or a JSON card beside it for another spec.
    """
    import arviz as az

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no such model file. Fix: fit one with `metaq fit "
                                 f"--out {path}` or give the path of an existing .nc model.")
    idata = az.from_netcdf(str(path))
    idata.posterior.load()
    text = idata.posterior.attrs.get(CARD_ATTR)
    if text is None:
        raise IncompatibleModelError(f"{path}: not a metaq model file (no {CARD_ATTR!r} "
                                     f"attribute). Fix: refit with `metaq fit`.")
    card = json.loads(text)
    _check_card(path, card, model_type)
    beside = card_path(path)
    if beside.is_file():
        other = json.loads(beside.read_text(encoding="utf-8"))
        if other.get("spec_id") != card["spec_id"]:
            raise IncompatibleModelError(
                f"{beside}: this card (spec_id {other.get('spec_id')!r}) does not belong to "
                f"{path} (spec_id {card['spec_id']!r}). Fix: delete the stale card or re-save "
                f"the model.")
    return idata, card


def _check_card(path: Path, card: dict[str, Any], model_type: str) -> None:
    version = card.get("format_version")
    if version != FORMAT_VERSION:
        raise IncompatibleModelError(
            f"{path}: written with model file format {version!r} (metaq "
            f"{card.get('metaq_version')!r}); this metaq {__version__} reads format "
            f"{FORMAT_VERSION}. Fix: refit the model with this version (`metaq fit`).")
    if card.get("model_type") != model_type or card.get("spec", {}).get("model_type") != \
            model_type:
        raise IncompatibleModelError(
            f"{path}: holds a {card.get('model_type')!r} model, not {model_type!r}. Fix: load "
            f"it with the matching class.")
    expected = spec_id(card["spec"])
    if card.get("spec_id") != expected:
        raise IncompatibleModelError(
            f"{path}: the stored spec does not match its spec_id ({card.get('spec_id')!r} vs "
            f"{expected!r}); the file was edited or written for another spec. Fix: refit it.")
