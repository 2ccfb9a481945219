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
def roles() -> griffe.Extension:
    spec = importlib.util.spec_from_file_location("griffe_sphinx_roles",
                                                  ROOT / "docs" / "griffe_sphinx_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SphinxRoles()


# a package laid out like metaq's: roles of every kind, in modules, classes and functions
MODULES = {
    "__init__.py": '"""Engines behind one interface (:class:`~.base.Engine`, :mod:`re`)."""',
    "base.py": '"""The interface."""\n\n\nclass Engine:\n    """An engine."""\n',
    "reader.py": '''"""Readers: see :func:`read` and :func:`metaq.read_runs`."""


def read(path):
    """Read `path` like :meth:`Reader.open` does.

    .. math::

        y = :math:`x^2`
    """


class Reader:
    """Reads."""

    def open(self):
        """Open."""
''',
}


def _ref(path: str, shown: str) -> str:
    return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'


def _docstrings(roles: griffe.Extension) -> dict[str, str]:
    with griffe.temporary_visited_package("pkg", MODULES,
                                          extensions=griffe.load_extensions(roles)) as package:
        return {path: package[path].docstring.value
                for path in ("base", "reader", "reader.read")} | {
            "": package.docstring.value}


def test_a_relative_role_resolves_against_its_module(roles):
    text = _docstrings(roles)[""]
    assert _ref("pkg.base.Engine", "Engine") in text
    assert ":class:" not in text


def test_an_unknown_name_stays_as_code(roles):
    assert _ref("re", "re") in _docstrings(roles)[""]


def test_a_name_in_scope_resolves(roles):
    texts = _docstrings(roles)
    assert _ref("pkg.reader.read", "read") in texts["reader"]
    assert _ref("pkg.reader.Reader.open", "Reader.open") in texts["reader.read"]


def test_a_lazy_top_level_name_points_where_it_is_defined(roles):
    text = _docstrings(roles)["reader"]
    assert _ref(f"{metaq._LAZY['read_runs']}.read_runs", "metaq.read_runs") in text


def test_math_becomes_code(roles):
    text = _docstrings(roles)["reader.read"]
    assert ".. math::" not in text and ":math:" not in text
    assert "`x^2`" in text
