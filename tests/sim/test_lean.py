"""The lean hot path is the same model as the general one, record for record.

Plain stations run as :class:`twin.sim.lean.LeanStation` (machines :class:`LeanMachine`);
forcing every station onto the general classes must give the very same event log, bit for
bit, on every example and validation scenario and on lines and job shops that exercise the
lean path's branches (FIFO deques, rules, blocking, calendar and busy-time breakdowns).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import scenario
from twin.jobshop.instances import instance_to_scenario, load_instance
from twin.scenario import Scenario, load_scenario
from twin.sim import plant as plant_module
from twin.sim.lean import LeanMachine, LeanStation
from twin.sim.plant import Plant
from twin.sim.station import Machine

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted([*(SCENARIOS / "examples").glob("*.yaml"), *(SCENARIOS / "validation").glob("*.yaml")])


def _short(path: Path) -> Scenario:
    s = load_scenario(path)
    assert s.horizon is not None
    return load_scenario(path, [f"horizon={s.warmup + 0.1 * (s.horizon - s.warmup)!r}"])


def _line(basis: str, rule: str = "fifo") -> Scenario:
    """Three stations, buffers of 1, breakdowns on the middle one: blocking and failures."""
    failures = {"ttf": {"dist": "exponential", "mean": 30}, "ttr": {"dist": "exponential", "mean": 5}, "basis": basis}
    return scenario(
        stations={
            "a": {"process_time": {"dist": "exponential", "mean": 0.8}, "dispatching": rule},
            "b": {"process_time": {"dist": "exponential", "mean": 0.9}, "buffer": 1, "failures": failures},
            "c": {"process_time": {"dist": "exponential", "mean": 0.85}, "buffer": 1, "machines": 2},
        },
        products={"w": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["a", "b", "c"]}},
        horizon=3000,
    )


def _logs_equal(s: Scenario, monkeypatch: pytest.MonkeyPatch, seed: int = 4) -> Plant:
    lean = Plant(s, seed=seed)
    lean.run()
    with monkeypatch.context() as patch:
        patch.setattr(plant_module, "lean_station", lambda *args, **kwargs: False)
        general = Plant(s, seed=seed)
        general.run()
    assert not any(isinstance(st, LeanStation) for st in general.stations.values())
    a, b = lean.log.columns(), general.log.columns()
    for name in a:
        assert np.array_equal(a[name], b[name]), f"column {name} differs"
    return lean


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_library_logs_are_bit_identical(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _logs_equal(_short(path), monkeypatch)


@pytest.mark.parametrize(("basis", "rule"), [("calendar", "fifo"), ("busy", "fifo"), ("calendar", "spt")])
def test_lines_with_blocking_and_breakdowns(basis: str, rule: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plant = _logs_equal(_line(basis, rule), monkeypatch)
    assert all(isinstance(st, LeanStation) for st in plant.stations.values())
    machine_type = type(plant.stations["b"].machines[0])
    assert machine_type is (LeanMachine if basis == "calendar" else Machine)
    assert plant.left > 2000


@pytest.mark.parametrize("rule", ["fifo", "spt", "mwkr", "random"])
def test_job_shop_rules(rule: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s = instance_to_scenario(load_instance(SCENARIOS / "jobshop" / "ft10.txt"), rule=rule)
    plant = _logs_equal(s, monkeypatch)
    assert all(isinstance(st, LeanStation) for st in plant.stations.values())


def test_featured_stations_stay_general() -> None:
    """A station with a feature the lean path does not handle is built general."""
    s = scenario(
        stations={"a": {"process_time": 1, "scrap": 0.1}, "b": {"process_time": 1}},
        products={"w": {"arrival": {"dist": "exponential", "mean": 2.0}, "route": ["a", "b"]}},
        horizon=100,
    )
    plant = Plant(s)
    assert not isinstance(plant.stations["a"], LeanStation)
    assert isinstance(plant.stations["b"], LeanStation)


def test_env_episodes_are_bit_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stations whose choices the Gymnasium env defers run lean too, with the same log."""
    from twin.envs.dispatch import DispatchEnv

    s = instance_to_scenario(load_instance(SCENARIOS / "jobshop" / "ft06.txt"), rule="mwkr")

    def episode() -> dict[str, np.ndarray]:
        env = DispatchEnv(s)
        env.reset(seed=1)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.rule_action("mwkr"))
            done = terminated or truncated
        assert env.decisions > 0
        return env.plant.log.columns()

    lean = episode()
    with monkeypatch.context() as patch:
        patch.setattr(plant_module, "lean_station", lambda *args, **kwargs: False)
        general = episode()
    for name in lean:
        assert np.array_equal(lean[name], general[name]), f"column {name} differs"
