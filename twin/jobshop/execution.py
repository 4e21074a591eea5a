"""A fixed plan carried out on a floor whose times differ: right-shift execution.

A schedule made for the textbook instance fixes each machine's sequence of operations. On
the floor, operations last longer or shorter, jobs arrive later, machines break down; the
plan's *sequences* are kept and every operation starts as soon as its machine has finished
the previous one in the sequence and its job the previous operation (and the job has been
released): the schedule shifts right (or left) around the differences, and no machine ever
takes a job out of the planned order. This is the baseline a planner's schedule gets in
a noisy shop, without rescheduling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twin.jobshop.instances import JobShopInstance
from twin.jobshop.schedules import ScheduledOperation

__all__ = ["Breakdowns", "machine_sequences", "right_shift"]


def machine_sequences(schedule: Sequence[ScheduledOperation], machines: int) -> list[list[int]]:
    """Per machine, the jobs in the order the schedule runs them (by start time)."""
    sequences: list[list[int]] = [[] for _ in range(machines)]
    for op in sorted(schedule, key=lambda op: (op.start, op.end, op.job)):
        sequences[op.machine].append(op.job)
    return sequences


class Breakdowns:
    """Busy-time breakdowns of each machine: after an exponential busy time of mean
    ``mtbf`` the machine fails and the running operation pauses for an exponential repair
    of mean ``mttr``; draws from ``default_rng([seed, machine])``."""

    def __init__(self, machines: int, mtbf: float, mttr: float, seed: int) -> None:
        self._rngs = [np.random.default_rng([seed, m]) for m in range(machines)]
        self._mtbf, self._mttr = mtbf, mttr
        self._left = [float(rng.exponential(mtbf)) for rng in self._rngs]

    def stretch(self, machine: int, work: float) -> float:
        """Wall time of ``work`` busy time on ``machine`` (repairs included)."""
        total = 0.0
        while work >= self._left[machine]:
            rng = self._rngs[machine]
            work -= self._left[machine]
            total += self._left[machine] + float(rng.exponential(self._mttr))
            self._left[machine] = float(rng.exponential(self._mtbf))
        self._left[machine] -= work
        return total + work


def right_shift(
    instance: JobShopInstance,
    sequences: Sequence[Sequence[int]],
    durations: Sequence[Sequence[float]] | None = None,
    releases: Sequence[float] | None = None,
    breakdowns: Breakdowns | None = None,
) -> list[ScheduledOperation]:
    """Carry out the machine ``sequences`` with the floor's times (module doc).

    Args:
        durations: per job, each operation's duration on the floor (default: the instance's).
        releases: per job, when it may start its first operation (default: 0).
        breakdowns: machine failures that stretch operations (default: none).

    Raises:
        ValueError: the sequences are not those of a feasible plan of ``instance`` (an
            operation missing, or an order that deadlocks).
    """
    jobs, machines = instance.n_jobs, instance.machines
    times = durations or [[float(d) for _, d in ops] for ops in instance.jobs]
    ready = list(releases or [0.0] * jobs)
    expected = [sorted(j for j, ops in enumerate(instance.jobs) for m, _ in ops if m == k) for k in range(machines)]
    if len(sequences) != machines or any(sorted(seq) != exp for seq, exp in zip(sequences, expected, strict=True)):
        raise ValueError("the sequences must hold each machine's operations once")
    next_op = [0] * jobs
    position = [0] * machines
    free = [0.0] * machines
    out: list[ScheduledOperation] = []
    remaining = sum(len(ops) for ops in instance.jobs)
    while remaining:
        progressed = False
        for machine in range(machines):
            while position[machine] < len(sequences[machine]):
                job = sequences[machine][position[machine]]
                op = next_op[job]
                if op >= len(instance.jobs[job]) or instance.jobs[job][op][0] != machine:
                    break  # the job is not at this machine yet
                start = max(free[machine], ready[job])
                work = times[job][op]
                end = start + (breakdowns.stretch(machine, work) if breakdowns is not None else work)
                out.append(ScheduledOperation(job, op, machine, start, end))
                free[machine] = ready[job] = end
                next_op[job] += 1
                position[machine] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            raise ValueError("the sequences deadlock: no plan of the instance runs its machines in these orders")
    out.sort(key=lambda op: (op.job, op.operation))
    return out
