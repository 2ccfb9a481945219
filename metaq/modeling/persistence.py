"""Saving and loading fitted predictors: one netCDF InferenceData plus a JSON card beside it.

The card (features, scalers, groups, priors, data hashes, versions, sampler settings,
diagnostics) is stored twice: in the netCDF file's attributes, which is what loading trusts,
and as ``<name>.json`` for people and tools that should not need to open the netCDF file.
No pickle is involved. The card's ``spec_id`` is a hash of the model specification, its
``posterior_sha256`` a hash of the stored draws, and its ``card_id`` a hash of the whole card
(scalers, encodings, training values: with the draws, everything a forecast reads); loading
recomputes all three, so an edited card or edited draws, or a file written for another spec,
are refused, as is a file that is not a readable netCDF file.
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


def card_id(card: dict[str, Any]) -> str:
    """Hash of a whole model card (its own ``card_id`` left out).

    Examples
    --------
    >>> card_id({"a": 1, "card_id": "x"}) == card_id({"a": 1})
    True
    """
    text = json.dumps({k: v for k, v in card.items() if k != "card_id"}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def posterior_hash(posterior) -> str:
    """SHA-256 of a posterior's draws (as float64) and coordinate labels (as text).

    Independent of how netCDF stores the types, so a saved and reloaded posterior hashes the
    same.
    """
    import numpy as np

    digest = hashlib.sha256()
    for name in sorted(map(str, posterior.data_vars)):
        values = np.ascontiguousarray(posterior[name].to_numpy(), dtype=np.float64)
        digest.update(f"{name}|{posterior[name].dims}|{values.shape}|".encode())
        digest.update(values.tobytes())
    for name in sorted(map(str, posterior.coords)):
        digest.update(f"{name}|".encode())
        digest.update("\x1f".join(map(str, posterior[name].to_numpy().ravel())).encode())
    return digest.hexdigest()


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
            "spec_id": spec_id(card["spec"]), "posterior_sha256": posterior_hash(idata.posterior)}
    card["card_id"] = card_id(card)
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
        When the file is not readable netCDF, has no (or a broken) metaq card, another file
        format version, another model type, a spec or card that does not match its
        ``spec_id`` or ``card_id``, or a JSON card beside it for another model.
    """
    import arviz as az

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no such model file. Fix: fit one with `metaq fit "
                                 f"--out {path}` or give the path of an existing .nc model.")
    try:
        idata = az.from_netcdf(str(path))
        idata.posterior.load()
    except Exception as err:  # netCDF/HDF5 readers raise several types for a foreign file
        raise IncompatibleModelError(
            f"{path}: not a readable metaq model file ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'unreadable'}). Fix: pass the .nc "
            f"file `metaq fit --out` wrote, or refit it.") from err
    text = idata.posterior.attrs.get(CARD_ATTR)
    if text is None:
        raise IncompatibleModelError(f"{path}: not a metaq model file (no {CARD_ATTR!r} "
                                     f"attribute). Fix: refit with `metaq fit`.")
    card = _parse_card(text, path)
    _check_card(path, card, model_type)
    if card.get("posterior_sha256") != posterior_hash(idata.posterior):
        raise IncompatibleModelError(f"{path}: the posterior draws do not match the card's "
                                     f"posterior_sha256 (the draws were edited). Fix: refit "
                                     f"the model.")
    beside = card_path(path)
    if beside.is_file():
        other = _parse_card(beside.read_text(encoding="utf-8", errors="replace"), beside)
        if card_id(other) != card["card_id"]:
            raise IncompatibleModelError(
                f"{beside}: this card does not belong to {path} (it was edited, or is left "
                f"from another model: card_id {other.get('card_id')!r}, the model's "
                f"{card['card_id']!r}). Fix: delete the stale card or re-save the model.")
    return idata, card


def _parse_card(text: str, where: Path) -> dict[str, Any]:
    try:
        card = json.loads(text)
    except ValueError as err:
        raise IncompatibleModelError(f"{where}: the model card is not valid JSON ({err}). Fix: "
                                     f"refit the model, or delete a damaged .json card beside "
                                     f"the .nc file (loading trusts the card inside).") from err
    if not isinstance(card, dict):
        raise IncompatibleModelError(f"{where}: the model card is not a JSON object. Fix: refit "
                                     f"the model.")
    return card


def _check_card(path: Path, card: dict[str, Any], model_type: str) -> None:
    version = card.get("format_version")
    if version != FORMAT_VERSION:
        raise IncompatibleModelError(
            f"{path}: written with model file format {version!r} (metaq "
            f"{card.get('metaq_version')!r}); this metaq {__version__} reads format "
            f"{FORMAT_VERSION}. Fix: refit the model with this version (`metaq fit`).")
    if card.get("card_id") != card_id(card):
        raise IncompatibleModelError(
            f"{path}: the model card does not match its card_id (its scalers, encodings, "
            f"training values or spec were edited). Fix: refit the model.")
    if card.get("model_type") != model_type or card["spec"].get("model_type") != model_type:
        raise IncompatibleModelError(
            f"{path}: holds a {card.get('model_type')!r} model, not {model_type!r}. Fix: load "
            f"it with the matching class.")
    expected = spec_id(card["spec"])
    if card.get("spec_id") != expected:
        raise IncompatibleModelError(
            f"{path}: the stored spec does not match its spec_id ({card.get('spec_id')!r} vs "
            f"{expected!r}); the file was written for another spec. Fix: refit it.")
