"""The wheel ships every subpackage and the data the package reads at run time."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

import metaq.datasets as datasets

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_source_package_is_listed_for_the_wheel():
    found = set(find_packages(str(ROOT), include=["metaq*"]))
    assert set(CONFIG["packages"]) == found | {"metaq._data", "metaq._models"}


def test_shipped_files_match_the_package_data_globs():
    # every file metaq.datasets reads has a suffix the package data of its folder ships
    shipped = {"metaq._data": ROOT / "data", "metaq._models": ROOT / "models"}
    for package, folder in shipped.items():
        suffixes = {glob.rsplit(".", 1)[-1] for glob in CONFIG["package-data"][package]}
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix not in {".py", ".pyc"}:
                assert path.suffix.lstrip(".") in suffixes, path


def test_datasets_reads_through_package_resources():
    runs, features = datasets.load_study()
    assert len(runs) == 72 and set(runs["dataset_id"]) == set(features["dataset_id"])
    assert datasets.default_predictor_path().is_file()
    assert datasets.default_predictor_path().with_suffix(".json").is_file()
    assert "marco_o1_cot.jsonl" in datasets.list_samples()
    corpus_runs, corpus_features = datasets.load_corpus()
    assert set(corpus_runs["table"]) == set(datasets.load_manifest()["table"])
    assert set(corpus_runs["dataset_id"]) <= set(corpus_features["dataset_id"])
