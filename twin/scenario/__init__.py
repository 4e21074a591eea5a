"""The scenario language: what a plant is, as scenario files write it.

- :mod:`~twin.scenario.schema`: the pydantic models (:class:`Scenario` is the root);
- :mod:`~twin.scenario.distributions`: ``{dist: ...}`` specs and their samplers;
- :mod:`~twin.scenario.checks`: cross-references between models, and load warnings;
- :mod:`~twin.scenario.paths`: dotted paths into scenario data, ``--set`` overrides;
- :mod:`~twin.scenario.loading`: YAML files to validated scenarios, errors for people;
- :mod:`~twin.scenario.yaml_safe`: plain-data YAML without alias bombs.

This package is the bottom layer of the library: it imports nothing from the model, the
measurements or the studies (docs/architecture.md).
"""

from twin.scenario.checks import load_warnings
from twin.scenario.loading import json_schema, load_scenario, parse_scenario, problems_from, scenario_to_yaml
from twin.scenario.paths import apply_overrides, get_path, parse_override, split_path
from twin.scenario.schema import (
    Design,
    DesignOption,
    DueDate,
    Failures,
    Operation,
    OperatorPool,
    Order,
    Product,
    Scenario,
    Setup,
    Shift,
    Shifts,
    Station,
)

__all__ = [
    "Design",
    "DesignOption",
    "DueDate",
    "Failures",
    "Operation",
    "OperatorPool",
    "Order",
    "Product",
    "Scenario",
    "Setup",
    "Shift",
    "Shifts",
    "Station",
    "apply_overrides",
    "get_path",
    "json_schema",
    "load_scenario",
    "load_warnings",
    "parse_override",
    "parse_scenario",
    "problems_from",
    "scenario_to_yaml",
    "split_path",
]
