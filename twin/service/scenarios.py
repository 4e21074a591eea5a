"""Scenarios sent over HTTP: plain data or YAML text, overrides, the simulation budget.

The same validation as the command line, with the same problem lines (docs/architecture.md,
"Errors"); the service answers them as 422.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from twin.errors import Problem, ScenarioError
from twin.scenario import Scenario, apply_overrides, parse_override, parse_scenario
from twin.scenario.yaml_safe import YamlError, safe_load_text
from twin.service.limits import BudgetError, check_budget
from twin.studies.sweep import plan_points

__all__ = ["MAX_POINTS", "BudgetError", "budget_check", "overrides_of", "read_scenario", "sweep_points"]

MAX_POINTS = 1000
"""Most points one sweep request may have."""


def overrides_of(texts: list[str]) -> dict[str, Any]:
    """``["a.b=3"]`` as ``{"a.b": 3}``.

    Raises:
        ScenarioError: an override is not ``path=value``.
    """
    return dict(parse_override(text) for text in texts)


def read_scenario(data: Mapping[str, Any] | str, overrides: Sequence[str] = ()) -> Scenario:
    """Validate a scenario given as plain data or YAML text, after ``path=value`` overrides.

    Raises:
        ScenarioError: every problem, as ``twin validate`` lists them.
    """
    if isinstance(data, str):
        try:
            data = safe_load_text(data)
        except YamlError as error:
            raise ScenarioError([Problem("scenario", str(error))]) from None
    changes = [parse_override(text) for text in overrides]
    if isinstance(data, Mapping) and changes:
        data = apply_overrides(data, changes)
    return parse_scenario(data)


def sweep_points(base: Scenario, vary: Mapping[str, list[Any]], zipped: bool) -> list[dict[str, Any]]:
    """The points of a sweep, each checked to make a valid scenario.

    Raises:
        ScenarioError: the plan is not possible or a point is invalid (its problems, prefixed
            with the point).
    """
    planned = min(len(values) for values in vary.values()) if zipped else math.prod(len(v) for v in vary.values())
    if planned > MAX_POINTS:
        raise ScenarioError([Problem("vary", f"at most {MAX_POINTS} points per sweep", str(planned))])
    if planned == 0:
        raise ScenarioError([Problem("vary", "every path needs at least one value")])
    points = plan_points(dict(vary), zipped)
    problems = []
    for index, point in enumerate(points):
        try:
            parse_scenario(apply_overrides(base.to_dict(), point.items()))
        except ScenarioError as error:
            problems += [Problem(f"vary point {index}: {p.path}", p.message, p.got) for p in error.problems]
    if problems:
        raise ScenarioError(problems)
    return points


def budget_check(
    scenario: Scenario, replications: int | None, budget: float, horizon: float | None = None, points: int = 1
) -> None:
    """:func:`~twin.service.limits.check_budget` for a scenario, over ``horizon`` (default:
    the scenario's). A closed scenario (no horizon: it runs until its jobs are done) counts
    its operations (jobs x route steps) in place of the horizon.

    Raises:
        BudgetError: over the budget.
    """
    count = scenario.replications if replications is None else replications
    if horizon is None:
        horizon = scenario.horizon
    if horizon is None:
        horizon = sum(
            len(product.route) * (sum(order.quantity for order in product.release) if product.release else 1)
            for product in scenario.products.values()
        )
    check_budget(count, horizon, len(scenario.stations), budget, points)
