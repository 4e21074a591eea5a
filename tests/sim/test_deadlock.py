"""A closed scenario whose jobs deadlock stops with a clear error instead of running forever."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from twin.cli import app
from twin.scenario import parse_scenario
from twin.sim.plant import Plant, SimulationStalled

DEADLOCK = {
    "name": "deadlock",
    # a -> b -> a with no buffers: a job finished at b needs a, whose finished job needs b.
    "products": {"x": {"release": [{"at": 0, "quantity": 4}], "route": ["a", "b", "a"]}},
    "stations": {
        "a": {"process_time": 1, "buffer": 0},
        # calendar failures keep scheduling events forever, so the run cannot end by itself
        "b": {"process_time": 1, "buffer": 0, "failures": {"ttf": 5, "ttr": 1, "basis": "calendar"}},
    },
}


def test_deadlock_is_detected() -> None:
    """No job moves for a whole watch interval: SimulationStalled names the jobs stuck."""
    with pytest.raises(SimulationStalled, match="4 jobs in the plant"):
        Plant(parse_scenario(DEADLOCK)).run()


def test_same_plant_with_room_finishes() -> None:
    """With unlimited buffers the same jobs all finish (and the watch does not fire)."""
    stations = {name: {k: v for k, v in spec.items() if k != "buffer"} for name, spec in DEADLOCK["stations"].items()}
    room = {**DEADLOCK, "stations": stations}
    plant = Plant(parse_scenario(room))
    plant.run()
    assert plant.left == 4 and plant.in_system == 0


def test_run_command_reports_the_deadlock(tmp_path: Path) -> None:
    """`twin run` exits 2 with the reason, no traceback."""
    path = tmp_path / "dead.yaml"
    path.write_text(yaml.safe_dump(DEADLOCK))
    done = CliRunner().invoke(app, ["run", str(path)])
    assert done.exit_code == 2 and "blocking deadlock" in done.stderr
