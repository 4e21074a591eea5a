"""CP-SAT baseline for job shops (OR-Tools): an exact model with a time limit.

Each operation is an interval variable ``[start, start + duration)``; the operations of a
machine may not overlap (``add_no_overlap``), those of a job run in order, and the makespan is
at least every job's end. Minimising the makespan, CP-SAT returns its best schedule within the
time limit and says whether it proved it optimal.

A known schedule (a rule's, an agent's) may seed the search: its starts are CP-SAT's hint and
its makespan an upper bound (the search then looks only for schedules at least as short), and
every improving solution is recorded with its time, so a caller sees the gap close over time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from twin.jobshop.instances import JobShopInstance
from twin.jobshop.schedules import ScheduledOperation, check_schedule

__all__ = ["CpsatResult", "solve"]


@dataclass(frozen=True)
class CpsatResult:
    """What CP-SAT found.

    Attributes:
        makespan: of the best schedule found.
        optimal: whether CP-SAT proved that no schedule is shorter.
        lower_bound: the best bound CP-SAT proved (equals ``makespan`` when optimal).
        schedule: the operations, sorted by job and operation.
        wall_time_s: solver time.
        progress: ``(seconds, makespan)`` of each improving solution, in order (the hint's
            makespan at 0 s first when a hint was given).
    """

    makespan: int
    optimal: bool
    lower_bound: int
    schedule: list[ScheduledOperation]
    wall_time_s: float
    progress: tuple[tuple[float, float], ...] = ()


class _Progress(cp_model.CpSolverSolutionCallback):
    """Records the time and objective of every solution CP-SAT finds."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[tuple[float, float]] = []

    def on_solution_callback(self) -> None:
        self.points.append((float(self.wall_time), float(self.objective_value)))


def solve(
    instance: JobShopInstance,
    time_limit: float = 10.0,
    workers: int | None = None,
    seed: int = 0,
    hint: Sequence[ScheduledOperation] | None = None,
) -> CpsatResult:
    """Minimise the makespan of ``instance`` with CP-SAT within ``time_limit`` seconds.

    Args:
        workers: parallel search workers (default: the machine's cores, at most 8).
        seed: CP-SAT's random seed.
        hint: a feasible schedule of ``instance``: its starts are the solver's hint and its
            makespan an upper bound, so the result is never longer than it.

    Raises:
        ValueError: a non-positive time limit, or a hint that is not a feasible schedule.
        RuntimeError: no schedule found within the time limit.
    """
    if not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 seconds (got {time_limit})")
    if hint is not None:
        broken = check_schedule(instance, hint)
        if broken:
            raise ValueError(f"the hint is not a feasible schedule of {instance.name}: {'; '.join(broken[:3])}")
    horizon = sum(d for ops in instance.jobs for _, d in ops)
    model = cp_model.CpModel()
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    ends: dict[tuple[int, int], cp_model.IntVar] = {}
    per_machine: list[list[cp_model.IntervalVar]] = [[] for _ in range(instance.machines)]
    for j, ops in enumerate(instance.jobs):
        for o, (machine, duration) in enumerate(ops):
            start = model.new_int_var(0, horizon, f"s{j}_{o}")
            end = model.new_int_var(0, horizon, f"e{j}_{o}")
            per_machine[machine].append(model.new_interval_var(start, duration, end, f"i{j}_{o}"))
            starts[j, o], ends[j, o] = start, end
            if o > 0:
                model.add(start >= ends[j, o - 1])
    for intervals in per_machine:
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, [ends[j, len(ops) - 1] for j, ops in enumerate(instance.jobs)])
    model.minimize(makespan)
    known: float | None = None
    if hint is not None:
        known = max(op.end for op in hint)
        model.add(makespan <= math.ceil(known))
        for op in hint:
            model.add_hint(starts[op.job, op.operation], round(op.start))
        model.add_hint(makespan, math.ceil(known))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = workers or min(8, os.cpu_count() or 1)
    solver.parameters.random_seed = seed
    progress = _Progress()
    status = solver.solve(model, progress)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(
            f"CP-SAT found no schedule for {instance.name} in {time_limit:g} s ({solver.status_name(status)})"
        )
    schedule = [
        ScheduledOperation(j, o, machine, float(solver.value(starts[j, o])), float(solver.value(ends[j, o])))
        for j, ops in enumerate(instance.jobs)
        for o, (machine, _) in enumerate(ops)
    ]
    return CpsatResult(
        int(solver.value(makespan)),
        status == cp_model.OPTIMAL,
        int(solver.best_objective_bound),
        schedule,
        solver.wall_time,
        tuple(([(0.0, known)] if known is not None else []) + progress.points),
    )
