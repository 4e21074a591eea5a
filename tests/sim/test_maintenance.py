"""Preventive maintenance: exact timetables for each basis and its interplay with breakdowns
and blocking, and long-run availability under age replacement against the renewal formula."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import run_plant, scenario, state_intervals
from tests.queueing import age_replacement_availability, exponential_age_replacement_availability
from twin.measure.experiment import run_replication
from twin.sim.log import MachineState

BUSY, IDLE, BLOCKED, DOWN = MachineState.BUSY, MachineState.IDLE, MachineState.BLOCKED, MachineState.DOWN
MAINT = MachineState.MAINTENANCE


def machine(
    maintenance: dict[str, Any], release: list[dict[str, float]], process_time: float = 10, **extra: Any
) -> Any:
    """One machine with ``maintenance`` (and ``failures`` etc. from ``extra``) fed by ``release``."""
    top = {key: extra.pop(key) for key in ("horizon", "warmup") if key in extra}
    return scenario(
        stations={"a": {"process_time": process_time, "maintenance": maintenance, **extra}},
        products={"w": {"release": release, "route": ["a"]}},
        **top,
    )


def test_busy_basis_interrupts_the_operation_in_hand() -> None:
    """Every 25 of processing: due at 25, five units into job 2, which resumes at 30 with its
    other 5; the clock restarts at 30 and runs out again as the last job ends at 55."""
    plant = run_plant(machine({"every": 25, "duration": 5}, [{"at": 0, "quantity": 5}]))
    assert state_intervals(plant, "a") == [(0.0, 25.0, BUSY), (25.0, 30.0, MAINT), (30.0, 55.0, BUSY)]


def test_busy_basis_without_interrupt_waits_for_the_operation_to_end() -> None:
    """Due at 25 in the middle of job 2: maintenance starts when it ends at 30."""
    plant = run_plant(machine({"every": 25, "duration": 5, "interrupt": False}, [{"at": 0, "quantity": 5}]))
    assert state_intervals(plant, "a") == [(0.0, 30.0, BUSY), (30.0, 35.0, MAINT), (35.0, 55.0, BUSY)]


def test_busy_basis_clock_stops_while_idle() -> None:
    """Idle time does not count: 20 of processing by 20, the other 5 after the release at 100."""
    plant = run_plant(machine({"every": 25, "duration": 5}, [{"at": 0, "quantity": 2}, {"at": 100}]))
    assert state_intervals(plant, "a") == [
        (0.0, 20.0, BUSY),
        (20.0, 100.0, IDLE),
        (100.0, 105.0, BUSY),
        (105.0, 110.0, MAINT),
        (110.0, 115.0, BUSY),
    ]


def test_calendar_basis_maintains_an_idle_machine() -> None:
    """Every 25 of calendar time after the last maintenance ended: 25-30 and 55-60, busy or not."""
    plant = run_plant(
        machine({"every": 25, "duration": 5, "basis": "calendar"}, [{"at": 0, "quantity": 2}, {"at": 40}], horizon=70)
    )
    assert state_intervals(plant, "a") == [
        (0.0, 20.0, BUSY),
        (20.0, 25.0, IDLE),
        (25.0, 30.0, MAINT),
        (30.0, 40.0, IDLE),
        (40.0, 50.0, BUSY),
        (50.0, 55.0, IDLE),
        (55.0, 60.0, MAINT),
        (60.0, 70.0, IDLE),
    ]


def test_calendar_basis_cancels_and_renews_calendar_failures() -> None:
    """Failures 15 after each repair or maintenance (ttr 3), maintenance every 20: the failure
    due at 33 is cancelled by the maintenance at 20, which renews the machine (next failure 37)."""
    failures = {"ttf": 15, "ttr": 3, "basis": "calendar"}
    s = machine({"every": 20, "duration": 2, "basis": "calendar"}, [{"at": 0}], 100, failures=failures, horizon=50)
    assert state_intervals(run_plant(s), "a") == [
        (0.0, 15.0, BUSY),
        (15.0, 18.0, DOWN),
        (18.0, 20.0, BUSY),
        (20.0, 22.0, MAINT),
        (22.0, 37.0, BUSY),
        (37.0, 40.0, DOWN),
        (40.0, 42.0, BUSY),
        (42.0, 44.0, MAINT),
        (44.0, 50.0, BUSY),
    ]


def test_age_basis_restarts_at_every_repair() -> None:
    """The same machine with age-based maintenance every 20: each failure (15 after the last
    renewal) comes before the machine reaches age 20, so it is never maintained."""
    failures = {"ttf": 15, "ttr": 3, "basis": "calendar"}
    s = machine({"every": 20, "duration": 2, "basis": "age"}, [{"at": 0}], 100, failures=failures, horizon=50)
    assert state_intervals(run_plant(s), "a") == [
        (0.0, 15.0, BUSY),
        (15.0, 18.0, DOWN),
        (18.0, 33.0, BUSY),
        (33.0, 36.0, DOWN),
        (36.0, 50.0, BUSY),
    ]


def test_age_basis_prevents_failures_it_comes_before() -> None:
    """Failures 25 after each renewal, age maintenance every 20: the machine never fails."""
    failures = {"ttf": 25, "ttr": 3, "basis": "calendar"}
    s = machine({"every": 20, "duration": 2, "basis": "age"}, [{"at": 0}], 100, failures=failures, horizon=50)
    assert state_intervals(run_plant(s), "a") == [
        (0.0, 20.0, BUSY),
        (20.0, 22.0, MAINT),
        (22.0, 42.0, BUSY),
        (42.0, 44.0, MAINT),
        (44.0, 50.0, BUSY),
    ]


def test_calendar_maintenance_due_during_a_repair_follows_it() -> None:
    """Down 19-22 when maintenance falls due at 20: it starts as the repair ends."""
    failures = {"ttf": 19, "ttr": 3, "basis": "calendar"}
    s = machine({"every": 20, "duration": 2, "basis": "calendar"}, [{"at": 0}], 100, failures=failures, horizon=50)
    assert state_intervals(run_plant(s), "a") == [
        (0.0, 19.0, BUSY),
        (19.0, 22.0, DOWN),
        (22.0, 24.0, MAINT),
        (24.0, 43.0, BUSY),
        (43.0, 46.0, DOWN),
        (46.0, 48.0, MAINT),
        (48.0, 50.0, BUSY),
    ]


def test_busy_failure_clock_is_renewed_by_maintenance() -> None:
    """Busy-time failures every 30 of processing, busy maintenance every 20: maintenance at
    20 renews the failure clock, so no failure ever comes."""
    failures = {"ttf": 30, "ttr": 3}
    s = machine({"every": 20, "duration": 2}, [{"at": 0}], 100, failures=failures, horizon=70)
    assert state_intervals(run_plant(s), "a") == [
        (0.0, 20.0, BUSY),
        (20.0, 22.0, MAINT),
        (22.0, 42.0, BUSY),
        (42.0, 44.0, MAINT),
        (44.0, 64.0, BUSY),
        (64.0, 66.0, MAINT),
        (66.0, 70.0, BUSY),
    ]


def test_a_blocked_machine_is_maintained_and_blocks_again() -> None:
    """a (1 per job) feeds b (10 per job, no buffer); a is blocked from 2 when maintenance is
    due at 5: maintained 5-7, blocked again until b takes its job at 11; the next maintenance
    is due at 12, as a's next operation ends, and is done while a holds that job."""
    s = scenario(
        stations={
            "a": {"process_time": 1, "maintenance": {"every": 5, "duration": 2, "basis": "calendar"}},
            "b": {"process_time": 10, "buffer": 0},
        },
        products={"w": {"release": [{"at": 0, "quantity": 3}], "route": ["a", "b"]}},
        horizon=18,
    )
    assert state_intervals(run_plant(s), "a") == [
        (0.0, 2.0, BUSY),
        (2.0, 5.0, BLOCKED),
        (5.0, 7.0, MAINT),
        (7.0, 11.0, BLOCKED),
        (11.0, 12.0, BUSY),
        (12.0, 14.0, MAINT),
        (14.0, 18.0, BLOCKED),
    ]


def test_maintenance_share_and_oee() -> None:
    """Calendar maintenance 2 every 18 on an idle machine is 2 / 20 of its time, exactly; a
    saturated machine maintained 2 every 8 of processing is busy 80% with an OEE of 1
    (planned time excludes maintenance)."""
    idle = machine({"every": 18, "duration": 2, "basis": "calendar"}, [{"at": 0}], 1, horizon=1000)
    assert run_replication(idle, 0).kpis["stations.a.maintenance"] == pytest.approx(0.1, abs=1e-12)
    busy = run_replication(machine({"every": 8, "duration": 2}, [{"at": 0, "quantity": 900}], 1, horizon=1000), 0)
    assert busy.kpis["stations.a.maintenance"] == pytest.approx(0.2, abs=1e-12)
    assert busy.kpis["stations.a.utilization"] == pytest.approx(0.8, abs=1e-12)
    assert busy.kpis["stations.a.oee"] == pytest.approx(1.0, abs=1e-12)


def saturated(failures: dict[str, Any], maintenance: dict[str, Any] | None, horizon: float, seed: int) -> Any:
    """A machine that never runs out of work: its busy share is its availability."""
    station: dict[str, Any] = {"process_time": 10, "failures": failures}
    if maintenance is not None:
        station["maintenance"] = maintenance
    quantity = int(horizon / 10) + 10
    return scenario(
        stations={"a": station},
        products={"w": {"release": [{"at": 0, "quantity": quantity}], "route": ["a"]}},
        horizon=horizon,
        seed=seed,
    )


SCALE, REPAIR, UPKEEP = 100.0, 20.0, 5.0
"""Weibull(2, 100) lifetimes (mean 88.6), repairs of 20, maintenance of 5."""


@pytest.mark.slow
@pytest.mark.parametrize("every", [25.0, 50.0, 100.0, 200.0])
def test_age_replacement_availability_matches_the_renewal_formula(every: float) -> None:
    """Weibull(shape 2) wear-out failures with age-based maintenance every T: availability
    A(T) = int_0^T R / (int_0^T R + Tp R(T) + Tf F(T)), within 2% (about 4000 renewal cycles)."""
    failures = {"ttf": {"dist": "weibull", "shape": 2, "scale": SCALE}, "ttr": REPAIR}
    maintenance = {"every": every, "basis": "age", "duration": UPKEEP}
    kpis = run_replication(saturated(failures, maintenance, 300_000, seed=int(every)), 0).kpis
    expected = age_replacement_availability(SCALE, every, UPKEEP, REPAIR)
    assert kpis["stations.a.utilization"] == pytest.approx(expected, rel=0.02)
    assert kpis["stations.a.down"] + kpis["stations.a.maintenance"] == pytest.approx(1 - expected, abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("every", [25.0, 100.0])
def test_maintenance_only_lowers_availability_under_exponential_failures(every: float) -> None:
    """Memoryless failures: maintenance renews nothing, so it only costs its own time."""
    failures = {"ttf": {"dist": "exponential", "mean": 100}, "ttr": REPAIR}
    maintenance = {"every": every, "basis": "age", "duration": UPKEEP}
    plain = run_replication(saturated(failures, None, 300_000, seed=5), 0).kpis["stations.a.utilization"]
    kept = run_replication(saturated(failures, maintenance, 300_000, seed=5), 0).kpis["stations.a.utilization"]
    assert plain == pytest.approx(100 / 120, rel=0.02)
    assert kept == pytest.approx(exponential_age_replacement_availability(100, every, UPKEEP, REPAIR), rel=0.02)
    assert kept < plain
