"""Schedules of job-shop runs: read from the event log, checked against the instance.

Jobs, operations and machines are numbered from 0 as in the instance file, as
``twin jobshop --json`` prints them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from twin.dispatching import rule_names
from twin.jobshop.instances import JobShopInstance
from twin.scenario import Scenario
from twin.sim.log import EventLog, JobEvent
from twin.sim.plant import Plant

__all__ = ["JobShopRun", "ScheduleError", "ScheduledOperation", "check_schedule", "run_rule", "schedule_from_log"]

_START, _FINISH = int(JobEvent.START), int(JobEvent.FINISH)


class ScheduleError(RuntimeError):
    """A method produced a schedule that breaks its instance: a bug, never a result."""


class ScheduledOperation(NamedTuple):
    """One operation as it ran; jobs, operations and machines numbered from 0 as in the file."""

    job: int
    operation: int
    machine: int
    start: float
    end: float


def schedule_from_log(log: EventLog) -> list[ScheduledOperation]:
    """The operations of a job-shop run, from its event log, sorted by job and operation.

    ``job`` is the product index (product ``j<i>`` is job ``i``), ``machine`` the station
    index (station ``m<k>`` is machine ``k``); an operation interrupted by a breakdown counts
    from its start to its finish.
    """
    cols = log.columns()
    kind = cols["job_kind"]
    mask = (kind == _START) | (kind == _FINISH)
    product = cols["job_product"]
    started: dict[int, tuple[int, int, float]] = {}
    count: dict[int, int] = {}
    schedule = []
    for job_id, station, time, k in zip(
        cols["job_id"][mask].tolist(),
        cols["job_station"][mask].tolist(),
        cols["job_time"][mask].tolist(),
        kind[mask].tolist(),
        strict=True,
    ):
        if k == _START:
            operation = count.get(job_id, 0)
            count[job_id] = operation + 1
            started[job_id] = (operation, station, time)
        else:
            operation, machine, start = started.pop(job_id)
            schedule.append(ScheduledOperation(int(product[job_id]), operation, machine, start, time))
    schedule.sort(key=lambda op: (op.job, op.operation))
    return schedule


def check_schedule(
    instance: JobShopInstance, schedule: Sequence[ScheduledOperation], exact_durations: bool = True
) -> list[str]:
    """Problems that make ``schedule`` infeasible for ``instance`` (empty when feasible).

    Checks that every operation appears once on its machine, that operations of a job run in
    order (precedence), that a machine runs one operation at a time, and, with
    ``exact_durations``, that each lasts its duration (a stochastic shop's do not).
    """
    problems = []
    seen = {(op.job, op.operation): op for op in schedule}
    if len(seen) != len(schedule):
        problems.append("an operation is scheduled twice")
    for j, ops in enumerate(instance.jobs):
        previous_end = -np.inf
        for o, (machine, duration) in enumerate(ops):
            op = seen.get((j, o))
            if op is None:
                problems.append(f"job {j} operation {o}: missing")
                continue
            if op.machine != machine:
                problems.append(f"job {j} operation {o}: on machine {op.machine}, expected {machine}")
            if exact_durations and abs(op.end - op.start - duration) > 1e-9:
                problems.append(f"job {j} operation {o}: lasts {op.end - op.start:g}, expected {duration}")
            if op.end < op.start:
                problems.append(f"job {j} operation {o}: ends before it starts")
            if op.start < previous_end - 1e-9:
                problems.append(f"job {j} operation {o}: starts at {op.start:g} before operation {o - 1} ends")
            previous_end = op.end
    extra = set(seen) - {(j, o) for j, ops in enumerate(instance.jobs) for o in range(len(ops))}
    problems += [f"job {j} operation {o}: not in the instance" for j, o in sorted(extra)]
    by_machine: dict[int, list[ScheduledOperation]] = {}
    for op in schedule:
        by_machine.setdefault(op.machine, []).append(op)
    for machine, on_machine in sorted(by_machine.items()):
        on_machine.sort(key=lambda op: (op.start, op.end))
        for a, b in itertools.pairwise(on_machine):
            if b.start < a.end - 1e-9:
                problems.append(f"machine {machine}: job {a.job} and job {b.job} overlap at {b.start:g}")
    return problems


@dataclass(frozen=True)
class JobShopRun:
    """A job-shop schedule as the twin simulated it."""

    makespan: float
    schedule: list[ScheduledOperation]


def run_rule(scenario: Scenario, rule: str | None = None, seed: int | None = None) -> JobShopRun:
    """Simulate a (job-shop) scenario to the end with ``rule`` at every station (the
    scenario's own rules when None): its makespan and schedule.

    Raises:
        KeyError: ``rule`` is unknown.
        ValueError: the scenario has a horizon (it would not run to the last job).
    """
    if scenario.horizon is not None:
        raise ValueError(f"a job-shop run needs a scenario without horizon (got {scenario.horizon:g})")
    if rule is not None:
        if rule not in rule_names():
            raise KeyError(f"unknown dispatching rule {rule!r} (expected one of: {', '.join(rule_names())})")
        stations = {name: spec.model_copy(update={"dispatching": rule}) for name, spec in scenario.stations.items()}
        scenario = scenario.model_copy(update={"stations": stations})
    plant = Plant(scenario, seed=seed)
    makespan = plant.run()
    return JobShopRun(makespan, schedule_from_log(plant.log))
