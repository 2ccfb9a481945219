"""The API reference covers the public API, and its griffe extension rewrites Sphinx roles."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import griffe
import pytest

import metaq

ROOT = Path(__file__).resolve().parent.parent


def test_every_top_level_name_is_in_the_api_reference():
    page = (ROOT / "docs" / "api" / "metaq.md").read_text()
    missing = [name for name in metaq.__all__ if name != "__version__"
               and f"`metaq.{name}`" not in page]
    assert not missing, f"add to docs/api/metaq.md: {missing}"


@pytest.fixture(scope="module")
def package() -> griffe.Module:
    spec = importlib.util.spec_from_file_location("griffe_sphinx_roles",
                                                  ROOT / "docs" / "griffe_sphinx_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return griffe.load("metaq", search_paths=[str(ROOT)],
                       extensions=griffe.load_extensions(module.SphinxRoles()))


def _ref(path: str, shown: str) -> str:
    return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'


def test_a_relative_role_resolves_against_its_module(package):
    text = package["features.judge.scoring"].docstring.value
    assert _ref("metaq.features.judge.scoring.base.JudgeBackend", "JudgeBackend") in text
    assert ":class:" not in text


def test_a_lazy_top_level_name_points_where_it_is_defined(package):
    text = package["validation.harness.validate_tables"].docstring.value
    assert _ref("metaq.tables.runs.read_runs", "metaq.read_runs") in text


def test_a_name_in_scope_resolves_and_an_unknown_one_stays(package):
    text = package["datasets"].docstring.value
    assert _ref("metaq.datasets.load_study", "load_study") in text
    assert _ref("importlib.resources", "importlib.resources") in text


def test_math_becomes_code(package):
    text = package["modeling.hierarchical.HierarchicalDeltaModel"].docstring.value
    assert ".. math::" not in text and ":math:" not in text
    assert "`i`" in text
