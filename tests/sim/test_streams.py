"""Random streams: one per element, keyed by name, so scenario comparisons use common random
numbers and a seed reproduces a run exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.helpers import job_records, log_digest, run_plant, scenario
from twin.sim.log import JobEvent
from twin.sim.streams import RandomStreams


def random_line(**b: Any) -> dict[str, Any]:
    """Two products with random arrivals through a -> b; ``b`` overrides station b."""
    return {
        "stations": {
            "a": {
                "process_time": {"dist": "exponential", "mean": 0.8},
                "failures": {"ttf": {"dist": "exponential", "mean": 30}, "ttr": 2},
            },
            "b": {"process_time": {"dist": "uniform", "low": 0.5, "high": 1.5}, "buffer": 2, "scrap": 0.1} | b,
        },
        "products": {
            "x": {"arrival": {"dist": "exponential", "mean": 2.0}, "route": ["a", "b"], "due_date": {"slack": 10}},
            "y": {"arrival": {"dist": "exponential", "mean": 3.0}, "route": ["b", "a"], "process_time": {"b": 1.2}},
        },
        "horizon": 300,
    }


def arrivals(plant: Any) -> list[tuple[float, int]]:
    """(time, product) of each arrival."""
    return [(t, plant.log.job_product[job]) for t, job, _ in job_records(plant, JobEvent.ARRIVE)]


def test_same_streams_for_the_same_name() -> None:
    """A generator is a pure function of (seed, replication, name)."""
    first = RandomStreams(7, 2).generator("arrival:x").random(5)
    again = RandomStreams(7, 2).generator("arrival:x").random(5)
    assert first.tolist() == again.tolist()


@pytest.mark.parametrize(
    ("seed", "replication", "name"),
    [
        (8, 2, "arrival:x"),  # another seed
        (7, 3, "arrival:x"),  # another replication
        (7, 2, "arrival:y"),  # another element
    ],
)
def test_other_key_other_stream(seed: int, replication: int, name: str) -> None:
    """Changing any part of the key gives unrelated numbers."""
    base = RandomStreams(7, 2).generator("arrival:x").random(5)
    other = RandomStreams(seed, replication).generator(name).random(5)
    assert not np.allclose(base, other)


@pytest.mark.parametrize(
    "change",
    [
        {"dispatching": "lifo"},  # another rule at b
        {"process_time": {"dist": "exponential", "mean": 0.3}},  # another process time at b
        {"buffer": 0, "machines": 2},  # another layout at b
        {"failures": {"ttf": 5, "ttr": 1, "basis": "calendar"}},  # failures added at b
        {"scrap": 0.0},  # scrap removed at b
    ],
)
def test_changing_a_station_keeps_the_arrivals(change: dict[str, Any]) -> None:
    """Common random numbers: arrival times do not depend on any station's settings."""
    base = run_plant(scenario(**random_line()))
    changed = run_plant(scenario(**random_line(**change)))
    assert arrivals(changed) == arrivals(base)
    assert log_digest(changed) != log_digest(base)  # the change did change the run


def test_a_jobs_process_times_do_not_depend_on_the_rule() -> None:
    """Times are drawn per job on arrival: under FIFO and SPT each job takes the same time at
    a station without failures (START to FINISH)."""

    def durations(rule: str) -> dict[int, float]:
        s = scenario(
            stations={"m": {"process_time": {"dist": "exponential", "mean": 0.9}, "dispatching": rule}},
            products={
                "x": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["m"]},
                "y": {
                    "arrival": {"dist": "exponential", "mean": 1.0},
                    "route": ["m"],
                    "process_time": {"m": {"dist": "exponential", "mean": 0.5}},
                },
            },
            horizon=200,
        )
        plant = run_plant(s)
        start = {job: t for t, job, _ in job_records(plant, JobEvent.START, "m")}
        order.append(list(start))
        return {job: t - start[job] for t, job, _ in job_records(plant, JobEvent.FINISH, "m")}

    order: list[list[int]] = []
    fifo, spt = durations("fifo"), durations("spt")
    assert order[0] != order[1]  # the rules did serve jobs in different orders
    common = fifo.keys() & spt.keys()
    assert len(common) > 100
    # Equal up to rounding: FINISH - START re-derives the drawn time from two clock readings.
    assert [job for job in common if abs(fifo[job] - spt[job]) > 1e-9] == []


def test_same_seed_same_log() -> None:
    """Two runs of one scenario and seed give bit-identical log columns."""
    s = scenario(**random_line())
    first, second = run_plant(s, seed=11), run_plant(s, seed=11)
    for name, column in first.log.columns().items():
        assert column.tobytes() == second.log.columns()[name].tobytes(), name


@pytest.mark.parametrize(("seed", "replication"), [(12, 0), (11, 1)])  # another seed; another replication
def test_other_seed_or_replication_other_log(seed: int, replication: int) -> None:
    """A different seed, or replication, gives a different run."""
    s = scenario(**random_line())
    assert log_digest(run_plant(s, seed=11)) != log_digest(run_plant(s, seed=seed, replication=replication))


def test_scenario_seed_is_the_default() -> None:
    """`Plant(scenario)` uses the scenario's own seed."""
    s = scenario(**random_line(), seed=11)
    assert log_digest(run_plant(s)) == log_digest(run_plant(s, seed=11))
