"""Transport: fixed-time legs shift lead times by exactly their time; one vehicle on a
saturated line delivers at its cycle bound; exact vehicle timetables, dispatching, room
reservation, and the transport KPIs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.helpers import job_records, run_plant, scenario, state_intervals
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent, MachineState, VehicleState

BUSY, IDLE, BLOCKED = MachineState.BUSY, MachineState.IDLE, MachineState.BLOCKED


def vehicle_records(plant: Any) -> list[tuple[float, int, VehicleState, int]]:
    """``(time, vehicle, state, job)`` of every vehicle record, in log order."""
    cols = plant.log.columns()
    return [
        (float(t), int(v), VehicleState(int(s)), int(j))
        for t, v, s, j in zip(
            cols["vehicle_time"], cols["vehicle_id"], cols["vehicle_state"], cols["vehicle_job"], strict=True
        )
    ]


def line(transport: dict[str, Any], release: list[dict[str, float]], **top: Any) -> Any:
    """a (1 per job) -> b (1 per job)."""
    return scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 1}},
        products={"w": {"release": release, "route": ["a", "b"]}},
        transport=transport,
        **top,
    )


AGV = {"vehicles": {"count": 1, "speed": 1, "load": 0.5, "unload": 0.5}, "distances": {"a": {"b": 4}}}
"""One vehicle, 4 apart, half a unit to load and to unload: a cycle of 0.5 + 4 + 0.5 + 4 = 9."""


def test_one_vehicle_timetable() -> None:
    """Job 0 finishes at 1 and is loaded 1-1.5 (the vehicle waits at a, its home), driven
    1.5-5.5, unloaded 5.5-6. The vehicle returns empty 6-10 for job 1, which finished at 2.5
    and waited on machine a, blocked, until loaded at 10.5."""
    plant = run_plant(line(AGV, [{"at": 0, "quantity": 3}]))
    idle, empty, loading, loaded, unloading = VehicleState
    assert vehicle_records(plant) == [
        (0.0, 0, idle, -1),
        (1.0, 0, loading, 0),
        (1.5, 0, loaded, 0),
        (5.5, 0, unloading, 0),
        (6.0, 0, empty, 1),
        (10.0, 0, loading, 1),
        (10.5, 0, loaded, 1),
        (14.5, 0, unloading, 1),
        (15.0, 0, empty, 2),
        (19.0, 0, loading, 2),
        (19.5, 0, loaded, 2),
        (23.5, 0, unloading, 2),
        (24.0, 0, idle, -1),
    ]
    assert job_records(plant, JobEvent.TRANSPORT_START) == [(1.0, 0, 0), (2.5, 1, 0), (11.5, 2, 0)]
    assert job_records(plant, JobEvent.TRANSPORT_END) == [(6.0, 0, -1), (15.0, 1, -1), (24.0, 2, -1)]
    assert job_records(plant, JobEvent.ENTER, "b") == [(6.0, 0, -1), (15.0, 1, -1), (24.0, 2, -1)]
    assert state_intervals(plant, "a") == [
        (0.0, 1.0, BUSY),
        (1.0, 1.5, BLOCKED),  # being loaded
        (1.5, 2.5, BUSY),
        (2.5, 10.5, BLOCKED),  # waiting for the vehicle, then being loaded
        (10.5, 11.5, BUSY),
        (11.5, 19.5, BLOCKED),
        (19.5, 25.0, IDLE),  # b ends the last job at 25
    ]


def test_saturated_line_runs_at_the_vehicle_cycle_bound() -> None:
    """With work always waiting at a, one vehicle delivers one job per cycle of 9: jobs exit
    b at 7, 16, 25, ..., so the throughput is the cycle bound 1/9, and the vehicle is never
    idle after the first job and drives empty 4 of every 9."""
    horizon = 9000.0
    rep = run_replication(line(AGV, [{"at": 0, "quantity": 2000}], horizon=horizon), 0)
    completed = int((horizon - 7) // 9) + 1
    assert rep.kpis["completed"] == completed
    assert rep.kpis["throughput"] == pytest.approx(1 / 9, abs=1 / horizon)
    assert rep.kpis["transport.utilization"] == pytest.approx(1.0 - 1 / horizon, abs=1e-12)
    assert rep.kpis["transport.empty_share"] == pytest.approx(4 / 9, abs=9 / horizon)
    # Loadings start at 1, 10, ..., 8992 (1000 of them); job k+1 is handed over 1.5 after job
    # k's loading started (0.5 to load, 1 to process), so every job but the first waits 9 - 1.5.
    assert rep.kpis["transport.wait_mean"] == pytest.approx(7.5 * 999 / 1000, abs=1e-9)


def test_a_second_vehicle_moves_the_bound_to_the_machine_it_blocks() -> None:
    """Two vehicles could deliver 2 per 9, but a has no room for a finished job: it waits,
    blocked, while an idle vehicle drives over from b, where vehicles stay after unloading.
    Its cycle of 1 (process) + 4 (empty drive) + 0.5 (load) becomes the bound: 1 / 5.5."""
    agv = {**AGV, "vehicles": {**AGV["vehicles"], "count": 2}}
    rep = run_replication(line(agv, [{"at": 0, "quantity": 4000}], horizon=9000), 0)
    assert rep.kpis["throughput"] == pytest.approx(1 / 5.5, rel=0.002)
    assert rep.kpis["transport.utilization"] == pytest.approx(9 / 11, rel=0.002)


@pytest.mark.parametrize("legs", [{"a": {"b": 7}}, {"a": {"b": 3}, "b": {"c": 4}}])
def test_fixed_times_shift_every_lead_time_by_exactly_the_transport_time(legs: dict[str, dict[str, float]]) -> None:
    """Poisson arrivals, exponential process times, unlimited buffers: with fixed transport
    times, every job sees the same arrivals and process times as without (common random
    numbers) at each station, only later by the time travelled, so each job's lead time grows
    by exactly the sum of its legs' times (7)."""
    stations = {name: {"process_time": {"dist": "exponential", "mean": 0.8}} for name in "abc"}
    products = {"w": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["a", "b", "c"]}}
    base = scenario(stations=stations, products=products, horizon=2000, seed=4)
    moved = scenario(stations=stations, products=products, horizon=2000, seed=4, transport={"times": legs})
    plain, carried = run_plant(base), run_plant(moved)
    before = {job: t for t, job, _ in job_records(plain, JobEvent.EXIT)}
    after = {job: t for t, job, _ in job_records(carried, JobEvent.EXIT)}
    shared = sorted(set(before) & set(after))
    assert len(shared) > 1800
    shifts = np.array([after[job] - before[job] for job in shared])
    np.testing.assert_allclose(shifts, 7.0, atol=1e-9)


def test_fixed_times_are_symmetric_unless_both_directions_are_given() -> None:
    """A rework leg back from b to a takes a -> b's time; given both ways, each its own."""
    stations = {"a": {"process_time": 1}, "b": {"process_time": 1, "rework": {"probability": 0.5, "to": "a"}}}
    products = {"w": {"release": [{"at": 0, "quantity": 40}], "route": ["a", "b"]}}
    for times, back in (({"a": {"b": 2}}, 2.0), ({"a": {"b": 2}, "b": {"a": 5}}, 5.0)):
        plant = run_plant(scenario(stations=stations, products=products, transport={"times": times}, seed=1))
        reworks = job_records(plant, JobEvent.REWORK, "b")
        assert len(reworks) > 10
        arrivals_at_a = {(job, t) for t, job, _ in job_records(plant, JobEvent.TRANSPORT_END, "a")}
        assert arrivals_at_a == {(job, t + back) for t, job, _ in reworks}


def test_a_vehicle_leaves_only_for_a_destination_with_room() -> None:
    """b has no buffer and takes 10 per job: a job is handed to the vehicle only when b's
    machine is free or will be when it arrives (room reserved), so a second job waits, blocked
    on a, until b has room again."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 10, "buffer": 0}},
        products={"w": {"release": [{"at": 0, "quantity": 3}], "route": ["a", "b"]}},
        transport={"vehicles": {"count": 2, "speed": 1}, "distances": {"a": {"b": 2}}},
    )
    plant = run_plant(s)
    # Job 0 leaves at 1 and arrives at 3 (b 3-13); job 1 is handed over at 13 when b frees.
    assert job_records(plant, JobEvent.TRANSPORT_START) == [(1.0, 0, 0), (13.0, 1, 0), (25.0, 2, 0)]
    assert job_records(plant, JobEvent.START, "b") == [
        (3.0, 0, 0),
        (15.0, 1, 0),
        (29.0, 2, 0),
    ]  # both vehicles at b by 25


def test_nearest_and_fcfs_dispatching_pick_different_requests() -> None:
    """One vehicle, busy from 0.5 to 5.5 carrying c's job to d; meanwhile a (9 from d) asks
    at 1 and b (1 from d) at 2. Freed at d, `nearest` serves b first, `fcfs` serves a first."""
    stations = {
        "a": {"process_time": 1},
        "b": {"process_time": 2},
        "c": {"process_time": 0.5},
        "d": {"process_time": 1},
    }
    products = {
        "far": {"release": [{"at": 0}], "route": ["a", "d"]},
        "near": {"release": [{"at": 0}], "route": ["b", "d"]},
        "first": {"release": [{"at": 0}], "route": ["c", "d"]},
    }
    distances = {"c": {"d": 5, "b": 2, "a": 9}, "a": {"d": 9}, "b": {"d": 1}}
    order = {}
    for rule in ("nearest", "fcfs"):
        transport = {"vehicles": {"count": 1, "speed": 1, "dispatching": rule, "home": "c"}, "distances": distances}
        plant = run_plant(scenario(stations=stations, products=products, transport=transport))
        order[rule] = [job for _, job, _ in job_records(plant, JobEvent.TRANSPORT_END)]
    # Jobs: 0 far (a), 1 near (b), 2 first (c).
    assert order["nearest"] == [2, 1, 0]
    assert order["fcfs"] == [2, 0, 1]


def test_vehicle_states_partition_the_time() -> None:
    """Idle, empty, loading, loaded and unloading shares add up to 1 for the fleet."""
    from twin.measure.vehicles import vehicle_time

    plant = run_plant(
        line({**AGV, "vehicles": {**AGV["vehicles"], "count": 3}}, [{"at": 0, "quantity": 50}], horizon=300)
    )
    spent = vehicle_time(plant.log, 3, 0.0, 300.0)
    np.testing.assert_allclose(spent.sum(axis=1), 300.0)
