"""Safe YAML reading: plain data only, no alias bombs, no surprises.

``yaml.safe_load`` already refuses tags that construct objects, but it happily expands a
"billion laughs" document whose aliases multiply into billions of nodes, lets the last of two
equal keys win silently, and builds sets and bytes that look like lists and texts later on. We
compose the node graph first and refuse documents whose expanded size exceeds
:data:`MAX_NODES`, that nest deeper than :data:`MAX_DEPTH`, whose aliases refer to themselves,
that give a key twice in one mapping, or that use a tag other than the plain ones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlError", "read_yaml_file", "safe_load_text"]

MAX_NODES = 200_000
"""Largest expanded document accepted; real scenarios have a few thousand nodes."""

MAX_DEPTH = 64
"""Deepest nesting accepted; a scenario nests about 8 deep."""

MAX_BYTES = 16 * 1024 * 1024
"""Largest file read (16 MiB); real scenarios have a few kilobytes."""

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map", "merge", "timestamp")
)
"""Tags that make plain data; ``!!set``, ``!!binary``, ``!!omap`` and ``!!pairs`` are refused."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e4`` as the number YAML 1.2 says it is, not as text."""


_Loader.add_implicit_resolver(
    f"{_TAG}float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class YamlError(ValueError):
    """The text is not acceptable YAML; the message says why and where."""


def _where(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}: "


def _check_mapping(node: yaml.MappingNode) -> None:
    seen: set[str] = set()
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == f"{_TAG}merge":
            continue
        if key.value in seen:
            raise YamlError(f"{_where(key)}key '{key.value}' is given twice in one mapping")
        seen.add(key.value)


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise YamlError("an alias refers to the node that contains it (recursive document)")
    if len(open_nodes) >= MAX_DEPTH:
        raise YamlError(f"{_where(node)}document nests deeper than {MAX_DEPTH} levels")
    if node.tag not in _PLAIN_TAGS:
        raise YamlError(f"{_where(node)}tag {node.tag.replace(_TAG, '!!')} is not allowed: plain data only")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes, open_nodes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        _check_mapping(node)
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
        YamlError: syntax errors and characters YAML does not allow, such as control
            characters (with line and column), keys given twice, tags other than plain
            data, several documents, documents nested deeper than :data:`MAX_DEPTH` and
            documents that expand past :data:`MAX_NODES`.
    """
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise YamlError(f"{where}{error.problem or error.context}") from None
    except yaml.reader.ReaderError as error:
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise YamlError(
            f"character U+{code:04X} at position {error.position} is not allowed in YAML "
            "(a control character or a lone surrogate?)"
        ) from None
    except yaml.YAMLError as error:
        raise YamlError(f"not valid YAML: {error}") from None
    except RecursionError:
        raise YamlError("document nests too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file with :func:`safe_load_text`.

    Raises:
        YamlError: ``path`` is not a regular file (a folder, a device, a FIFO), is larger than
            :data:`MAX_BYTES`, cannot be read as UTF-8 text, or its text is not acceptable YAML.
    """
    try:
        if path.is_dir():
            raise YamlError("is a folder, not a file")
        if path.exists() and not path.is_file():
            raise YamlError("not a regular file (a device or a pipe?)")
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise YamlError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise YamlError(f"cannot read file: {getattr(error, 'strerror', None) or error}") from None
    return safe_load_text(text)
