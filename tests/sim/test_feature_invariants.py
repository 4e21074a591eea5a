"""Property tests on small random lines with the optional features on: maintenance, rework,
batching, energy, assembly of a component and transport (fixed times or vehicles), on top of
the random lines of ``test_invariants``. What must hold for every scenario and seed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.sim.test_invariants import SETTINGS, distributions, lines, run
from twin.measure.kpi import STATE_KPIS, compute_kpis
from twin.sim.log import JobEvent, VehicleState

_NEXT_VEHICLE_STATES = {
    VehicleState.IDLE: {VehicleState.EMPTY, VehicleState.LOADING},
    VehicleState.EMPTY: {VehicleState.LOADING},
    VehicleState.LOADING: {VehicleState.LOADED},
    VehicleState.LOADED: {VehicleState.UNLOADING},
    VehicleState.UNLOADING: {VehicleState.IDLE, VehicleState.EMPTY, VehicleState.LOADING},
}


@st.composite
def featured_lines(draw: st.DrawFn) -> dict[str, Any]:
    """A random line with random features on some stations and random transport."""
    data = draw(lines())
    names = list(data["stations"])
    for name, spec in data["stations"].items():
        if draw(st.booleans()):
            spec["maintenance"] = {
                "every": draw(st.sampled_from([2.0, 5.0, 15.0])),
                "basis": draw(st.sampled_from(["busy", "calendar", "age"])),
                "duration": draw(distributions()),
                "interrupt": draw(st.booleans()),
            }
        if draw(st.booleans()) and spec.get("scrap", 0) < 0.5:
            spec["rework"] = {"probability": draw(st.sampled_from([0.1, 0.3])), "to": name}
        if draw(st.booleans()):
            spec["batch"] = {"size": draw(st.integers(1, 3)), "max_wait": draw(st.sampled_from([0.0, 1.0, 4.0]))}
        if draw(st.booleans()):
            spec["energy"] = {"busy": 5.0, "idle": 1.0, "maintenance": 2.0}
    main = data["products"]["p0"]["route"]
    if draw(st.booleans()):
        # A component made on random stations, consumed where p0 visits its last station.
        target = main[-1]
        data["stations"][target].pop("batch", None)
        data["stations"][target]["assemble"] = {"kit": draw(st.integers(1, 2))}
        feeders = [name for name in names if name != target]
        route = [*draw(st.lists(st.sampled_from(feeders), max_size=2)), target] if feeders else [target]
        component: dict[str, Any] = {"route": route}
        if draw(st.booleans()):
            component["arrival"] = draw(distributions(st.sampled_from([0.5, 1.0])))
        else:
            component["release"] = [{"at": 0.0, "quantity": draw(st.integers(1, 8))}]
        data["products"]["kit"] = component
    kind = draw(st.sampled_from(["none", "times", "vehicles"]))
    if kind == "times" and len(names) > 1:
        data["transport"] = {"times": {a: {b: draw(distributions()) for b in names if b != a} for a in names}}
    elif kind == "vehicles" and len(names) > 1:
        data["transport"] = {
            "vehicles": {
                "count": draw(st.integers(1, 3)),
                "speed": draw(st.sampled_from([1.0, 5.0])),
                "load": draw(distributions(st.sampled_from([0.0, 0.5]))),
                "dispatching": draw(st.sampled_from(["nearest", "fcfs"])),
            },
            "distances": {
                a: {b: float(draw(st.integers(0, 5))) for b in names[i + 1 :]} for i, a in enumerate(names[:-1])
            },
        }
    return data


@SETTINGS
@given(featured_lines())
def test_jobs_in_equal_jobs_out_plus_wip(data: dict[str, Any]) -> None:
    _, plant, cols = run(data)
    kind = cols["job_kind"]
    left = int(np.sum(np.isin(kind, (JobEvent.EXIT, JobEvent.SCRAP, JobEvent.ASSEMBLED))))
    assert int(np.sum(kind == JobEvent.ARRIVE)) == plant.arrived
    assert left == plant.left
    assert plant.arrived == plant.left + plant.in_system


@SETTINGS
@given(featured_lines())
def test_records_are_in_time_order(data: dict[str, Any]) -> None:
    _, plant, cols = run(data)
    for column in ("job_time", "state_time", "vehicle_time"):
        times = cols[column]
        assert np.all(np.diff(times) >= 0), column
        assert np.all((times >= 0) & (times <= plant.env.now)), column


@SETTINGS
@given(featured_lines())
def test_state_and_vehicle_shares_partition_the_time(data: dict[str, Any]) -> None:
    s, plant, _ = run(data)
    end = plant.env.now
    kpis = compute_kpis(plant.log, s, end / 3, end)
    for name in s.stations:
        fractions = [kpis[f"stations.{name}.{kpi}"] for kpi in STATE_KPIS.values()]
        assert all(0.0 <= f <= 1.0 + 1e-12 for f in fractions), (name, fractions)
        assert abs(sum(fractions) - 1.0) < 1e-9, (name, fractions)
    for kpi in ("transport.utilization", "transport.empty_share"):
        if kpi in kpis:
            assert 0.0 <= kpis[kpi] <= 1.0 + 1e-12
    if "energy" in kpis:
        assert kpis["energy"] >= 0


@SETTINGS
@given(featured_lines())
def test_every_move_is_well_formed(data: dict[str, Any]) -> None:
    """A job starts only where it entered; it enters a station after arriving, finishing or
    being sent back for rework (at once, or later when room frees), or on delivery by
    transport (at once); a delivery follows its hand-over; vehicles go through their states
    in order, starting idle."""
    _, _, cols = run(data)
    where: dict[int, int] = {}
    handed: dict[int, float] = {}
    last: dict[int, tuple[int, float]] = defaultdict(lambda: (-1, -1.0))
    for job, kind, station, time in zip(
        cols["job_id"], cols["job_kind"], cols["job_station"], cols["job_time"], strict=True
    ):
        job, kind, station, time = int(job), int(kind), int(station), float(time)
        if kind == JobEvent.ENTER:
            previous, at = last[job]
            assert previous in (JobEvent.ARRIVE, JobEvent.FINISH, JobEvent.REWORK, JobEvent.TRANSPORT_END), previous
            assert previous != JobEvent.TRANSPORT_END or at == time  # others may wait for room
            where[job] = station
        elif kind in (JobEvent.SETUP, JobEvent.START):
            assert where.get(job) == station
        elif kind == JobEvent.TRANSPORT_START:
            assert job not in handed
            handed[job] = time
        elif kind == JobEvent.TRANSPORT_END:
            assert handed.pop(job) <= time
        last[job] = (kind, time)
    previous_state: dict[int, VehicleState] = {}
    for vehicle, state in zip(cols["vehicle_id"], cols["vehicle_state"], strict=True):
        state = VehicleState(int(state))
        if int(vehicle) in previous_state:
            assert state in _NEXT_VEHICLE_STATES[previous_state[int(vehicle)]]
        else:
            assert state == VehicleState.IDLE
        previous_state[int(vehicle)] = state


@SETTINGS
@given(featured_lines())
def test_same_seed_same_log(data: dict[str, Any]) -> None:
    _, first, _ = run(data)
    _, second, _ = run(data)
    for name, column in first.log.columns().items():
        assert column.tobytes() == second.log.columns()[name].tobytes(), name
