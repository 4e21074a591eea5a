"""Safe YAML reading: plain data only, and no alias bombs.

``yaml.safe_load`` already refuses tags that construct objects, but it happily expands a
"billion laughs" document whose aliases multiply into billions of nodes. We compose the node
graph first and refuse documents whose expanded size exceeds :data:`MAX_NODES`, or whose
aliases refer to themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_NODES", "YamlError", "read_yaml_file", "safe_load_text"]

MAX_NODES = 200_000
"""Largest expanded document accepted; real scenarios have a few thousand nodes."""


class YamlError(ValueError):
    """The text is not acceptable YAML; the message says why and where."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise YamlError("an alias refers to the node that contains it (recursive document)")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes, open_nodes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes)
    if size > MAX_NODES:
        raise YamlError(f"document expands to more than {MAX_NODES} nodes (alias bomb?)")
    open_nodes.discard(key)
    sizes[key] = size
    return size


def safe_load_text(text: str) -> Any:
    """Parse one YAML document into plain Python data.

    Raises:
        YamlError: syntax errors (with line and column), tags that construct objects,
            several documents, and documents that expand past :data:`MAX_NODES`.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as error:  # the reader refuses control characters before any parsing
        raise YamlError(f"not valid YAML: {error}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise YamlError(f"{where}{error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise YamlError(f"not valid YAML: {error}") from None
    except RecursionError:
        raise YamlError("document nests too deeply") from None
    finally:
        loader.dispose()


def read_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file with :func:`safe_load_text`.

    Raises:
        YamlError: the file cannot be read as UTF-8 text, or its text is not acceptable YAML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise YamlError(f"cannot read file: {getattr(error, 'strerror', None) or error}") from None
    return safe_load_text(text)
