"""The plant state: its schema, its checks against a scenario, and the tracker that cuts it from a log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.helpers import scenario
from twin.cli import app
from twin.errors import ScenarioError
from twin.scenario.state import PlantState, check_state, parse_state, state_json_schema
from twin.sim.log import JobEvent
from twin.sim.plant import Plant
from twin.sync.eventlog import events_to_log
from twin.sync.state import StateTracker, state_from_frame

ROOT = Path(__file__).resolve().parents[2]

LINE = scenario(
    {
        "cut": {"machines": 2, "buffer": 2, "process_time": 1.0},
        "drill": {"buffer": 3, "process_time": 2.0, "failures": {"ttf": 50, "ttr": 5}},
    },
    {"part": {"arrival": {"dist": "exponential", "mean": 1.5}, "route": ["cut", "drill"]}},
    horizon=500,
)


def _state(jobs: list[dict[str, Any]], machines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"time": 100.0, "jobs": jobs, "machines": machines or []}


def _job(i: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"j{i}", "product": "part", "step": 0, "where": "buffer", "station": "cut", **fields}


def test_published_state_schema_is_current() -> None:
    """state.schema.json is what the code generates (regenerate with `twin schema --state`)."""
    assert (ROOT / "state.schema.json").read_text() == state_json_schema()


def test_a_valid_state_passes_its_checks() -> None:
    state = parse_state(
        _state(
            [_job(0), _job(1, where="machine", machine="1", elapsed=0.5), _job(2, step=1, station="drill")],
            [{"station": "cut", "machine": "1", "state": "busy", "since": 99.5}],
        ),
        LINE,
    )
    assert [job.where for job in state.jobs] == ["buffer", "machine", "buffer"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # a station the scenario does not have
        (_state([_job(3, station="x")]), "jobs[0].station: unknown station 'x'"),
        # the route's step 1 is at drill, not cut
        (_state([_job(0, step=1)]), "jobs[0].station: step 1 of 'part' is at station 'drill' (got cut)"),
        # the route has two steps
        (_state([_job(0, step=2)]), "jobs[0].step: beyond the route of 'part' (2 steps) (got 2)"),
        (_state([_job(0, product="bolt")]), "jobs[0].product: unknown product 'bolt'"),
        # cut's buffer holds 2
        (
            _state([_job(0), _job(1), _job(2)]),
            "jobs[2].station: more jobs in the buffer of 'cut' than it holds (2) (got 3)",
        ),
        # two jobs on one (non-batch) machine
        (
            _state([_job(0, where="machine", machine="0"), _job(1, where="machine", machine="0")]),
            "jobs[1].machine: machine '0' of 'cut' already holds job 0",
        ),
        # busy, yet nothing is on the machine
        (
            _state([], [{"station": "cut", "machine": "0", "state": "busy", "since": 90}]),
            "machines[0].state: 'busy' but no job is on the machine",
        ),
        # idle with a job on it
        (
            _state(
                [_job(0, where="machine", machine="0")],
                [{"station": "cut", "machine": "0", "state": "idle", "since": 1}],
            ),
            "machines[0].state: 'idle' but job 0 is on the machine",
        ),
        # cut has two machines; the state names three
        (
            _state([], [{"station": "cut", "machine": m, "state": "idle", "since": 0} for m in ("a", "b", "c")]),
            "stations.cut: the state names more machines than the station has (2)",
        ),
        (
            _state([], [{"station": "oven", "machine": "0", "state": "idle", "since": 0}]),
            "machines[0].station: unknown station 'oven'",
        ),
    ],
)
def test_a_state_that_contradicts_the_scenario_is_refused(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_state(data, LINE)
    assert expected in [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_state([_job(0), _job(0)]), "job 'j0' listed twice"),
        (_state([_job(0, where="buffer", elapsed=1.0)]), "only a job on a machine has processing time elapsed"),
        (_state([_job(0, where="machine")]), "a job on a machine needs its machine"),
        (_state([], [{"station": "cut", "machine": "0", "state": "idle", "since": 101}]), "after the state's time"),
        (_state([_job(0, where="shelf")]), "where"),
    ],
)
def test_a_malformed_state_is_refused(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_state(data)
    assert any(expected in str(p) for p in caught.value.problems)


def _tracker(rows: list[tuple[Any, ...]]) -> StateTracker:
    tracker = StateTracker()
    for row in rows:
        assert tracker.apply_event(*row) is None, row
    return tracker


def test_the_tracker_follows_a_job_and_counts_processing_without_downtime() -> None:
    tracker = _tracker(
        [
            (0.0, "arrive", "a", "part", "", "", 30.0),
            (0.0, "enter", "a", "", "cut", ""),
            (1.0, "start", "a", "", "cut", "M1"),
            (2.0, "finish", "a", "", "cut", "M1"),
            (2.0, "enter", "a", "", "drill", ""),
            (3.0, "start", "a", "", "drill", "D"),
            (4.0, "down", "", "", "drill", "D"),
            (9.0, "up", "", "", "drill", "D"),
        ]
    )
    state = tracker.state(at=10.0)
    (job,) = state.jobs
    assert (job.step, job.where, job.station, job.machine, job.due, job.arrival) == (
        1,
        "machine",
        "drill",
        "D",
        30.0,
        0.0,
    )
    assert job.elapsed == pytest.approx(2.0)  # 3->4 and 9->10; the 5 down do not count
    machines = {(m.station, m.machine): (m.state, m.since) for m in state.machines}
    assert machines == {("cut", "M1"): ("idle", 2.0), ("drill", "D"): ("busy", 9.0)}
    assert check_state(state, LINE) == []


def test_the_tracker_rejects_impossible_events_and_changes_nothing() -> None:
    tracker = _tracker([(0.0, "arrive", "a", "part", "", "", None), (0.0, "enter", "a", "", "cut", "")])
    before = tracker.state().model_dump()
    rejected = [
        (1.0, "finish", "a", "", "cut", "0"),  # never started
        (1.0, "exit", "zz", "", "", ""),  # never arrived, no product to introduce it
        (1.0, "arrive", "a", "part", "", ""),  # arrived twice
        (1.0, "start", "a", "", "drill", "0"),  # it waits at cut
        (1.0, "up", "", "", "cut", "0"),  # was never down
        (1.0, "explode", "a", "", "cut", "0"),
        ("soon", "enter", "a", "", "cut", ""),
        (-5.0, "enter", "a", "", "cut", ""),  # before the state's time
    ]
    for row in rejected:
        assert isinstance(tracker.apply_event(*row), str), row
    assert tracker.rejected == len(rejected)
    assert tracker.state().model_dump() == before
    assert tracker.apply({"time": 1.0, "event": "start", "job": "a", "station": "cut", "machine": "0"}) is None


def _twin_log(s: Any, seed: int = 1) -> tuple[Plant, Any]:
    from twin.measure.experiment import Replication, events_frame

    plant = Plant(s, seed=seed)
    end = plant.run()
    rep = Replication(0, {}, end, plant.arrived, plant.left, plant.in_system, plant.log)
    return plant, events_to_log(events_frame(s, [rep]), s)


def test_a_state_cut_from_the_twins_own_log_holds_every_job_in_the_plant() -> None:
    """Conservation at a cut: jobs in the state = arrived - left by then, and each job is where
    the model's own log last put it (the entrance, a station's buffer, a machine)."""
    plant, log = _twin_log(LINE)
    columns = plant.log.columns()
    place = {JobEvent.ARRIVE: "entrance", JobEvent.ENTER: "buffer", JobEvent.START: "machine"}
    place[JobEvent.FINISH] = "machine"
    stations = list(LINE.stations)
    for at in (50.0, 123.4, 400.0):
        cut = state_from_frame(log, at)
        assert cut.rejected == {}
        last: dict[int, tuple[str, str]] = {}
        upto = columns["job_time"] <= at
        for job, kind, station in zip(
            columns["job_id"][upto], columns["job_kind"][upto], columns["job_station"][upto], strict=True
        ):
            if kind in (JobEvent.EXIT, JobEvent.SCRAP):
                del last[int(job)]
            elif kind != JobEvent.ARRIVE or int(job) not in last:
                last[int(job)] = (place[JobEvent(kind)], stations[station] if station >= 0 else "")
        assert {int(j.id): (j.where, j.station or "") for j in cut.state.jobs} == last
        assert check_state(cut.state, LINE) == []


def test_the_tracker_applies_many_thousands_of_events_a_second() -> None:
    """Throughput floor (not a benchmark): 100k events of a twin log in well under 10 s."""
    _plant, log = _twin_log(LINE.model_copy(update={"horizon": 20000.0}))
    rows = log.iloc[:100_000]
    started = time.process_time()
    state_from_frame(rows, float(rows["time"].iloc[-1]))
    assert len(rows) / (time.process_time() - started) > 10_000


def test_twin_state_prints_the_state_and_refuses_a_bad_log(tmp_path: Path) -> None:
    _plant, log = _twin_log(LINE)
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["state", str(path), "--at", "200"])
    assert result.exit_code == 0, result.output
    state = PlantState.model_validate(json.loads(result.stdout))
    assert state.time == 200.0 and state.jobs
    out = tmp_path / "state.json"
    assert runner.invoke(app, ["state", str(path), "--at", "200", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == json.loads(result.stdout)
    bad = tmp_path / "bad.csv"
    bad.write_text("time,event,job,product,station,machine\n1,explode,a,p,s,m\n")
    result = runner.invoke(app, ["state", str(bad), "--at", "5"])
    assert result.exit_code == 2 and "unknown event" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["state", str(path), "--at", "nan"])
    assert result.exit_code == 2 and "--at: must be a finite time" in result.output
