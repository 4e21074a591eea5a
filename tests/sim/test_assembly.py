"""Assembly: an exact timetable, and on random plants the invariants a kit store must keep:
no job assembled from components that have not arrived, every component consumed once,
conservation of every component; and the motor plant example never stalls."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import job_records, run_plant, scenario, state_intervals
from twin.measure.experiment import run_replication
from twin.scenario import load_scenario
from twin.sim.log import JobEvent, MachineState

MOTOR_PLANT = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "motor_plant.yaml"
BUSY, IDLE, BLOCKED = MachineState.BUSY, MachineState.IDLE, MachineState.BLOCKED


def kit_line(buffer: int | None = None, quantity: int = 2, **top: Any) -> Any:
    """Main jobs through a (1 each), components through b (1 each), assembled at asm (2 each)."""
    asm: dict[str, Any] = {"process_time": 2, "assemble": {"c": quantity}}
    if buffer is not None:
        asm["buffer"] = buffer
    return scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 1}, "asm": asm},
        products={
            "m": {"release": [{"at": 0, "quantity": 3}], "route": ["a", "asm"]},
            "c": {"release": [{"at": 0, "quantity": 3 * quantity}], "route": ["b", "asm"]},
        },
        **top,
    )


def test_assembly_timetable() -> None:
    """Components reach asm at 1, 2, ..., 6; main job k waits for its pair: it starts at 2,
    4 and 6 (2 each), consuming components (3, 4), (5, 6), (7, 8), which leave the plant."""
    plant = run_plant(kit_line())
    assert job_records(plant, JobEvent.START, "asm") == [(2.0, 0, 0), (4.0, 1, 0), (6.0, 2, 0)]
    assert job_records(plant, JobEvent.ASSEMBLED, "asm") == [
        (2.0, 3, 0),
        (2.0, 4, 0),
        (4.0, 5, 0),
        (4.0, 6, 0),
        (6.0, 7, 0),
        (6.0, 8, 0),
    ]
    assert [job for _, job, _ in job_records(plant, JobEvent.EXIT)] == [0, 1, 2]
    assert plant.in_system == 0 and plant.left == plant.arrived == 9
    assert plant.env.now == 8.0


def test_without_a_kit_a_free_machine_makes_no_room() -> None:
    """With no buffer at asm, main jobs stay on a (blocked) until a kit is complete there."""
    plant = run_plant(kit_line(buffer=0))
    enter_main = [t for t, job, _ in job_records(plant, JobEvent.ENTER, "asm") if job < 3]
    assert enter_main == [2.0, 4.0, 6.0]
    assert state_intervals(plant, "a")[:3] == [(0.0, 1.0, BUSY), (1.0, 2.0, BLOCKED), (2.0, 3.0, BUSY)]


def test_kpis_count_consumed_components_out_of_the_plant() -> None:
    """WIP falls when components are consumed; only the assembled jobs are completed."""
    rep = run_replication(kit_line(horizon=10), 0)
    assert rep.kpis["completed"] == 3
    # Jobs in the plant: 9 at 0, one component leaves at each of 2, 2, 4, 4, 6, 6, one main
    # job at each exit 4, 6, 8; none after 8.
    levels = [(0, 2, 9), (2, 4, 7), (4, 6, 4), (6, 8, 1), (8, 10, 0)]
    assert rep.kpis["wip_mean"] == pytest.approx(sum((b - a) * n for a, b, n in levels) / 10)


def test_a_reworked_job_keeps_its_components() -> None:
    """Sent back to assembly by the test, an assembled job starts again without a new kit."""
    s = scenario(
        stations={
            "asm": {"process_time": 1, "assemble": {"c": 1}},
            "test": {"process_time": 1, "rework": {"probability": 0.5, "to": "asm"}},
        },
        products={
            "m": {"release": [{"at": 0, "quantity": 30}], "route": ["asm", "test"]},
            "c": {"release": [{"at": 0, "quantity": 30}], "route": ["asm"]},
        },
        seed=3,
    )
    plant = run_plant(s)
    starts = Counter(job for _, job, _ in job_records(plant, JobEvent.START, "asm"))
    assert max(starts.values()) > 1, "some job was reworked"
    assert len(job_records(plant, JobEvent.ASSEMBLED)) == len(starts) == 30
    assert plant.in_system == 0


def random_plant(seed: int) -> Any:
    """Two components (1 and 2 per job) from lines with finite buffers and breakdowns,
    arriving faster or slower than assembly needs them, into a 2-machine assembly station."""
    rng = np.random.default_rng(seed)
    exp = lambda mean: {"dist": "exponential", "mean": float(mean)}  # noqa: E731
    return scenario(
        stations={
            "main": {"process_time": exp(rng.uniform(0.5, 1.5)), "buffer": int(rng.integers(0, 3))},
            "shaft": {"process_time": exp(rng.uniform(0.5, 1.5)), "buffer": int(rng.integers(0, 3))},
            "core": {
                "process_time": exp(rng.uniform(0.2, 0.8)),
                "failures": {"ttf": exp(50), "ttr": exp(5)},
            },
            "asm": {
                "machines": 2,
                "buffer": int(rng.integers(0, 4)),
                "process_time": exp(rng.uniform(1, 3)),
                "assemble": {"shaft": 1, "core": 2},
            },
        },
        products={
            "m": {"arrival": exp(rng.uniform(1.5, 3)), "route": ["main", "asm"]},
            "shaft": {"arrival": exp(rng.uniform(1.5, 3)), "route": ["shaft", "asm"]},
            "core": {"arrival": exp(rng.uniform(0.8, 1.6)), "route": ["core", "asm"]},
        },
        horizon=2000,
        seed=seed,
    )


def jobs_in_plant(plant: Any) -> Counter[int]:
    """Jobs the live model holds, by product: in buffers, kit stores, on machines, waiting
    upstream of a station or at the plant entrance."""
    held: Counter[int] = Counter()
    for station in plant.stations.values():
        held.update(job.product for job in station.queue)
        held.update(job.product for job, holder in station.waiting if holder is None)
        held.update(machine.job.product for machine in station.machines if machine.job is not None)
        if station.kits is not None:
            for stock in station.kits.stock.values():
                held.update(job.product for job in stock)
    return held


@pytest.mark.parametrize("seed", range(8))
def test_kit_invariants_on_random_plants(seed: int) -> None:
    s = random_plant(seed)
    plant = run_plant(s)
    cols = plant.log.columns()
    asm = list(s.stations).index("asm")
    products = np.asarray(cols["job_product"])
    kind, job, time, station = cols["job_kind"], cols["job_id"], cols["job_time"], cols["job_station"]

    at_asm = (kind == JobEvent.ENTER) & (station == asm)
    entered = {int(j): float(t) for j, t in zip(job[at_asm], time[at_asm], strict=True) if products[j] != 0}
    consumed = job[kind == JobEvent.ASSEMBLED]
    # Every component is consumed at most once, only after it reached the assembly station,
    # and appears in no record after it.
    assert len(set(consumed.tolist())) == len(consumed)
    last_record = {int(j): i for i, j in enumerate(job)}
    for i in np.flatnonzero(kind == JobEvent.ASSEMBLED):
        component = int(job[i])
        assert entered[component] <= time[i]
        assert last_record[component] == i
    # Never more assembled than arrived, at any moment: the cumulative counts by record order.
    for product in (1, 2):
        arriving = ((kind == JobEvent.ENTER) & (station == asm) & (products[job] == product)).astype(int)
        leaving = ((kind == JobEvent.ASSEMBLED) & (products[job] == product)).astype(int)
        assert np.all(np.cumsum(arriving) - np.cumsum(leaving) >= 0)
    # Each main job that started at assembly took exactly one kit: 1 shaft and 2 cores.
    kits = len({int(j) for j in job[(kind == JobEvent.START) & (station == asm)]})
    assert kits > 100
    assert Counter(products[consumed].tolist()) == Counter({1: kits, 2: 2 * kits})
    # Conservation: of every product, arrived = consumed + completed + held in the plant now.
    arrived = Counter(products[job[kind == JobEvent.ARRIVE]].tolist())
    left = Counter(products[job[(kind == JobEvent.EXIT) | (kind == JobEvent.ASSEMBLED)]].tolist())
    assert arrived == left + jobs_in_plant(plant)
    assert plant.arrived == plant.left + plant.in_system


@pytest.mark.slow
def test_motor_plant_runs_at_its_takt_without_stalling() -> None:
    """The example with finite buffers, AGVs, batch ovens and a rework loop through assembly
    completes a motor every 4 min on average day after day: nothing deadlocks."""
    s = load_scenario(MOTOR_PLANT)
    plant = run_plant(s)
    exits = np.array([t for t, _, _ in job_records(plant, JobEvent.EXIT)])
    days = np.histogram(exits, bins=np.arange(s.warmup, s.horizon + 1, 1440))[0]  # type: ignore[operator]
    assert np.all(days >= 0.95 * 1440 / 4), days
