"""What the scenario editor needs besides widgets: form values to scenario data, problems
placed next to the field they concern, and starting values for a new distribution.

No Streamlit here. The editor keeps the plain data of a scenario file (``Scenario.to_dict``),
sets the paths its fields edit (``stations.cut.machines``...) and validates the result with
:func:`twin.scenario.parse_scenario`, so it reports exactly the lines ``twin validate`` prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twin.errors import Problem, ScenarioError
from twin.scenario import Scenario, apply_overrides, changes_between, parse_override, parse_scenario
from twin.scenario.distributions import DISTRIBUTION_PARAMETERS

__all__ = [
    "Checked",
    "check",
    "distribution_kind",
    "mean_of",
    "number_list",
    "parse_optional_int",
    "problems_under",
    "route_data",
    "starting_parameters",
]


@dataclass(frozen=True)
class Checked:
    """The edited scenario data, and the scenario it makes or what is wrong with it."""

    data: dict[str, Any]
    scenario: Scenario | None
    problems: list[Problem] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)
    """What differs from the base, as overrides (``{path: value}``)."""


def check(base: Mapping[str, Any], edits: Mapping[str, Any]) -> Checked:
    """Apply ``edits`` (``{path: value}``) to the scenario data ``base`` and validate it."""
    try:
        data = apply_overrides(base, edits.items())
    except ScenarioError as error:
        return Checked(dict(base), None, error.problems)
    changes = changes_between(base, data)
    try:
        return Checked(data, parse_scenario(data), [], changes)
    except ScenarioError as error:
        return Checked(data, None, error.problems, changes)


def problems_under(problems: Iterable[Problem], path: str) -> list[str]:
    """The problem lines (``path: message (got X)``) about ``path`` or anything inside it."""
    return [str(p) for p in problems if p.path == path or p.path.startswith((f"{path}.", f"{path}["))]


def parse_optional_int(text: str) -> Any:
    """A buffer field's text: empty is None (unlimited), a number is read as YAML would
    (``3`` -> 3), anything else is kept as given so that validation names it."""
    if not text.strip():
        return None
    return parse_override(f"x={text}")[1]


def number_list(text: str) -> Any:
    """``1, 2.5, 5`` as a list of numbers (each read as YAML would); an empty text is None."""
    if not text.strip():
        return None
    return [parse_override(f"x={part}")[1] for part in text.split(",")]


def distribution_kind(spec: Any) -> str:
    """The ``dist`` of a distribution as scenario data (a bare number is ``constant``)."""
    if isinstance(spec, Mapping):
        return str(spec.get("dist", "constant"))
    return "constant"


def mean_of(spec: Any) -> float:
    """The mean of a distribution given as scenario data; NaN when it is not a valid one."""
    from pydantic import TypeAdapter, ValidationError

    from twin.scenario.distributions import Distribution

    try:
        return float(TypeAdapter(Distribution).validate_python(spec).mean)
    except (ValidationError, ValueError, TypeError):
        return math.nan


def starting_parameters(kind: str, mean: float) -> dict[str, Any]:
    """Parameters of a ``kind`` distribution with about the given ``mean``: what a field
    switched to another distribution starts from (a coefficient of variation near 0.5 where
    the distribution has one to choose).

    Raises:
        KeyError: ``kind`` is not a distribution name.
    """
    names = DISTRIBUTION_PARAMETERS[kind]
    m = mean if math.isfinite(mean) and mean > 0 else 1.0
    values: dict[str, Any] = {
        "value": m, "mean": m, "sd": m / 2, "low": m / 2, "mode": m, "high": 1.5 * m,
        "shape": 2.0, "scale": m / 2, "values": [m], "weights": None,
    }  # fmt: skip
    if kind == "weibull":
        values["scale"] = m / math.gamma(1 + 1 / values["shape"])
    return {name: values[name] for name in names}


def route_data(text: str, old: list[Any]) -> list[Any]:
    """A route typed as ``saw, lathe, mill`` as scenario data; a step that keeps its station
    at the same place keeps its own process time, if it had one."""
    stations = [part.strip() for part in text.split(",") if part.strip()]
    steps: list[Any] = []
    for i, station in enumerate(stations):
        before = old[i] if i < len(old) else None
        if isinstance(before, Mapping) and before.get("station") == station:
            steps.append(dict(before))
        else:
            steps.append(station)
    return steps
