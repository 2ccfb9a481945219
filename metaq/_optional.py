"""Import optional dependencies lazily, failing with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from metaq.exceptions import MissingDependencyError


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """Import `module` or raise :class:`MissingDependencyError` naming the extra to install.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"transformers"``.
    extra : str
        The metaq extra that provides it, e.g. ``"extract"``.
    purpose : str
        What needs it, shown in the message (e.g. ``"the perplexity extractor"``).

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    MissingDependencyError
        When the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"{purpose} needs the Python package {module!r}, which is not installed: "
            f"run `pip install 'metaq[{extra}]'` ({err})"
        ) from err
