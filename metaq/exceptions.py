"""Exceptions raised by metaq.

Every domain failure has its own subclass of :class:`MetaqError`, so the CLI can print one
clear line for it and exit with status 2, while unexpected exceptions keep their traceback.
"""

from __future__ import annotations


class MetaqError(Exception):
    """Base class of every error metaq raises on purpose."""


class SchemaError(MetaqError, ValueError):
    """A table (runs, features, forecast) does not follow its contract."""


class DatasetReadError(MetaqError, ValueError):
    """A dataset file cannot be read or holds a bad record."""


class ResultsReadError(MetaqError, ValueError):
    """An evaluation results file cannot be read or lacks a requested task or metric."""


class MissingDependencyError(MetaqError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelNotFoundError(MetaqError, OSError):
    """A model or tokenizer given by id or path cannot be loaded (offline, or no such folder)."""


class OutputPathError(MetaqError, OSError):
    """An output file or folder cannot be written (checked before any expensive work)."""


class NotFittedError(MetaqError, RuntimeError):
    """A model was used before `fit` (or `load`)."""


class IncompatibleModelError(MetaqError, ValueError):
    """A saved model was written by an incompatible metaq version or for another spec."""


class InvalidParameterError(MetaqError, ValueError):
    """An option of a function or command is outside its valid range (e.g. ``ci=1.5``)."""


class UnknownTargetSizeError(InvalidParameterError):
    """A target model the predictor never saw was given without its size.

    Attributes
    ----------
    model_name : str
        The target model.
    known : list of str
        The models the predictor saw.
    """

    def __init__(self, message: str, *, model_name: str, known: list[str]) -> None:
        super().__init__(message)
        self.model_name = model_name
        self.known = known


class UnknownNameError(MetaqError, KeyError):
    """A registry or table lookup got a name that does not exist (with suggestions)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""
