"""The package's layering: a module imports only from its own area or from layers below it.

Every ``import metaq...`` counts, at module level or inside a function: deferring an import
does not change which layer depends on which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import metaq

PACKAGE = Path(metaq.__file__).parent

#: Areas (subpackages and top-level modules) from the bottom up; one set per layer.
LAYERS: list[set[str]] = [
    {"metaq", "exceptions"},
    {"_optional", "_outputs"},
    {"data"},
    {"io"},
    {"engines", "store"},
    {"tables"},
    {"importers", "features"},
    {"modeling"},
    {"datasets"},
    {"stats"},
    {"explain"},
    {"forecasting"},
    {"report", "validation"},
    {"demo"},
    {"cli"},
    {"__main__"},
]
LEVEL = {area: level for level, areas in enumerate(LAYERS) for area in areas}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
        ".__init__")


def _area(module: str) -> str:
    parts = module.split(".")
    return "metaq" if len(parts) == 1 else parts[1]


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported metaq module, line) for every metaq import."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(module, name, node.lineno) for name in names
                      if name == "metaq" or name.startswith("metaq.")]
    return found


def test_every_area_has_a_layer():
    areas = {_area(_module(path)) for path in PACKAGE.rglob("*.py")}
    assert areas <= set(LEVEL), sorted(areas - set(LEVEL))


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [f"{module}:{line} imports {target}" for module, target, line in _imports()
              if LEVEL[_area(target)] > LEVEL[_area(module)]]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("area", ["io", "tables", "modeling", "explain"])
def test_lower_layers_know_nothing_of_the_command_line(area):
    assert not [m for m, target, _ in _imports()
                if _area(m) == area and _area(target) == "cli"]
