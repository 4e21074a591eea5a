"""Paths into scenario data (``stations.cut.machines``, ``products.p.route[0]``) and overrides.

The one owner of how a dotted path walks plain scenario data: ``--set``, sweeps, what-ifs,
design options and the dashboard all go through :func:`get_path` and :func:`apply_overrides`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import yaml

from twin.errors import Problem, ScenarioError, show
from twin.scenario.yaml_safe import YamlError, safe_load_text

__all__ = ["apply_overrides", "get_path", "parse_override", "split_path"]


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
        keys.append(int(part) if part.isdigit() else part)
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
    result: dict[str, Any] = yaml.safe_load(yaml.safe_dump(dict(data), sort_keys=False))  # keep the file's order
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
