"""Griffe extension of the API reference: Sphinx roles in docstrings become cross-references.

metaq's numpydoc docstrings point at other objects with Sphinx roles (``:func:`read_runs```,
``:class:`~.base.JudgeBackend```, ``:mod:`metaq.features.sampling```). mkdocstrings renders
docstrings as Markdown, where a role would show as literal text, so each role is rewritten into
an *optional* mkdocs-autorefs reference: a link where the target is documented, plain code
where it is not (an optional reference never fails the strict build). Names are resolved the
way Sphinx reads them: relative to the docstring's scope, a leading ``.`` relative to its
module, ``~`` showing only the last component, and ``metaq.<name>`` for the lazily re-exported
top-level API mapped to where the object is defined. ``:math:`...``` becomes code and a
``.. math::`` directive line is dropped, leaving its indented block as a code block.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|data|attr|exc|obj|const|math):`(~?)([^`]+)`")
MATH_DIRECTIVE = re.compile(r"^[ \t]*\.\. math::[ \t]*$", re.MULTILINE)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles of every docstring in a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the docstrings of `pkg` and of everything it defines."""
        for obj in _defined(pkg):
            if obj.docstring is not None:
                text = MATH_DIRECTIVE.sub("", obj.docstring.value)
                obj.docstring.value = ROLE.sub(lambda m, o=obj: _reference(o, m), text)


def _defined(obj: griffe.Object) -> list[griffe.Object]:
    """`obj` and, recursively, the members it defines (aliases are documented at their target)."""
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found += _defined(member)
    return found


def _reference(obj: griffe.Object, match: re.Match[str]) -> str:
    role, short, name = match.groups()
    if role == "math":
        return f"`{name}`"
    target = _resolve(obj, name.lstrip("."), relative=name.startswith("."))
    shown = name.lstrip(".").rsplit(".", 1)[-1] if short else name
    return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'


def _resolve(obj: griffe.Object, name: str, *, relative: bool) -> str:
    """Return the full path `name` refers to from `obj`'s docstring (`name` when unknown)."""
    collection = obj.modules_collection
    if relative:
        module = obj.module
        scopes = [module.path] + ([module.parent.path] if module.parent else [])
        for scope in scopes:
            if _exists(collection, f"{scope}.{name}"):
                return f"{scope}.{name}"
        return name
    head, _, rest = name.partition(".")
    if head == "metaq":
        return _lazy_export(collection, name)
    try:
        resolved = obj.resolve(head)
    except griffe.NameResolutionError:
        return name
    return f"{resolved}.{rest}" if rest else resolved


def _lazy_export(collection: griffe.ModulesCollection, name: str) -> str:
    """``metaq.<public name>`` of the lazy top-level API -> the path that defines it."""
    from metaq import _LAZY

    public, _, rest = name.removeprefix("metaq.").partition(".")
    if public in _LAZY and not _exists(collection, name):
        defined = f"{_LAZY[public]}.{public}"
        return f"{defined}.{rest}" if rest else defined
    return name


def _exists(collection: griffe.ModulesCollection, path: str) -> bool:
    try:
        collection[path]
    except KeyError:
        return False
    return True
