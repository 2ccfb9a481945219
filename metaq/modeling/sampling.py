"""NUTS sampling of a PyMC model: nutpie (called directly) when installed, else PyMC's sampler."""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Mapping
from typing import Any

from metaq.exceptions import InvalidParameterError

logger = logging.getLogger(__name__)

DEFAULT_SAMPLER: dict[str, Any] = {
    "draws": 2000,
    "tune": 1000,
    "chains": 4,
    "target_accept": 0.98,
    "backend": "auto",
    "mass_matrix": "diag",
}
BACKENDS = ("auto", "nutpie", "pymc")
# "low_rank": nutpie's low-rank modified mass matrix, which adapts to the few directions in
# which parameters trade off (on tables without untuned scores only the sum of the untuned
# level and the change is observed: a DART-Math fold at R-hat 2.1 with "diag", 1.05 with it)
MASS_MATRICES = ("diag", "low_rank")


def resolve_sampler(settings: Mapping[str, Any] | None,
                    overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge sampler settings over :data:`DEFAULT_SAMPLER` and check them.

    Parameters
    ----------
    settings, overrides : mapping, optional
        Applied in this order (later wins).

    Returns
    -------
    dict
        ``draws``, ``tune``, ``chains`` (positive ints), ``target_accept`` in (0, 1),
        ``backend`` (one of :data:`BACKENDS`) and ``mass_matrix`` (one of
        :data:`MASS_MATRICES`; ``low_rank`` needs the nutpie backend).

    Raises
    ------
    InvalidParameterError
        For an unknown key or an invalid value.

    Examples
    --------
    >>> resolve_sampler({"draws": 200}, {"chains": 2})["chains"]
    2
    """
    merged = dict(DEFAULT_SAMPLER)
    for source in (settings or {}, overrides or {}):
        for key, value in source.items():
            if key not in DEFAULT_SAMPLER:
                raise InvalidParameterError(
                    f"unknown sampler setting {key!r}; valid: {sorted(DEFAULT_SAMPLER)}")
            merged[key] = value
    for key in ("draws", "tune", "chains"):
        if not isinstance(merged[key], int) or merged[key] < 1:
            raise InvalidParameterError(f"sampler setting {key}={merged[key]!r} must be a "
                                        f"positive integer")
    if not 0 < float(merged["target_accept"]) < 1:
        raise InvalidParameterError(
            f"sampler setting target_accept={merged['target_accept']!r} must lie in (0, 1)")
    if merged["backend"] not in BACKENDS:
        raise InvalidParameterError(
            f"sampler backend {merged['backend']!r} is unknown; choose one of {BACKENDS}")
    if merged["mass_matrix"] not in MASS_MATRICES:
        raise InvalidParameterError(f"sampler mass_matrix {merged['mass_matrix']!r} is unknown; "
                                    f"choose one of {MASS_MATRICES}")
    if merged["mass_matrix"] == "low_rank" and chosen_backend(merged["backend"]) != "nutpie":
        raise InvalidParameterError("sampler mass_matrix 'low_rank' needs the nutpie backend "
                                    "(pip install 'metaq[nutpie]'; backend 'auto' or 'nutpie')")
    return merged


def chosen_backend(backend: str) -> str:
    """``nutpie`` when asked for or (``auto``) installed, else ``pymc``."""
    if backend == "auto":
        return "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"
    return backend


def sample_posterior(model: Any, settings: Mapping[str, Any], *, random_seed: int | None):
    """Draw from the posterior of `model` with NUTS.

    Parameters
    ----------
    model : pymc.Model
        The model.
    settings : mapping
        Resolved settings (:func:`resolve_sampler`).
    random_seed : int, optional
        Seed of the sampler.

    Returns
    -------
    arviz.InferenceData
        With ``posterior`` and ``sample_stats`` (``diverging`` included); the posterior's
        attributes ``compile_seconds`` (nutpie; PyMC's sampler compiles inside its own
        timing) and ``sampling_seconds`` say where the time went.
    """
    backend = chosen_backend(settings["backend"])
    mass_matrix = settings["mass_matrix"]
    logger.info("sampling with %s: %d chains x (%d tune + %d draws), target_accept=%.2f, "
                "%s mass matrix", backend, settings["chains"], settings["tune"],
                settings["draws"], settings["target_accept"], mass_matrix)
    if backend == "nutpie":
        from metaq._optional import require

        nutpie = require("nutpie", extra="nutpie", purpose="the nutpie sampler backend")
        start = time.perf_counter()
        compiled = nutpie.compile_pymc_model(model)
        compile_seconds = time.perf_counter() - start
        idata = nutpie.sample(compiled, draws=settings["draws"], tune=settings["tune"],
                              chains=settings["chains"], seed=random_seed,
                              target_accept=settings["target_accept"], progress_bar=False,
                              save_warmup=False,
                              low_rank_modified_mass_matrix=mass_matrix == "low_rank")
        return _timed(idata, compile_seconds, time.perf_counter() - start - compile_seconds)
    import pymc as pm

    start = time.perf_counter()
    with model:
        idata = pm.sample(draws=settings["draws"], tune=settings["tune"],
                          chains=settings["chains"], target_accept=settings["target_accept"],
                          random_seed=random_seed, progressbar=False,
                          compute_convergence_checks=False)
    return _timed(idata, float("nan"), time.perf_counter() - start)


def _timed(idata: Any, compile_seconds: float, sampling_seconds: float) -> Any:
    idata.posterior.attrs.update(compile_seconds=compile_seconds,
                                 sampling_seconds=sampling_seconds)
    logger.info("compiled in %.1f s, sampled in %.1f s", compile_seconds, sampling_seconds)
    return idata
