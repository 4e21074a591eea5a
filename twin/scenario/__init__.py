"""The scenario language: what a plant is, as scenario files write it.

- :mod:`~twin.scenario.schema`: the pydantic models (:class:`Scenario` is the root);
- :mod:`~twin.scenario.distributions`: ``{dist: ...}`` specs and their samplers;
- :mod:`~twin.scenario.transport`: the ``transport:`` section (times, vehicles, distances);
- :mod:`~twin.scenario.units`: time units, for energy in kWh;
- :mod:`~twin.scenario.checks`: cross-references between models;
- :mod:`~twin.scenario.flows`: how jobs flow through routes (moves, rework, visits), load warnings;
- :mod:`~twin.scenario.routes`: each route's process times, worked out once per scenario
  (:mod:`~twin.scenario.memo` keeps such answers while the scenario lives);
- :mod:`~twin.scenario.paths`: dotted paths into scenario data, ``--set`` overrides;
- :mod:`~twin.scenario.loading`: YAML files to validated scenarios, errors for people;
- :mod:`~twin.scenario.yaml_safe`: plain-data YAML without alias bombs.

This package is the bottom layer of the library: it imports nothing from the model, the
measurements or the studies (docs/architecture.md).
"""

from twin.scenario.flows import load_warnings, offered_loads
from twin.scenario.loading import json_schema, load_scenario, parse_scenario, problems_from, scenario_to_yaml
from twin.scenario.paths import apply_overrides, changes_between, get_path, parse_override, split_path
from twin.scenario.schema import (
    Batch,
    Design,
    DesignOption,
    DueDate,
    Energy,
    Failures,
    Maintenance,
    Operation,
    OperatorPool,
    Order,
    Product,
    Rework,
    Scenario,
    Setup,
    Shift,
    Shifts,
    Station,
)
from twin.scenario.transport import Transport, Vehicles, shortest_paths
from twin.scenario.units import hours_per_time_unit

__all__ = [
    "Batch",
    "Design",
    "DesignOption",
    "DueDate",
    "Energy",
    "Failures",
    "Maintenance",
    "Operation",
    "OperatorPool",
    "Order",
    "Product",
    "Rework",
    "Scenario",
    "Setup",
    "Shift",
    "Shifts",
    "Station",
    "Transport",
    "Vehicles",
    "apply_overrides",
    "changes_between",
    "get_path",
    "hours_per_time_unit",
    "json_schema",
    "load_scenario",
    "load_warnings",
    "offered_loads",
    "parse_override",
    "parse_scenario",
    "problems_from",
    "scenario_to_yaml",
    "shortest_paths",
    "split_path",
]
