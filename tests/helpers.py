"""Small builders and log readers shared by the model tests.

Scenarios are built in code as plain data and validated with :func:`parse_scenario`, exactly
as a scenario file would be; the readers turn a plant's columnar event log into short Python
lists that hand-computed expectations can be compared with.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from twin.scenario import Scenario, parse_scenario
from twin.sim.log import JobEvent, MachineState
from twin.sim.plant import Plant

__all__ = [
    "busy_intervals",
    "job_records",
    "log_digest",
    "run_plant",
    "scenario",
    "state_fractions",
    "state_intervals",
]


def scenario(stations: dict[str, Any], products: dict[str, Any], **top: Any) -> Scenario:
    """A validated scenario named ``test`` from plain ``stations`` and ``products`` data."""
    return parse_scenario({"name": "test", "products": products, "stations": stations, **top})


def run_plant(s: Scenario, seed: int | None = None, replication: int = 0) -> Plant:
    """Build and run one replication; the plant keeps its log and counters."""
    plant = Plant(s, seed=seed, replication=replication)
    plant.run()
    return plant


def job_records(plant: Plant, kind: JobEvent, station: str | None = None) -> list[tuple[float, int, int]]:
    """``(time, job, machine)`` of each ``kind`` record, in log order, at ``station`` if given."""
    cols = plant.log.columns()
    mask = cols["job_kind"] == kind
    if station is not None:
        mask &= cols["job_station"] == list(plant.stations).index(station)
    return [
        (float(t), int(j), int(m))
        for t, j, m in zip(cols["job_time"][mask], cols["job_id"][mask], cols["job_machine"][mask], strict=True)
    ]


def state_intervals(plant: Plant, station: str, machine: int = 0) -> list[tuple[float, float, MachineState]]:
    """``(start, end, state)`` of one machine's states up to the end of the run, zero-length
    spans dropped and equal neighbours merged."""
    gid = plant.stations[station].machines[machine].gid
    cols = plant.log.columns()
    mine = cols["state_machine"] == gid
    times = [float(t) for t in cols["state_time"][mine]] + [plant.env.now]
    codes = [MachineState(int(c)) for c in cols["state_code"][mine]]
    spans: list[tuple[float, float, MachineState]] = []
    for start, end, code in zip(times, times[1:], codes, strict=False):
        if end <= start:
            continue
        if spans and spans[-1][2] == code and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end, code)
        else:
            spans.append((start, end, code))
    return spans


def busy_intervals(plant: Plant, station: str) -> list[tuple[float, float]]:
    """``(START, FINISH)`` of each finished operation at ``station``, in start order."""
    cols = plant.log.columns()
    index = list(plant.stations).index(station)
    open_ops: dict[tuple[int, int], float] = {}
    spans: list[tuple[float, float]] = []
    for t, job, machine, kind, where in zip(
        cols["job_time"], cols["job_id"], cols["job_machine"], cols["job_kind"], cols["job_station"], strict=True
    ):
        if where != index:
            continue
        if kind == JobEvent.START:
            open_ops[(int(job), int(machine))] = float(t)
        elif kind == JobEvent.FINISH:
            spans.append((open_ops.pop((int(job), int(machine))), float(t)))
    return sorted(spans)


def state_fractions(plant: Plant, station: str) -> dict[MachineState, float]:
    """Time fraction of each state over the station's machines and the whole run."""
    total = {state: 0.0 for state in MachineState}
    machines = plant.stations[station].machines
    for m in range(len(machines)):
        for start, end, state in state_intervals(plant, station, m):
            total[state] += end - start
    return {state: spent / (len(machines) * plant.env.now) for state, spent in total.items()}


def log_digest(plant: Plant) -> str:
    """SHA-256 of every log column's bytes, in a fixed column order."""
    digest = hashlib.sha256()
    for name, column in sorted(plant.log.columns().items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(column).tobytes())
    return digest.hexdigest()
