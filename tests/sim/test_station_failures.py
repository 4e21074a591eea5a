"""Machine failures on constant-time machines: an interrupted operation resumes with exactly
the time it had left, on a busy-time or a calendar-time clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import job_records, run_plant, scenario, state_intervals
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent, MachineState

BUSY, IDLE, BLOCKED, DOWN = MachineState.BUSY, MachineState.IDLE, MachineState.BLOCKED, MachineState.DOWN


def one_machine(failures: dict[str, Any], release: list[dict[str, float]], process_time: float = 10, **top: Any) -> Any:
    """A single 10.0 machine with ``failures``, fed by ``release`` orders."""
    return scenario(
        stations={"a": {"process_time": process_time, "failures": failures}},
        products={"w": {"release": release, "route": ["a"]}},
        **top,
    )


def starts_and_finishes(plant: Any) -> tuple[list[float], list[float]]:
    return (
        [t for t, _, _ in job_records(plant, JobEvent.START, "a")],
        [t for t, _, _ in job_records(plant, JobEvent.FINISH, "a")],
    )


def test_busy_basis_interrupts_and_resumes_with_the_remaining_time() -> None:
    """ttf 15 of busy time hits job 1 five units in; after 5 down it needs its other 5."""
    plant = run_plant(one_machine({"ttf": 15, "ttr": 5}, [{"at": 0, "quantity": 3}]))
    assert starts_and_finishes(plant) == ([0.0, 10.0, 25.0], [10.0, 25.0, 35.0])
    assert state_intervals(plant, "a") == [(0.0, 15.0, BUSY), (15.0, 20.0, DOWN), (20.0, 35.0, BUSY)]


def test_busy_basis_failure_due_at_an_operation_end_strikes_at_the_next_start() -> None:
    """After the repair at 20 the clock holds 15 again; job 1's last 5 and job 2's 10 spend it
    exactly as job 2 ends at 35. Job 3 starts at 35, fails at once, and runs [40, 50]."""
    plant = run_plant(one_machine({"ttf": 15, "ttr": 5}, [{"at": 0, "quantity": 4}]))
    assert starts_and_finishes(plant) == ([0.0, 10.0, 25.0, 35.0], [10.0, 25.0, 35.0, 50.0])
    assert state_intervals(plant, "a")[-2:] == [(35.0, 40.0, DOWN), (40.0, 50.0, BUSY)]


def test_busy_basis_clock_stops_while_idle() -> None:
    """Idle time does not wear the machine: 5 busy units are left after job 0, spent at 105."""
    plant = run_plant(one_machine({"ttf": 15, "ttr": 5}, [{"at": 0}, {"at": 100}]))
    assert starts_and_finishes(plant) == ([0.0, 100.0], [10.0, 115.0])
    assert state_intervals(plant, "a") == [
        (0.0, 10.0, BUSY),
        (10.0, 100.0, IDLE),
        (100.0, 105.0, BUSY),
        (105.0, 110.0, DOWN),
        (110.0, 115.0, BUSY),
    ]


def test_busy_basis_down_fraction_of_a_saturated_machine() -> None:
    """Always busy: down = ttr / (ttf + ttr) = 5 / 20, exactly, over 50 whole cycles."""
    rep = run_replication(one_machine({"ttf": 15, "ttr": 5}, [{"at": 0, "quantity": 200}], horizon=1000), 0)
    assert rep.kpis["stations.a.down"] == 0.25
    assert rep.kpis["stations.a.utilization"] == 0.75
    assert rep.kpis["completed"] == 75  # 750 busy units / 10


def test_busy_basis_never_fails_an_idle_machine() -> None:
    """A machine that has worked only 1 unit of its 15 never goes down."""
    rep = run_replication(one_machine({"ttf": 15, "ttr": 5}, [{"at": 0}], process_time=1, horizon=1000), 0)
    assert rep.kpis["stations.a.down"] == 0.0


def test_calendar_basis_interrupts_and_resumes_with_the_remaining_time() -> None:
    """Failures at 17, 38, 59 (ttf 17 from each repair, ttr 4) cut jobs 1, 3 and 5."""
    plant = run_plant(one_machine({"ttf": 17, "ttr": 4, "basis": "calendar"}, [{"at": 0, "quantity": 6}]))
    assert starts_and_finishes(plant) == (
        [0.0, 10.0, 24.0, 34.0, 48.0, 58.0],
        [10.0, 24.0, 34.0, 48.0, 58.0, 72.0],
    )
    assert [span for span in state_intervals(plant, "a") if span[2] == DOWN] == [
        (17.0, 21.0, DOWN),
        (38.0, 42.0, DOWN),
        (59.0, 63.0, DOWN),
    ]


def test_calendar_basis_fails_an_idle_machine_and_delays_the_next_start() -> None:
    """Down over [15, 25] with nothing to do: the job released at 20 waits until 25."""
    plant = run_plant(one_machine({"ttf": 15, "ttr": 10, "basis": "calendar"}, [{"at": 20}], process_time=3))
    assert job_records(plant, JobEvent.ENTER, "a") == [(20.0, 0, -1)]
    assert starts_and_finishes(plant) == ([25.0], [28.0])
    assert state_intervals(plant, "a") == [(0.0, 15.0, IDLE), (15.0, 25.0, DOWN), (25.0, 28.0, BUSY)]


@pytest.mark.parametrize("quantity", [1, 200])  # nearly always idle; always busy
def test_calendar_basis_down_fraction_ignores_load(quantity: int) -> None:
    """Down = ttr / (ttf + ttr) = 3 / 20 over 50 whole cycles, busy or not."""
    s = one_machine({"ttf": 17, "ttr": 3, "basis": "calendar"}, [{"at": 0, "quantity": quantity}], horizon=1000)
    assert run_replication(s, 0).kpis["stations.a.down"] == pytest.approx(0.15, abs=1e-12)


def test_calendar_failure_of_a_blocked_machine() -> None:
    """A blocked machine can fail; its held job still moves on when room frees, and the
    machine takes new work only once repaired."""
    s = scenario(
        stations={
            "a": {"process_time": 1, "failures": {"ttf": 2.5, "ttr": 3, "basis": "calendar"}},
            "b": {"process_time": 4, "buffer": 0},
        },
        products={"w": {"release": [{"at": 0, "quantity": 3}], "route": ["a", "b"]}},
    )
    plant = run_plant(s)
    assert plant.env.now == 13.0
    # Job 1 leaves the broken machine at 5 (b frees); job 2 waits for the repair at 5.5.
    assert job_records(plant, JobEvent.ENTER, "b") == [(1.0, 0, -1), (5.0, 1, -1), (9.0, 2, -1)]
    assert job_records(plant, JobEvent.START, "a") == [(0.0, 0, 0), (1.0, 1, 0), (5.5, 2, 0)]
    assert state_intervals(plant, "a") == [
        (0.0, 2.0, BUSY),
        (2.0, 2.5, BLOCKED),
        (2.5, 5.5, DOWN),
        (5.5, 6.5, BUSY),
        (6.5, 8.0, BLOCKED),
        (8.0, 11.0, DOWN),
        (11.0, 13.0, IDLE),
    ]


def test_each_machine_fails_on_its_own_stream() -> None:
    """Parallel machines draw their own failure times: their down spans differ."""
    s = scenario(
        stations={
            "m": {
                "machines": 2,
                "process_time": 1,
                "failures": {
                    "ttf": {"dist": "exponential", "mean": 50},
                    "ttr": {"dist": "exponential", "mean": 5},
                    "basis": "calendar",
                },
            }
        },
        products={"w": {"release": [{"at": 0}], "route": ["m"]}},
        horizon=500,
    )
    plant = run_plant(s)
    down = [[span[:2] for span in state_intervals(plant, "m", m) if span[2] == DOWN] for m in (0, 1)]
    assert down[0] and down[1]
    assert down[0] != down[1]


def test_random_failures_down_fraction_matches_theory() -> None:
    """Exponential ttf (mean 90) and ttr (mean 10) on calendar time: down ~ 10 / 100."""
    failures = {
        "ttf": {"dist": "exponential", "mean": 90},
        "ttr": {"dist": "exponential", "mean": 10},
        "basis": "calendar",
    }
    s = one_machine(failures, [{"at": 0}], process_time=1, horizon=200_000)
    # ~2000 cycles: the standard error of the fraction is about 0.003.
    assert run_replication(s, 0).kpis["stations.a.down"] == pytest.approx(0.1, abs=0.012)


def test_calendar_failure_at_an_operation_end_does_not_hold_the_finished_job() -> None:
    """Job 2 runs [25, 35]; the failure due at 35 must not delay its FINISH to 40 (the busy
    basis, with a failure due exactly at an operation end, lets the operation finish)."""
    plant = run_plant(one_machine({"ttf": 15, "ttr": 5, "basis": "calendar"}, [{"at": 0, "quantity": 3}]))
    assert starts_and_finishes(plant)[1] == [10.0, 25.0, 35.0]
