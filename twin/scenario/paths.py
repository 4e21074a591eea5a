"""Paths into scenario data (``stations.cut.machines``, ``products.p.route[0]``) and overrides.

The one owner of how a dotted path walks plain scenario data: ``--set``, sweeps, what-ifs,
design options and the dashboard all go through :func:`get_path` and :func:`apply_overrides`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, cast

from twin.errors import Problem, ScenarioError, show
from twin.scenario.yaml_safe import YamlError, safe_load_text

__all__ = ["apply_overrides", "changes_between", "get_path", "parse_override", "split_path"]


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"stations.cut.machines=2"`` into a path and a YAML-typed value.

    Raises:
        ScenarioError: no ``=``, an empty path, or a value that is not simple YAML.
    """
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise ScenarioError([Problem("--set", "expected path=value", show(text))])
    try:
        value = safe_load_text(raw)
    except YamlError as error:
        raise ScenarioError([Problem(f"--set {path}", f"value is not valid YAML: {error}", show(raw))]) from None
    return path.strip(), value


def split_path(path: str) -> list[str | int]:
    """The keys of a dotted path: ``"products.p.route[0]"`` -> ``["products", "p", "route", 0]``."""
    keys: list[str | int] = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        keys.append(int(part) if part.isascii() and part.isdigit() else part)
    return keys


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` in plain scenario data.

    Raises:
        KeyError: a part of the path is not there (the message names it).
    """
    node = data
    for key in split_path(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"'{key}' not found") from None
    return node


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A deep copy of ``data`` with each ``(path, value)`` set; paths are dotted, list items by index.

    The parent of each path must exist; the leaf may be new (validation then judges it).

    Raises:
        ScenarioError: naming each override whose parent does not exist.
    """
    result: dict[str, Any] = copy.deepcopy(dict(data))  # dicts keep the file's order
    problems = []
    for path, value in overrides:
        *parents, leaf = split_path(path)
        node: Any = result
        try:
            for key in parents:
                node = node[key]
            fits = isinstance(node, dict) or (isinstance(node, list) and isinstance(leaf, int) and leaf < len(node))
            if not fits:
                raise KeyError(leaf)
            cast(Any, node)[leaf] = value
        except (KeyError, IndexError, TypeError):
            problems.append(Problem(f"--set {path}", "no such place in the scenario"))
    if problems:
        raise ScenarioError(problems)
    return result


def changes_between(base: Mapping[str, Any], changed: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The overrides that turn plain scenario data ``base`` into ``changed``:
    ``apply_overrides(base, changes_between(base, changed).items())`` equals ``changed``.

    Mappings are compared key by key; a distribution (a mapping with a ``dist`` key), a list
    and any other value is replaced whole; a key that ``changed`` drops is set to None (which
    the scenario language reads as absent).
    """
    changes: dict[str, Any] = {}
    for key in [*base, *(k for k in changed if k not in base)]:
        path = f"{prefix}{key}"
        old, new = base.get(key), changed.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping) and "dist" not in old and "dist" not in new:
            changes |= changes_between(old, new, f"{path}.")
        else:
            changes[path] = new
    return changes
