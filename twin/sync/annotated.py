"""Scenario data as YAML text with a comment on the lines that carry fitted values.

PyYAML writes no comments, so the block structure is written here and every value through
``yaml.safe_dump`` (quoting and number formats stay PyYAML's); distributions and lists are
written in flow style on one line, so each fitted value has one line to carry its comment.
The text is parsed back and compared with the data before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["annotated_yaml"]

Path = tuple[str, ...]


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=2**31, sort_keys=False, allow_unicode=True)
    lines = [line for line in text.strip().splitlines() if line != "..."]
    return " ".join(lines)


def _block(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and "dist" not in value


def annotated_yaml(data: Mapping[str, Any], comments: Mapping[Path, str], header: list[str]) -> str:
    """YAML text of ``data`` with ``# comment`` at the end of the line of each path in
    ``comments`` and the ``header`` lines as comments on top.

    Raises:
        ValueError: the text would not read back as ``data`` (a bug, not bad input).
    """
    lines = [f"# {line}" if line else "#" for line in header]

    def emit(node: Mapping[str, Any], path: Path, depth: int) -> None:
        for key, value in node.items():
            here = (*path, str(key))
            note = comments.get(here)
            suffix = f"  # {note}" if note else ""
            indent = "  " * depth
            if _block(value):
                lines.append(f"{indent}{_flow(key)}:{suffix}")
                emit(value, here, depth + 1)
            else:
                lines.append(f"{indent}{_flow(key)}: {_flow(value)}{suffix}")

    emit(data, (), 0)
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != data:
        raise ValueError("annotated YAML does not read back as its data")
    return text
