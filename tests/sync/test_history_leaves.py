"""A log of the motor plant (assembly, rework, transport, maintenance) read back: components
consumed by an assembly have left the plant, and planned maintenance is no failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import twin
from twin.cli import app
from twin.scenario import load_scenario
from twin.sync.eventlog import read_log
from twin.sync.history import History, build_history
from twin.sync.hygiene import repair_log
from twin.sync.infer import failures
from twin.sync.observed import observed_kpis
from twin.sync.state import state_from_frame

MOTOR = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "motor_plant.yaml"
HORIZON = 1600.0
"""Long enough for the shaft lathe's first daily maintenance (at 1440, no failures there)."""


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("motor") / "motor.csv"
    done = CliRunner().invoke(
        app,
        [
            "run",
            str(MOTOR),
            "--replications",
            "1",
            "--set",
            f"horizon={HORIZON:g}",
            "--set",
            "warmup=0",
            "--log",
            str(path),
        ],
    )
    assert done.exit_code == 0, done.output
    return path


@pytest.fixture(scope="module")
def history(log: Path) -> History:
    return build_history(read_log(log))


def test_assembled_components_have_left_the_plant(log: Path, history: History) -> None:
    """Jobs still in the plant are exactly those the state builder places at the log's end,
    and every job that arrived has left (exit, scrap, assembled) or is still inside."""
    frame = read_log(log)
    assert (frame["event"] == "assembled").sum() > 100
    inside = history.in_plant()
    cut = state_from_frame(frame, history.end)
    assert set(inside.index[inside]) == {job.id for job in cut.state.jobs}
    jobs = history.jobs
    left = jobs[["exit", "scrap", "assembled"]].notna().sum(axis=1)
    assert (left <= 1).all()
    assert len(jobs) == int(left.sum()) + int(inside.sum())
    _, report = repair_log(frame)
    assert report.open_at_end == len(cut.state.jobs)


def test_observed_kpis_of_the_twins_own_log_are_its_kpis(history: History) -> None:
    """The twin's own log read back gives the run's completions, reworks and WIP
    (components leave the WIP when assembled, as in the model)."""
    scenario = load_scenario(MOTOR, [f"horizon={HORIZON:g}", "warmup=0"])
    run = twin.simulate(scenario, replications=1, keep_events=False)
    simulated = run.kpis.iloc[0]
    observed = observed_kpis(history, scenario)
    assert observed["completed"] == simulated["completed"]
    assert observed["reworked"] == simulated["reworked"] > 0
    # The log's window is its first to last event, the run's [0, horizon]; the plant is empty
    # before the first arrival, so the WIP integrals agree up to the last event's gap to the end.
    assert history.start > 0 and HORIZON - history.end < 0.1
    integral = observed["wip_mean"] * history.length
    assert integral == pytest.approx(float(simulated["wip_mean"]) * HORIZON, rel=1e-3)


def test_maintenance_is_not_fitted_as_failures(log: Path) -> None:
    """The shaft lathe has daily maintenance and no failures: hygiene invents no outage
    for it, failures are fitted only at the stations that fail, and the calibrated
    scenario gives the lathe no failures."""
    frame = read_log(log)
    assert (frame.loc[frame["event"] == "maintenance", "station"] == "shaft_lathe").any()
    repaired, report = repair_log(frame)
    assert (report.down_at_start, report.up_without_down) == (0, 0)
    found = failures(build_history(repaired))
    assert "shaft_lathe" not in found
    assert {"housing_mill", "stator_winding"} <= set(found)
    outages = build_history(repaired).outages
    maintenance = outages[outages["kind"] == "maintenance"]
    assert len(maintenance) and np.all(maintenance["up"] > maintenance["down"])
    out = log.with_name("calibrated.yaml")
    done = CliRunner().invoke(app, ["calibrate", str(log), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert load_scenario(out).stations["shaft_lathe"].failures is None
