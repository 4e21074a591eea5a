"""Validation of the feature keys (batch, energy, maintenance, rework, assemble, transport):
a table of invalid inputs, each refused with its field and the problem; load warnings that
account for rework, batching, maintenance, vehicles and component supply."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.errors import ScenarioError
from twin.scenario import load_warnings, parse_scenario


def plant() -> dict[str, Any]:
    """A valid plant using every feature."""
    return {
        "name": "features",
        "horizon": 1000,
        "products": {
            "motor": {"arrival": 4, "route": ["mill", "oven", "asm", "test"]},
            "rotor": {"arrival": 4, "route": ["lathe", "asm"]},
        },
        "stations": {
            "mill": {
                "process_time": 2,
                "energy": {"busy": 10, "idle": 2},
                "maintenance": {"every": 100, "duration": 5},
            },
            "oven": {"process_time": 20, "batch": {"size": 10, "max_wait": 30}},
            "lathe": {"process_time": 2},
            "asm": {"process_time": 3, "assemble": {"rotor": 1}},
            "test": {"process_time": 1, "rework": {"probability": 0.05, "to": "asm"}},
        },
        "transport": {
            "vehicles": {"count": 2, "speed": 10},
            "distances": {"mill": {"oven": 20}, "oven": {"asm": 30}, "lathe": {"asm": 10}},
            "times": {"asm": {"test": 1}},
        },
    }


def edit(path: str, value: Any) -> dict[str, Any]:
    """The plant with ``path`` (dotted) set to ``value``; a value of ``...`` deletes it."""
    data = copy.deepcopy(plant())
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


CASES = [
    # a batch of no jobs
    (edit("stations.oven.batch.size", 0), "stations.oven.batch.size: must be >= 1 (got 0)"),
    # a negative max_wait
    (edit("stations.oven.batch.max_wait", -1), "stations.oven.batch.max_wait: must be >= 0 (got -1)"),
    # an unknown key of a batch
    (edit("stations.oven.batch.mix", True), "stations.oven.batch.mix: unknown key"),
    # without a horizon a partial batch could wait for ever
    (
        edit("horizon", ...)
        | {"products": {"w": {"release": [{"at": 0}], "route": ["oven"]}}}
        | {"stations": {"oven": {"process_time": 1, "batch": {"size": 2}}}, "transport": None},
        "stations.oven.batch.max_wait: required without a horizon",
    ),
    # negative power
    (edit("stations.mill.energy.busy", -1), "stations.mill.energy.busy: must be >= 0 (got -1)"),
    # a state that does not exist
    (edit("stations.mill.energy.running", 3), "stations.mill.energy.running: unknown key"),
    # energy in kWh needs a time unit
    (edit("time_unit", "tick"), "time_unit: must be a unit of time"),
    # maintenance never
    (edit("stations.mill.maintenance.every", 0), "stations.mill.maintenance.every: must be > 0 (got 0)"),
    # an unknown basis
    (edit("stations.mill.maintenance.basis", "usage"), "stations.mill.maintenance.basis: must be one of"),
    # maintenance without a duration
    (edit("stations.mill.maintenance.duration", ...), "stations.mill.maintenance.duration: required"),
    # rework certain
    (edit("stations.test.rework.probability", 1), "stations.test.rework.probability: must be < 1 (got 1)"),
    # rework to nowhere
    (edit("stations.test.rework.to", "paint"), "stations.test.rework.to: no station of that name"),
    # rework to a station the route visits later (or not at all)
    (
        edit("stations.asm.rework", {"probability": 0.1, "to": "test"}),
        "stations.asm.rework.to: must be 'asm' or a station before it",
    ),
    # scrap and rework together make certainty
    (edit("stations.test.scrap", 0.96), "stations.test.rework.probability: scrap + rework probability must be < 1"),
    # a component that is no product
    (edit("stations.asm.assemble", {"stator": 1}), "stations.asm.assemble.stator: no product of that name"),
    # a component whose route does not end at the assembly station
    (
        edit("products.rotor.route", ["asm", "lathe"]),
        "stations.asm.assemble.rotor: a component's route must end at 'asm'",
    ),
    # zero components
    (edit("stations.asm.assemble", {"rotor": 0}), "stations.asm.assemble.rotor: must be >= 1 (got 0)"),
    # nothing to assemble components into
    (
        edit("products.motor.route", ["mill", "oven", "test"]),
        "stations.asm.assemble: no other product's route visits 'asm'",
    ),
    # a component processed at its own assembly
    (edit("products.rotor.process_time", {"asm": 2}), "products.rotor.route[1]: a component is not processed at 'asm'"),
    # assembly and batching on one station
    (
        edit("stations.asm.batch", {"size": 2, "max_wait": 1}),
        "stations.asm.assemble: a station either assembles or processes batches",
    ),
    # vehicles without distances
    (edit("transport.distances", ...), "transport: `vehicles` need `distances`"),
    # distances without vehicles
    (edit("transport.vehicles", ...), "transport: `distances` need `vehicles`"),
    # a distance to nowhere
    (edit("transport.distances.mill", {"paint": 3}), "transport.distances.mill.paint: no station of that name"),
    # a leg from a station to itself
    (edit("transport.times.asm", {"asm": 1}), "transport.times.asm.asm: a leg joins two different stations"),
    # a negative distance
    (edit("transport.distances.mill", {"oven": -1}), "transport.distances.mill.oven: must be >= 0 (got -1)"),
    # a move between two served stations that no path joins
    (
        edit("transport.distances", {"mill": {"oven": 20}, "lathe": {"asm": 10}}),
        "products.motor.route[1]: no path from 'oven' to 'asm'",
    ),
    # vehicles standing still
    (edit("transport.vehicles.speed", 0), "transport.vehicles.speed: must be > 0 (got 0)"),
    # an unknown dispatching of vehicles
    (edit("transport.vehicles.dispatching", "random"), "transport.vehicles.dispatching: must be one of"),
    # a home that is no station
    (edit("transport.vehicles.home", "garage"), "transport.vehicles.home: no station of that name"),
    # a home the vehicles cannot reach
    (edit("transport.vehicles.home", "test"), "transport.vehicles.home: must be a station of transport.distances"),
]


def test_the_plant_is_valid_and_not_overloaded() -> None:
    assert load_warnings(parse_scenario(plant())) == []


def test_vehicles_serve_only_the_stations_of_the_distance_network() -> None:
    """Moves to or from a station outside ``distances`` (and not in ``times``) are instantaneous."""
    from twin.sim.plant import Plant
    from twin.sim.transport import TimedLeg, VehicleLeg

    built = Plant(parse_scenario(edit("transport.distances", {"mill": {"oven": 20}, "oven": {"asm": 30}})))
    index = {name: station.index for name, station in built.stations.items()}
    legs = {
        (origin, name): leg for name, station in built.stations.items() for origin, leg in (station.legs or {}).items()
    }
    assert isinstance(legs[(index["mill"], "oven")], VehicleLeg)
    assert isinstance(legs[(index["asm"], "test")], TimedLeg)
    assert (index["lathe"], "asm") not in legs


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[expected.split(":")[0] for _, expected in CASES])
def test_invalid_feature_keys_are_refused(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(data)
    assert expected in str(error.value), str(error.value)


def test_the_cli_refuses_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(edit("stations.test.rework.to", "paint")))
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "stations.test.rework.to: no station of that name" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("path", "value", "warning"),
    [
        # rework brings 1/(1-p) visits: 3 x 1.25 x (4 per 4 min) x ... over capacity
        ("stations.test.rework", {"probability": 0.8, "to": "asm"}, "stations.asm: offered load"),
        # a batch of 1 in a 20 min oven against a job every 4 min
        ("stations.oven.batch", {"size": 1}, "stations.oven: offered load"),
        # maintenance as long as the work it allows
        ("stations.mill.maintenance", {"every": 2, "duration": 10}, "stations.mill: offered load"),
        # one slow vehicle
        ("transport.vehicles", {"count": 1, "speed": 5}, "transport.vehicles: loaded trips alone need"),
        # rotors arriving half as often as motors need them
        (
            "products.rotor.arrival",
            8,
            "stations.asm.assemble.rotor: 0.125 arrive per time unit but assembly needs 0.25",
        ),
        # rotors arriving twice as often
        ("products.rotor.arrival", 2, "components pile up without bound"),
    ],
)
def test_load_warnings_account_for_the_features(path: str, value: Any, warning: str) -> None:
    warnings = load_warnings(parse_scenario(edit(path, value)))
    assert any(warning in w for w in warnings), warnings
