"""Operator pools with shifts: no operation starts off shift, one in hand at the end of a
shift is finished, and a pool never serves more machines than it has operators."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import busy_intervals, job_records, run_plant, scenario, state_fractions, state_intervals
from twin.measure.experiment import run_replication
from twin.scenario import OperatorPool as PoolSpec
from twin.sim.log import JobEvent, MachineState
from twin.sim.operators import shift_changes

BUSY, IDLE, OFF = MachineState.BUSY, MachineState.IDLE, MachineState.OFF_SHIFT


def crewed(pool: dict[str, Any], stations: dict[str, Any], products: dict[str, Any], **top: Any) -> Any:
    """A scenario whose stations may name the pool ``crew``."""
    return scenario(stations=stations, products=products, operators={"crew": pool}, **top)


DAY_SHIFT = {"count": 1, "shifts": {"period": 100, "shifts": [{"start": 0, "end": 50}]}}


def test_operation_in_hand_at_shift_end_is_finished_and_none_starts_off_shift() -> None:
    """15.0 jobs with one operator present on [0, 50] of every 100: the job started at 45
    runs to 60; the fifth job waits for the next shift at 100."""
    s = crewed(
        DAY_SHIFT,
        stations={"a": {"process_time": 15, "operator": "crew"}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["a"]}},
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "a")] == [0.0, 15.0, 30.0, 45.0, 100.0]
    assert [t for t, _, _ in job_records(plant, JobEvent.FINISH, "a")] == [15.0, 30.0, 45.0, 60.0, 115.0]
    assert state_intervals(plant, "a") == [(0.0, 60.0, BUSY), (60.0, 100.0, OFF), (100.0, 115.0, BUSY)]
    assert state_fractions(plant, "a")[OFF] == pytest.approx(40 / 115)


def test_off_shift_fraction_of_an_always_loaded_station() -> None:
    """Jobs of 10.0 fit the 50-unit shift exactly: busy 1/2, off shift 1/2 over 10 periods."""
    s = crewed(
        DAY_SHIFT,
        stations={"a": {"process_time": 10, "operator": "crew"}},
        products={"w": {"release": [{"at": 0, "quantity": 100}], "route": ["a"]}},
        horizon=1000,
    )
    rep = run_replication(s, 0)
    assert rep.kpis["stations.a.off_shift"] == 0.5
    assert rep.kpis["stations.a.utilization"] == 0.5
    assert rep.kpis["completed"] == 50
    # OEE discounts planned downtime: all planned time is productive.
    assert rep.kpis["stations.a.oee"] == 1.0


def test_machine_starts_off_shift_when_the_first_shift_starts_later() -> None:
    """Shift [50, 100]: the job released at 0 waits until 50; the machine is off shift before."""
    pool = {"count": 1, "shifts": {"period": 100, "shifts": [{"start": 50, "end": 100}]}}
    s = crewed(
        pool,
        stations={"a": {"process_time": 5, "operator": "crew"}},
        products={"w": {"release": [{"at": 0}], "route": ["a"]}},
    )
    plant = run_plant(s)
    assert job_records(plant, JobEvent.START, "a") == [(50.0, 0, 0)]
    assert state_intervals(plant, "a") == [(0.0, 50.0, OFF), (50.0, 55.0, BUSY)]


@pytest.mark.parametrize(
    ("count", "makespan"),
    [
        (1, 15.0),  # one operator: a and b take turns, 3 x 2 + 3 x 3
        (2, 9.0),  # two: they work in parallel, b's 3 x 3 is the makespan
    ],
)
def test_stations_sharing_operators(count: int, makespan: float) -> None:
    """Two stations naming one pool of ``count`` operators."""
    s = crewed(
        {"count": count},
        stations={"a": {"process_time": 2, "operator": "crew"}, "b": {"process_time": 3, "operator": "crew"}},
        products={
            "p": {"release": [{"at": 0, "quantity": 3}], "route": ["a"]},
            "q": {"release": [{"at": 0, "quantity": 3}], "route": ["b"]},
        },
    )
    plant = run_plant(s)
    assert plant.env.now == makespan


def test_one_shared_operator_never_serves_two_stations_at_once() -> None:
    """With one operator the busy spans of a and b never overlap; waiting stations are served
    first come, first served, so they alternate."""
    s = crewed(
        {"count": 1},
        stations={"a": {"process_time": 2, "operator": "crew"}, "b": {"process_time": 3, "operator": "crew"}},
        products={
            "p": {"release": [{"at": 0, "quantity": 3}], "route": ["a"]},
            "q": {"release": [{"at": 0, "quantity": 3}], "route": ["b"]},
        },
    )
    plant = run_plant(s)
    assert busy_intervals(plant, "a") == [(0.0, 2.0), (5.0, 7.0), (10.0, 12.0)]
    assert busy_intervals(plant, "b") == [(2.0, 5.0), (7.0, 10.0), (12.0, 15.0)]
    # Waiting for the operator is idle (starved), not off shift: the operator is present.
    assert state_intervals(plant, "b")[0] == (0.0, 2.0, IDLE)


def test_shift_count_limits_parallel_machines() -> None:
    """Two machines, two operators on [0, 50] and one on [50, 100]: after 50 at most one
    operation runs at a time, and none starts before its operator is free."""
    pool = {
        "count": 2,
        "shifts": {"period": 100, "shifts": [{"start": 0, "end": 50}, {"start": 50, "end": 100, "count": 1}]},
    }
    s = crewed(
        pool,
        stations={"m": {"machines": 2, "process_time": 10, "operator": "crew"}},
        products={"w": {"release": [{"at": 0, "quantity": 14}], "route": ["m"]}},
    )
    plant = run_plant(s)
    # [0, 50]: 2 x 5 jobs; [50, 90]: 4 jobs one at a time.
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "m")] == [
        0.0,
        0.0,
        10.0,
        10.0,
        20.0,
        20.0,
        30.0,
        30.0,
        40.0,
        40.0,
        50.0,
        60.0,
        70.0,
        80.0,
    ]
    assert plant.env.now == 90.0


def test_operation_running_across_the_shift_end_blocks_the_next_start() -> None:
    """Count drops 2 -> 1 at 50 while both operators are busy until 55: one finishes and
    leaves; the other machine's next job waits for the operator still present."""
    pool = {
        "count": 2,
        "shifts": {"period": 100, "shifts": [{"start": 0, "end": 50}, {"start": 50, "end": 100, "count": 1}]},
    }
    s = crewed(
        pool,
        stations={"m": {"machines": 2, "process_time": 11, "operator": "crew"}},
        products={"w": {"release": [{"at": 0, "quantity": 12}], "route": ["m"]}},
    )
    plant = run_plant(s)
    starts = [t for t, _, _ in job_records(plant, JobEvent.START, "m")]
    # Pairs at 0, 11, 22, 33, 44 run past 50 to 55; then one at a time: 55, 66, 77, 88 ...
    assert starts[:10] == [0.0, 0.0, 11.0, 11.0, 22.0, 22.0, 33.0, 33.0, 44.0, 44.0]
    assert starts[10:] == [55.0, 66.0]


@pytest.mark.parametrize(
    ("pool", "changes"),
    [
        ({"count": 3}, [(0.0, 3)]),  # no shifts: always all present
        ({"count": 2, "shifts": {"period": 100, "shifts": [{"start": 0, "end": 50}]}}, [(0.0, 2), (50.0, 0)]),
        ({"count": 2, "shifts": {"period": 100, "shifts": [{"start": 50, "end": 100}]}}, [(0.0, 0), (50.0, 2)]),
        ({"count": 2, "shifts": {"period": 100, "shifts": [{"start": 0, "end": 100}]}}, [(0.0, 2)]),  # always on
        (  # back-to-back shifts with their own counts, then a gap
            {
                "count": 3,
                "shifts": {"period": 24, "shifts": [{"start": 8, "end": 16, "count": 1}, {"start": 0, "end": 8}]},
            },
            [(0.0, 3), (8.0, 1), (16.0, 0)],
        ),
    ],
)
def test_shift_changes(pool: dict[str, Any], changes: list[tuple[float, int]]) -> None:
    """The calendar as (time within the period, operators present from then on)."""
    assert shift_changes(PoolSpec.model_validate(pool)) == changes


def test_shift_calendar_repeats_every_period() -> None:
    """Over three periods, starts fall only in [0, 50), [100, 150), [200, 250)."""
    s = crewed(
        DAY_SHIFT,
        stations={"a": {"process_time": 7, "operator": "crew"}},
        products={"w": {"arrival": 3, "route": ["a"]}},
        horizon=300,
    )
    plant = run_plant(s)
    starts = [t for t, _, _ in job_records(plant, JobEvent.START, "a")]
    assert starts
    assert all(t % 100 < 50 for t in starts)
    assert {int(t // 100) for t in starts} == {0, 1, 2}


def test_buffer_capacity_holds_while_waiting_for_an_operator() -> None:
    """b has no buffer and its operator is away on [0, 50): the job a finishes at 1 must stay
    on a (blocked), not wait in front of b, since `buffer` counts the jobs waiting there."""
    pool = {"count": 1, "shifts": {"period": 100, "shifts": [{"start": 50, "end": 100}]}}
    s = crewed(
        pool,
        stations={"a": {"process_time": 1}, "b": {"process_time": 1, "buffer": 0, "operator": "crew"}},
        products={"w": {"release": [{"at": 0}], "route": ["a", "b"]}},
    )
    plant = run_plant(s)
    assert job_records(plant, JobEvent.ENTER, "b") == [(50.0, 0, -1)]
