"""Batch stations: exact timetables with and without ``max_wait``, and the mean wait for a
batch to fill from Poisson arrivals against ``(b - 1) / (2 lambda)``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.helpers import job_records, run_plant, scenario, state_intervals
from tests.queueing import batch_fill_wait
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent, MachineState

BUSY, IDLE, BLOCKED = MachineState.BUSY, MachineState.IDLE, MachineState.BLOCKED


def oven(batch: dict[str, Any], arrivals: list[float], process_time: float = 10, **top: Any) -> Any:
    """One batch station fed by one job at each of ``arrivals``."""
    return scenario(
        stations={"oven": {"process_time": process_time, "batch": batch}},
        products={"w": {"release": [{"at": t} for t in arrivals], "route": ["oven"]}},
        **top,
    )


def batches(plant: Any, station: str = "oven") -> list[tuple[float, int, list[int]]]:
    """``(start, machine, jobs)`` of every batch, in start order."""
    grouped: dict[tuple[float, int], list[int]] = {}
    for time, job, machine in job_records(plant, JobEvent.START, station):
        grouped.setdefault((time, machine), []).append(job)
    return [(time, machine, jobs) for (time, machine), jobs in grouped.items()]


def test_full_batches_only_without_max_wait() -> None:
    """Size 3, one oven of 10: jobs 0-2 start together at 2 (the third arrival), 3-5 at 12
    (the oven is free again; job 5 came at 6), and the last two never start."""
    plant = run_plant(oven({"size": 3}, [0, 1, 2, 3, 4, 6, 30, 31], horizon=100))
    assert batches(plant) == [(2.0, 0, [0, 1, 2]), (12.0, 0, [3, 4, 5])]
    assert [t for t, _, _ in job_records(plant, JobEvent.FINISH, "oven")] == [12.0] * 3 + [22.0] * 3
    assert state_intervals(plant, "oven") == [(0.0, 2.0, IDLE), (2.0, 22.0, BUSY), (22.0, 100.0, IDLE)]


def test_max_wait_starts_smaller_batches_by_hand_timetable() -> None:
    """Size 3, max_wait 4, one oven of 10:

    - 0, 1, 2 arrive: a full batch at 2, done at 12;
    - 3 arrives and has waited 4 at 7, but the oven is busy: it starts alone when it frees at 12;
    - 20 arrives: the oven is free, but the batch is not full: it starts alone at 24;
    - 30 and 32 arrive: the first has waited 4 at 34, so the pair starts then;
    - 50, 51, 52: full at 52, at once.
    """
    arrivals = [0, 1, 2, 3, 20, 30, 32, 50, 51, 52]
    plant = run_plant(oven({"size": 3, "max_wait": 4}, arrivals))
    assert batches(plant) == [
        (2.0, 0, [0, 1, 2]),
        (12.0, 0, [3]),
        (24.0, 0, [4]),
        (34.0, 0, [5, 6]),
        (52.0, 0, [7, 8, 9]),
    ]
    starts = {job: time for time, job, _ in job_records(plant, JobEvent.START)}
    waits = [starts[job] - arrival for job, arrival in enumerate(arrivals)]
    assert waits == [2, 1, 0, 9, 4, 4, 2, 2, 1, 0]
    rep = run_replication(oven({"size": 3, "max_wait": 4}, arrivals), 0)
    assert rep.kpis["stations.oven.batch_mean"] == 2.0  # 10 jobs in 5 batches
    assert rep.kpis["stations.oven.wait_mean"] == pytest.approx(sum(waits) / 10)


def test_two_ovens_and_a_batch_as_long_as_its_longest_job() -> None:
    """A batch of a 3 and a 5 job lasts 5; the second oven takes the next batch meanwhile."""
    s = scenario(
        stations={"oven": {"machines": 2, "batch": {"size": 2}}},
        products={
            "short": {"release": [{"at": 0}], "route": [{"station": "oven", "process_time": 3}]},
            "long": {"release": [{"at": 0}], "route": [{"station": "oven", "process_time": 5}]},
            "quick": {"release": [{"at": 2, "quantity": 2}], "route": [{"station": "oven", "process_time": 1}]},
        },
        horizon=20,
    )
    plant = run_plant(s)
    assert batches(plant) == [(0.0, 0, [0, 1]), (2.0, 1, [2, 3])]
    assert job_records(plant, JobEvent.FINISH, "oven") == [(3.0, 2, 1), (3.0, 3, 1), (5.0, 0, 0), (5.0, 1, 0)]


def test_oven_stays_blocked_until_its_last_job_has_left() -> None:
    """A batch of 3 ends at 10; the next station (buffer 0, 4 per job) takes one job at a
    time, so the oven is blocked until the last job leaves at 18."""
    s = scenario(
        stations={"oven": {"process_time": 10, "batch": {"size": 3}}, "pack": {"process_time": 4, "buffer": 0}},
        products={"w": {"release": [{"at": 0, "quantity": 3}], "route": ["oven", "pack"]}},
        horizon=25,
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "pack")] == [10.0, 14.0, 18.0]
    assert state_intervals(plant, "oven") == [(0.0, 10.0, BUSY), (10.0, 18.0, BLOCKED), (18.0, 25.0, IDLE)]


def test_room_in_front_of_a_free_oven_is_a_whole_batch() -> None:
    """With buffer 0 a free oven of size 4 still lets 4 jobs gather; a fifth waits upstream."""
    s = scenario(
        stations={"cut": {"process_time": 1}, "oven": {"process_time": 20, "buffer": 0, "batch": {"size": 4}}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["cut", "oven"]}},
        horizon=30,
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.ENTER, "oven")] == [1.0, 2.0, 3.0, 4.0, 24.0]
    assert batches(plant) == [(4.0, 0, [0, 1, 2, 3])]
    assert (5.0, 24.0, BLOCKED) in state_intervals(plant, "cut")


def test_setup_is_per_batch_and_logged_for_every_job() -> None:
    """A family change sets up the oven once for the batch; each job logs its SETUP."""
    s = scenario(
        stations={"oven": {"process_time": 10, "batch": {"size": 2}, "setup": {"default": 3}}},
        products={
            "a": {"release": [{"at": 0, "quantity": 2}], "route": ["oven"]},
            "b": {"release": [{"at": 0, "quantity": 2}], "route": ["oven"]},
        },
        horizon=30,
    )
    plant = run_plant(s)
    assert job_records(plant, JobEvent.SETUP, "oven") == [(10.0, 2, 0), (10.0, 3, 0)]
    assert batches(plant) == [(0.0, 0, [0, 1]), (13.0, 0, [2, 3])]


@pytest.mark.slow
@pytest.mark.parametrize("size", [2, 5, 10])
def test_poisson_batch_fill_wait_matches_theory(size: int) -> None:
    """Poisson arrivals at rate 1 into an oven that is always free when a batch fills (its
    cycle of 0.1 is far shorter than the fill time): the mean wait in the buffer is the mean
    wait for the batch to fill, (b - 1) / (2 lambda), within 3%."""
    s = scenario(
        stations={"oven": {"process_time": 0.1, "batch": {"size": size}}},
        products={"w": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["oven"]}},
        horizon=60_000,
        warmup=100,
        seed=size,
    )
    rep = run_replication(s, 0)
    assert rep.kpis["stations.oven.wait_mean"] == pytest.approx(batch_fill_wait(size, 1.0), rel=0.03)
    assert rep.kpis["stations.oven.batch_mean"] == pytest.approx(size, abs=1e-9)


def test_batch_sizes_never_exceed_the_size() -> None:
    """Bursty arrivals (many at one instant) still give batches of at most ``size``."""
    s = oven({"size": 4, "max_wait": 2}, [0] * 9 + [5] * 3, process_time=1)
    sizes = Counter(len(jobs) for _, _, jobs in batches(run_plant(s)))
    assert sizes == {4: 2, 1: 1, 3: 1}
