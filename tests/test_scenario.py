"""Valid scenarios: defaults, how process times and families resolve, overrides, and writing a
scenario back to YAML without loss. (Tables of invalid input live with the error tests.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from twin.scenario import (
    Scenario,
    apply_overrides,
    load_scenario,
    load_warnings,
    parse_override,
    parse_scenario,
    scenario_to_yaml,
)
from twin.scenario.distributions import Constant, Exponential

MINIMAL: dict[str, Any] = {
    "name": "minimal",
    "products": {"w": {"route": ["a"]}},
    "stations": {"a": {"process_time": 1}},
}

FULL: dict[str, Any] = {
    "name": "full",
    "description": "every optional part used once",
    "time_unit": "s",
    "horizon": 500,
    "warmup": 50,
    "replications": 3,
    "seed": 17,
    "products": {
        "widget": {
            "arrival": {"dist": "exponential", "mean": 2},
            "route": ["cut", {"station": "drill", "process_time": {"dist": "normal", "mean": 1, "sd": 0.2}}],
            "process_time": {"cut": {"dist": "gamma", "shape": 2, "scale": 0.4}},
            "due_date": {"slack": 30},
            "family": "small",
        },
        "gadget": {
            "release": [{"at": 3, "quantity": 2, "due": 20}, {"at": 10}],
            "route": ["drill", "cut"],
        },
    },
    "stations": {
        "cut": {
            "description": "saw",
            "process_time": 1,
            "failures": {
                "ttf": {"dist": "weibull", "shape": 1.5, "scale": 50},
                "ttr": {"dist": "lognormal", "mean": 3, "sd": 1},
                "basis": "calendar",
            },
            "setup": {"matrix": {"small": {"gadget": 2}}, "default": {"dist": "uniform", "low": 1, "high": 2}},
            "operator": "crew",
            "scrap": 0.05,
        },
        "drill": {
            "machines": 2,
            "buffer": 4,
            "process_time": {"dist": "empirical", "values": [1, 2], "weights": [1, 3]},
            "dispatching": "edd",
        },
    },
    "operators": {
        "crew": {
            "count": 2,
            "shifts": {"period": 100, "shifts": [{"start": 0, "end": 50}, {"start": 50, "end": 80, "count": 1}]},
        }
    },
    "design": {
        "objective": "profit",
        "margin": 10,
        "budget": 4,
        "options": {"stations.drill.buffer": {"min": 1, "max": 6, "cost": 1}},
    },
}


def test_defaults_of_a_minimal_scenario() -> None:
    """Unset keys take their documented defaults."""
    s = parse_scenario(MINIMAL)
    assert (s.time_unit, s.horizon, s.warmup, s.replications, s.seed) == ("min", None, 0.0, 1, 0)
    station = s.stations["a"]
    assert (station.machines, station.buffer, station.dispatching, station.scrap) == (1, None, "fifo", 0.0)
    assert (station.failures, station.setup, station.operator) == (None, None, None)
    product = s.products["w"]
    assert (product.arrival, product.release, product.due_date) == (None, None, None)
    assert s.operators == {}
    assert s.design is None


def test_failures_basis_defaults_to_busy() -> None:
    """`basis` is busy time unless given."""
    s = parse_scenario(MINIMAL | {"stations": {"a": {"process_time": 1, "failures": {"ttf": 10, "ttr": 1}}}})
    assert s.stations["a"].failures is not None
    assert s.stations["a"].failures.basis == "busy"


def test_process_time_resolution() -> None:
    """Route step, then product per station, then station; the route step's own time applies
    to that step only."""
    s = parse_scenario(FULL)
    assert s.process_time("widget", 0).mean == pytest.approx(0.8)  # product's cut: gamma 2 x 0.4
    assert s.process_time("widget", 1).mean == pytest.approx(s.products["widget"].route[1].process_time.mean)  # type: ignore[union-attr]
    assert s.process_time("gadget", 0).mean == pytest.approx(1.75)  # drill's empirical
    assert s.process_time("gadget", 1) == Constant(value=1)  # cut's bare number


def test_family_defaults_to_product_name() -> None:
    """`family` when given, else the product's name."""
    s = parse_scenario(FULL)
    assert (s.family("widget"), s.family("gadget")) == ("small", "gadget")


def test_route_steps_accept_bare_names() -> None:
    """A bare station name is an operation without its own time."""
    s = parse_scenario(FULL)
    assert s.products["gadget"].route[0].station == "drill"
    assert s.products["gadget"].route[0].process_time is None


@pytest.mark.parametrize(
    "data",
    [
        MINIMAL,  # defaults only
        FULL,  # every optional part
    ],
)
def test_yaml_round_trip(data: dict[str, Any]) -> None:
    """scenario_to_yaml -> parse_scenario gives an equal Scenario, and writing it again gives
    the same text."""
    s = parse_scenario(data)
    text = scenario_to_yaml(s)
    again = parse_scenario(yaml.safe_load(text))
    assert again == s
    assert scenario_to_yaml(again) == text


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    """load_scenario reads back what scenario_to_yaml wrote."""
    s = parse_scenario(FULL)
    path = tmp_path / "full.yaml"
    path.write_text(scenario_to_yaml(s), encoding="utf-8")
    assert load_scenario(path) == s


def test_written_yaml_is_compact() -> None:
    """Constants are bare numbers, route steps without a time are bare names, absent options
    are left out."""
    data = yaml.safe_load(scenario_to_yaml(parse_scenario(FULL)))
    assert data["stations"]["cut"]["process_time"] == 1.0
    assert data["products"]["gadget"]["route"] == ["drill", "cut"]
    assert data["products"]["widget"]["route"][1]["station"] == "drill"
    assert data["products"]["widget"]["arrival"] == {"dist": "exponential", "mean": 2.0}
    assert "buffer" not in data["stations"]["cut"]
    assert "horizon" not in yaml.safe_load(scenario_to_yaml(parse_scenario(MINIMAL)))


def test_to_dict_matches_the_yaml() -> None:
    """to_dict is the plain data scenario_to_yaml writes."""
    s = parse_scenario(FULL)
    assert yaml.safe_load(scenario_to_yaml(s)) == s.to_dict()


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("stations.cut.machines=3", "stations.cut.machines", 3),  # int
        ("horizon=2.5e+3", "horizon", 2500.0),  # YAML float (PyYAML needs the dot or sign form)
        ("stations.drill.dispatching=spt", "stations.drill.dispatching", "spt"),  # string
        (
            "products.widget.arrival={dist: exponential, mean: 4}",
            "products.widget.arrival",
            {"dist": "exponential", "mean": 4},
        ),  # mapping
        (" seed = 5", "seed", 5),  # spaces around the path
    ],
)
def test_parse_override(text: str, path: str, value: Any) -> None:
    """`path=value` splits at the first `=`, the value read as YAML."""
    assert parse_override(text) == (path, value)


def test_apply_overrides_sets_values_and_copies() -> None:
    """Overrides change a deep copy; list items are addressed by index."""
    overridden = apply_overrides(
        FULL,
        [("stations.drill.buffer", 2), ("products.gadget.release[0].quantity", 5), ("stations.cut.machines", 3)],
    )
    s = parse_scenario(overridden)
    assert s.stations["drill"].buffer == 2
    assert s.products["gadget"].release is not None
    assert s.products["gadget"].release[0].quantity == 5
    assert s.stations["cut"].machines == 3  # a new leaf under an existing parent
    assert FULL["stations"]["drill"]["buffer"] == 4


def test_apply_overrides_keeps_the_order_of_the_file() -> None:
    """Stations keep their order (the order of tables, station numbers, a vehicle fleet's
    default home): an override changes a value, not the plant."""
    data = {"z": {"b": 1, "a": 2}, "y": [{"d": 1, "c": 2}]}
    overridden = apply_overrides(data, [("z.b", 3)])
    assert list(overridden) == ["z", "y"]
    assert list(overridden["z"]) == ["b", "a"] and list(overridden["y"][0]) == ["d", "c"]


def test_load_scenario_with_overrides(tmp_path: Path) -> None:
    """Overrides given to load_scenario apply before validation."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(FULL), encoding="utf-8")
    s = load_scenario(path, ["stations.cut.process_time={dist: exponential, mean: 0.5}", "seed=99"])
    assert s.stations["cut"].process_time == Exponential(dist="exponential", mean=0.5)
    assert s.seed == 99


def test_scenario_is_frozen() -> None:
    """A validated scenario cannot be changed in place."""
    s = parse_scenario(MINIMAL)
    with pytest.raises(ValueError):
        s.seed = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arrival_mean", "machines", "warned"),
    [
        (2.0, 1, False),  # load 0.5
        (1.0, 1, True),  # load exactly 1: the queue grows without bound
        (0.5, 1, True),  # load 2
        (0.5, 2, True),  # load 1 on two machines
        (0.5, 3, False),  # load 2/3
    ],
)
def test_load_warnings(arrival_mean: float, machines: int, warned: bool) -> None:
    """A station whose offered load reaches its capacity is warned about by name."""
    s = parse_scenario(
        {
            "name": "load",
            "horizon": 10,
            "products": {"w": {"arrival": {"dist": "exponential", "mean": arrival_mean}, "route": ["a"]}},
            "stations": {"a": {"machines": machines, "process_time": 1}},
        }
    )
    warnings = load_warnings(s)
    assert bool(warnings) is warned
    assert all(w.startswith("stations.a:") for w in warnings)


def test_load_warning_counts_availability() -> None:
    """Failures shrink capacity: load 0.8 at availability 0.75 is over capacity."""
    s = parse_scenario(
        {
            "name": "load",
            "horizon": 10,
            "products": {"w": {"arrival": 1.25, "route": ["a"]}},
            "stations": {"a": {"process_time": 1, "failures": {"ttf": 30, "ttr": 10}}},
        }
    )
    assert len(load_warnings(s)) == 1


def test_scenario_model_is_the_public_type() -> None:
    """parse_scenario returns twin.Scenario."""
    import twin

    assert isinstance(parse_scenario(MINIMAL), twin.Scenario)
    assert twin.Scenario is Scenario
