"""Reading scenario files: YAML to a validated :class:`~twin.scenario.schema.Scenario`.

Only this package reads scenario YAML. Every problem found on the way is reported as one
line ``path.to.field: what is wrong (got X)`` in a :class:`~twin.errors.ScenarioError`, with
the user's path (not pydantic's internal one) and the value found there.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from twin.errors import Problem, ScenarioError, show
from twin.scenario.checks import CROSS_CHECKS
from twin.scenario.distributions import DISTRIBUTION_NAMES
from twin.scenario.paths import apply_overrides, parse_override
from twin.scenario.schema import Scenario
from twin.scenario.yaml_safe import YamlError, read_yaml_file

__all__ = ["json_schema", "load_scenario", "parse_scenario", "problems_from", "scenario_to_yaml"]


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "too_short": "must not be empty",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a text",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a number or a mapping with a `dist` key",
    "bool_type": "must be true or false",
    "union_tag_not_found": "needs a `dist` key",
}


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return (
            f"must be {bounds[kind]} {limit:g}" if isinstance(limit, int | float) else f"must be {bounds[kind]} {limit}"
        )
    if kind == "union_tag_invalid":
        return f"unknown distribution (expected one of: {ctx.get('expected_tags', '')})".replace("'", "")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    fallback = str(error["msg"])
    return _MESSAGES.get(kind, fallback[:1].lower() + fallback[1:])


def _is_internal(node: Any, key: Any) -> bool:
    """Whether a location part is pydantic's own (a union tag or validator name), not the user's."""
    if not isinstance(key, str):
        return True
    if key in DISTRIBUTION_NAMES and isinstance(node, Mapping) and node.get("dist") == key:
        return True
    return "[" in key or key.startswith("function-")


def _is_number(node: Any) -> bool:
    return isinstance(node, int | float) and not isinstance(node, bool)


def _location(data: Any, loc: tuple[Any, ...]) -> tuple[str, Any]:
    """The user's path for pydantic's location, and the value found there (None if absent)."""
    parts: list[str] = []
    node: Any = data
    bare = False  # at a bare number, which pydantic reads as {dist: constant, value: number}
    for key in loc:
        if _is_number(node) and (key == "constant" or (bare and key == "value")):
            bare = True
            continue
        if isinstance(node, Mapping) and key in node:
            parts.append(f".{key}")
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            parts.append(f"[{key}]")
            node = node[key]
        elif not _is_internal(node, key):
            parts.append(f".{key}")
            node = None
    return "".join(parts).lstrip("."), node


def _known_keys(model: type[BaseModel], into: set[str], visited: set[type[BaseModel]]) -> set[str]:
    """Every key the models under ``model`` accept (field names and aliases)."""
    if model in visited:
        return into
    visited.add(model)
    for name, field in model.model_fields.items():
        into.add(field.alias or name)
        for inner in _models_in(field.annotation):
            _known_keys(inner, into, visited)
    return into


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


@functools.cache
def _vocabulary() -> tuple[str, ...]:
    return tuple(sorted(_known_keys(Scenario, set(), set())))


def _did_you_mean(key: Any) -> str:
    if not isinstance(key, str):
        return ""
    close = difflib.get_close_matches(key, _vocabulary(), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def problems_from(error: ValidationError, data: Any) -> list[Problem]:
    """One :class:`Problem` per pydantic error, located in the user's ``data`` (for any
    pydantic-validated input that follows this format, e.g. training configs); an unknown key
    close to a scenario key says which one was meant."""
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        path, value = _location(data, loc)
        got = None if item["type"] in {"missing", "extra_forbidden", "value_error"} else show(value)
        message = _message(item)
        if item["type"] == "extra_forbidden" and loc:
            message += _did_you_mean(loc[-1])
        problems.append(Problem(path, message, got))
    return problems


def parse_scenario(data: Any) -> Scenario:
    """Validate plain data (as read from YAML) into a :class:`Scenario`.

    Raises:
        ScenarioError: listing every problem, schema first, then cross-references.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem("", "a scenario must be a mapping of keys", show(data))])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(problems_from(error, data)) from None
    problems = [problem for check in CROSS_CHECKS for problem in check(scenario)]
    if problems:
        raise ScenarioError(problems)
    return scenario


def _jobshop_hint(data: Any) -> str:
    """A hint when a file reads as lines of whole numbers: a job-shop instance file."""
    words = str(data).split()
    if len(words) >= 2 and all(word.isascii() and word.isdigit() for word in words[:2]):
        return " (this looks like a job-shop instance: run it with `twin jobshop FILE --rule NAME`)"
    return ""


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override (``"a.b=3"`` strings, see :func:`parse_override`) and validate a scenario file.

    Raises:
        ScenarioError: the file is missing, not YAML, unsafe, or invalid.
    """
    path = Path(path)
    try:
        data = read_yaml_file(path)
    except YamlError as error:
        raise ScenarioError([Problem(str(path), str(error))]) from None
    if data is None:
        raise ScenarioError([Problem(str(path), "file is empty")])
    if not isinstance(data, Mapping):
        hint = _jobshop_hint(data)
        raise ScenarioError([Problem(str(path), f"a scenario must be a mapping of keys{hint}", show(data))])
    if isinstance(data, Mapping) and overrides:
        data = apply_overrides(data, [parse_override(text) for text in overrides])
    return parse_scenario(data)


def json_schema() -> str:
    """The JSON schema of scenario files, for editors to validate and autocomplete YAML."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "factory-twin scenario"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML that :func:`load_scenario` reads back unchanged."""
    return yaml.safe_dump(scenario.to_dict(), sort_keys=False, allow_unicode=True)
