"""The data and the default predictor that ship with metaq, read as package resources.

Everything here works the same from a source checkout and from an installed wheel: the
repository's ``data/`` and ``models/`` folders are installed as the packages
``metaq._data`` and ``metaq._models`` and read through :mod:`importlib.resources`.

* the reference study's runs and features (:func:`load_study`), and its paper tables;
* the published tables of the literature corpus (:func:`list_published`,
  :func:`load_published`, :func:`load_corpus`) with their manifest;
* small real reasoning datasets (:func:`sample_path`);
* the shipped default predictor (:func:`default_predictor_path`,
  :func:`load_default_predictor`).
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from metaq.exceptions import UnknownNameError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "data_path",
    "default_predictor_path",
    "list_published",
    "list_samples",
    "load_corpus",
    "load_default_predictor",
    "load_manifest",
    "load_published",
    "load_study",
    "published_path",
    "sample_path",
    "study_path",
]

logger = logging.getLogger(__name__)

#: The shipped default predictor's file name in ``models/``.
DEFAULT_PREDICTOR = "study_default.nc"


def data_path(*parts: str) -> Path:
    """Path of the shipped data folder (``data/`` of a checkout), or of a file in it.

    Examples
    --------
    >>> data_path("study", "runs.csv").is_file()
    True
    """
    return Path(str(files("metaq._data").joinpath(*parts)))


def study_path(table: str = "runs") -> Path:
    """Path of a reference-study table: ``"runs"``, ``"features"`` or ``"paper/<name>"``.

    Examples
    --------
    >>> study_path("features").name
    'features.csv'
    """
    path = data_path("study", f"{table}.csv")
    if not path.is_file():
        papers = _names(data_path("study", "paper"))
        raise UnknownNameError(f"no study table {table!r}; choose 'runs', 'features' or "
                               f"'paper/<name>' with a name from {papers}")
    return path


def load_study() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load the reference study's runs and features tables, validated.

    Returns
    -------
    runs, features : pandas.DataFrame

    Examples
    --------
    >>> runs, features = load_study()
    >>> len(runs), len(features)
    (72, 4)
    """
    from metaq.tables import read_features, read_runs

    return read_runs(study_path("runs")), read_features(study_path("features"))


def load_manifest() -> pd.DataFrame:
    """One row per shipped run table: study, source, tier, design, sizes (data/README.md).

    Examples
    --------
    >>> "reference_study" in set(load_manifest()["table"])
    True
    """
    import pandas as pd

    return pd.read_csv(data_path("published", "manifest.csv"), comment="#")


def list_published() -> list[str]:
    """Names of the published tables (folders of ``data/published``), manifest order."""
    return [t for t in load_manifest()["table"] if data_path("published", t).is_dir()]


def published_path(name: str, table: str = "runs") -> Path:
    """Path of a published table's ``runs`` or ``features`` file.

    Raises
    ------
    UnknownNameError
        For an unknown table name (the message lists the known ones).
    """
    path = data_path("published", name, f"{table}.csv")
    if not path.is_file():
        raise UnknownNameError(f"no published table {name!r} (or no {table!r} file in it); "
                               f"known: {list_published()}")
    return path


def load_published(name: str, *, features: list[str] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load a published table's runs and features (missing feature values allowed).

    Parameters
    ----------
    name : str
        A name from :func:`list_published`.
    features : list of str, optional
        Keep only these feature columns (for a fit that needs complete features).

    Returns
    -------
    runs, features : pandas.DataFrame

    Examples
    --------
    >>> runs, feats = load_published("dart_math", features=["log_n_examples"])
    >>> sorted(feats.columns)
    ['dataset_id', 'domain', 'log_n_examples']
    """
    from metaq.tables import read_features, read_runs

    runs = read_runs(published_path(name, "runs"))
    table = read_features(published_path(name, "features"), allow_missing=True)
    if features is not None:
        table = table[["dataset_id", "domain", *features]]
    return runs, table


def load_corpus() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every shipped run table in one runs table and one features table.

    Each run carries the ``table`` it came from and its ``study`` (manifest); a dataset
    printed by several tables has one features row. A run that two tables of one study both
    print (the same dataset, base model and benchmark) is kept once, from the table listed
    first in the manifest; the count dropped is logged.

    Returns
    -------
    runs, features : pandas.DataFrame
        A valid runs table (:func:`metaq.tables.validate_runs`) and its features.

    Examples
    --------
    >>> runs, features = load_corpus()
    >>> bool(runs.duplicated(["dataset_id", "base_model", "benchmark", "domain", "study"]).any())
    False
    """
    import pandas as pd

    from metaq.tables.runs import run_key, validate_runs

    manifest = load_manifest().set_index("table")
    runs, features = [], []
    for name in manifest.index:
        if name == "reference_study":
            table_runs, table_features = load_study()
        else:
            table_runs, table_features = load_published(name)
        runs.append(table_runs.assign(table=name, study=manifest.at[name, "study"]))
        features.append(table_features)
    merged_runs = pd.concat(runs, ignore_index=True)
    repeated = merged_runs.duplicated(run_key(merged_runs))
    if repeated.any():
        logger.info("load_corpus: %d run(s) printed by two tables of one study kept once "
                    "(tables %s)", int(repeated.sum()),
                    sorted(merged_runs.loc[repeated, "table"].unique()))
    merged = pd.concat(features, ignore_index=True)
    return (validate_runs(merged_runs[~repeated].reset_index(drop=True)),
            merged.drop_duplicates(["dataset_id", "domain"]).reset_index(drop=True))


def list_samples() -> list[str]:
    """File names of the shipped sample reasoning datasets (data/samples)."""
    return _names(data_path("samples"))


def sample_path(name: str) -> Path:
    """Path of a shipped sample dataset.

    Raises
    ------
    UnknownNameError
        For an unknown sample (the message lists the shipped ones).

    Examples
    --------
    >>> sample_path("marco_o1_cot.jsonl").suffix
    '.jsonl'
    """
    path = data_path("samples", name)
    if not path.is_file():
        raise UnknownNameError(f"no sample dataset {name!r}; shipped: {list_samples()}")
    return path


def default_predictor_path() -> Path:
    """Path of the shipped default predictor (netCDF, its JSON card beside it)."""
    return Path(str(files("metaq._models").joinpath(DEFAULT_PREDICTOR)))


def load_default_predictor():
    """Load the shipped default predictor.

    Returns
    -------
    HierarchicalDeltaModel
    """
    from metaq.modeling import HierarchicalDeltaModel

    return HierarchicalDeltaModel.load(default_predictor_path())


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("_"))
