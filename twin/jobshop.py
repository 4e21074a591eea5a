"""Job-shop instances: the standard text format <-> scenarios, random instances, schedules.

The standard format (OR-Library, Taillard's ``n m`` header) is one line ``n m`` (jobs,
machines), then one line per job listing its operations in order as ``machine duration``
pairs, machines numbered from 0. Blank lines and lines starting with ``#`` are skipped.

:func:`read_instance` turns a file into a :class:`~twin.scenario.Scenario` the twin runs:
station ``m<k>`` is machine ``k``, product ``j<i>`` is job ``i`` (one job, released at 0),
each route step carries its own process time, buffers are unlimited and there is no horizon,
so a run ends with the last job and its end time is the makespan. Optional perturbations turn
the textbook instance into a stochastic shop: processing-time noise with a coefficient of
variation, machine breakdowns, jobs arriving over time, due dates.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from twin.dispatching import rule_names
from twin.scenario import Scenario, parse_scenario
from twin.sim.log import EventLog, JobEvent
from twin.sim.plant import Plant

__all__ = [
    "InstanceError",
    "JobShopInstance",
    "JobShopRun",
    "Perturbation",
    "ScheduledOperation",
    "check_schedule",
    "generate_instance",
    "instance_to_scenario",
    "load_bounds",
    "load_instance",
    "parse_instance",
    "plot_gantt",
    "read_instance",
    "run_rule",
    "schedule_from_log",
]

_START, _FINISH = int(JobEvent.START), int(JobEvent.FINISH)


class InstanceError(ValueError):
    """A job-shop instance file is malformed; ``str()`` is ``FILE:LINE: problem``.

    Attributes:
        path: the file (or ``<text>``).
        line: 1-based line number of the problem (0 when it concerns the whole file).
        problem: what is wrong, with the offending value.
    """

    def __init__(self, path: str, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}")


@dataclass(frozen=True)
class JobShopInstance:
    """A job shop: each job is a sequence of ``(machine, duration)`` operations.

    Attributes:
        name: the instance's name (its file stem, e.g. ``ft06``).
        machines: number of machines, numbered ``0 .. machines - 1``.
        jobs: per job, its operations in order as ``(machine, duration)``.

    Raises:
        ValueError: a job without operations, a machine outside ``[0, machines)`` or a
            negative duration.
    """

    name: str
    machines: int
    jobs: tuple[tuple[tuple[int, int], ...], ...]

    def __post_init__(self) -> None:
        if self.machines < 1:
            raise ValueError(f"an instance needs at least one machine (got {self.machines})")
        for j, ops in enumerate(self.jobs):
            if not ops:
                raise ValueError(f"job {j} has no operations")
            for machine, duration in ops:
                if not 0 <= machine < self.machines:
                    raise ValueError(f"job {j}: machine {machine} outside 0..{self.machines - 1}")
                if duration < 0:
                    raise ValueError(f"job {j}: negative duration {duration}")

    @property
    def n_jobs(self) -> int:
        """Number of jobs."""
        return len(self.jobs)

    def machine_loads(self) -> list[int]:
        """Total processing time per machine."""
        loads = [0] * self.machines
        for ops in self.jobs:
            for machine, duration in ops:
                loads[machine] += duration
        return loads

    def lower_bound(self) -> int:
        """A simple makespan lower bound: the larger of the busiest machine and the longest job."""
        return max(max(self.machine_loads()), max(sum(d for _, d in ops) for ops in self.jobs))

    def to_text(self) -> str:
        """The instance in the standard text format (what :func:`parse_instance` reads)."""
        lines = [f"{self.n_jobs} {self.machines}"]
        lines += [" ".join(f"{m} {d}" for m, d in ops) for ops in self.jobs]
        return "\n".join(lines) + "\n"


def _integers(tokens: list[str], path: str, line: int) -> list[int]:
    values = []
    for token in tokens:
        try:
            values.append(int(token))
        except ValueError:
            raise InstanceError(path, line, f"expected whole numbers (got {token!r})") from None
    return values


def parse_instance(text: str, name: str = "instance", path: str = "<text>") -> JobShopInstance:
    """Read an instance from text in the standard format.

    Raises:
        InstanceError: with the line number of the first problem.
    """
    lines = [
        (number, raw.split())
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    if not lines:
        raise InstanceError(path, 0, "file is empty (expected a first line `jobs machines`)")
    header_line, header = lines[0]
    if len(header) != 2:
        raise InstanceError(path, header_line, f"first line must be `jobs machines` (got {' '.join(header)!r})")
    n_jobs, n_machines = _integers(header, path, header_line)
    if n_jobs < 1 or n_machines < 1:
        raise InstanceError(path, header_line, f"jobs and machines must be >= 1 (got {n_jobs} {n_machines})")
    body = lines[1:]
    if len(body) > n_jobs:
        raise InstanceError(path, body[n_jobs][0], f"unexpected line after the {n_jobs} jobs of the header")
    jobs = []
    for j, (number, tokens) in enumerate(body):
        values = _integers(tokens, path, number)
        if not values:
            raise InstanceError(path, number, f"job {j} has no operations")
        if len(values) % 2:
            raise InstanceError(path, number, f"job {j}: expected `machine duration` pairs (got {len(values)} numbers)")
        ops = tuple(zip(values[::2], values[1::2], strict=True))
        for machine, duration in ops:
            if not 0 <= machine < n_machines:
                raise InstanceError(path, number, f"job {j}: machine {machine} outside 0..{n_machines - 1}")
            if duration < 0:
                raise InstanceError(path, number, f"job {j}: negative duration {duration}")
        jobs.append(ops)
    if len(jobs) < n_jobs:
        last = body[-1][0] if body else header_line
        raise InstanceError(path, last, f"expected {n_jobs} job lines after the header, found {len(jobs)}")
    return JobShopInstance(name, n_machines, tuple(jobs))


def load_instance(path: str | Path) -> JobShopInstance:
    """Read an instance file; its name is the file's stem.

    Raises:
        InstanceError: the file cannot be read or is malformed (with the line number).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstanceError(str(path), 0, f"cannot read file: {getattr(error, 'strerror', None) or error}") from None
    return parse_instance(text, path.stem, str(path))


def generate_instance(
    jobs: int, machines: int, low: int = 1, high: int = 99, seed: int = 0, name: str | None = None
) -> JobShopInstance:
    """A random instance in Taillard's style: every job visits every machine once, in a random
    order, with integer durations uniform in ``[low, high]``.

    Uses numpy's generator seeded with ``seed`` (not Taillard's own LCG, so it does not
    reproduce the ta instances): the same arguments give the same instance anywhere.

    Raises:
        ValueError: sizes below 1 or an empty duration range.
    """
    if jobs < 1 or machines < 1:
        raise ValueError(f"jobs and machines must be >= 1 (got {jobs}, {machines})")
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high (got low={low}, high={high})")
    rng = np.random.default_rng(seed)
    ops = tuple(
        tuple(
            (int(m), int(d))
            for m, d in zip(rng.permutation(machines), rng.integers(low, high + 1, size=machines), strict=True)
        )
        for _ in range(jobs)
    )
    return JobShopInstance(name or f"rand_{jobs}x{machines}_s{seed}", machines, ops)


@dataclass(frozen=True)
class Perturbation:
    """How to move an instance from the textbook to the floor (all off by default).

    Attributes:
        cv: coefficient of variation of processing times (lognormal around the file's value).
        mtbf: mean busy time between breakdowns of each machine (exponential); needs ``mttr``.
        mttr: mean time to repair (exponential).
        arrival_mean: jobs arrive one after another, in file order, with exponential gaps of
            this mean, instead of all at time 0.
        due_factor: each job is due at its release plus this factor times its total work.
        seed: seeds the arrival times (drawn once, when the scenario is made) and becomes the
            scenario's seed (process times and breakdowns are drawn per replication).
    """

    cv: float = 0.0
    mtbf: float | None = None
    mttr: float | None = None
    arrival_mean: float | None = None
    due_factor: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.cv < 0:
            raise ValueError(f"cv must be >= 0 (got {self.cv})")
        if (self.mtbf is None) != (self.mttr is None):
            raise ValueError(f"breakdowns need both mtbf and mttr (got mtbf={self.mtbf}, mttr={self.mttr})")
        for label, value in (("mtbf", self.mtbf), ("mttr", self.mttr), ("arrival_mean", self.arrival_mean)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be > 0 (got {value})")
        if self.due_factor is not None and self.due_factor < 0:
            raise ValueError(f"due_factor must be >= 0 (got {self.due_factor})")


def instance_to_scenario(
    instance: JobShopInstance, rule: str = "fifo", perturbation: Perturbation | None = None
) -> Scenario:
    """The scenario of ``instance``: stations ``m0..``, products ``j0..``, ``rule`` everywhere.

    Raises:
        ScenarioError: ``rule`` is not a known dispatching rule.
    """
    p = perturbation or Perturbation()
    releases = [0.0] * instance.n_jobs
    if p.arrival_mean is not None:
        gaps = np.random.default_rng(p.seed).exponential(p.arrival_mean, size=instance.n_jobs)
        releases = [float(t) for t in np.cumsum(gaps)]
    products: dict[str, Any] = {}
    for j, ops in enumerate(instance.jobs):
        route = [{"station": f"m{m}", "process_time": _duration(d, p.cv)} for m, d in ops]
        product: dict[str, Any] = {"route": route}
        if p.arrival_mean is not None or p.due_factor is not None:
            order: dict[str, Any] = {"at": releases[j]}
            if p.due_factor is not None:
                order["due"] = releases[j] + p.due_factor * sum(d for _, d in ops)
            product["release"] = [order]
        products[f"j{j}"] = product
    stations: dict[str, Any] = {}
    for m in range(instance.machines):
        station: dict[str, Any] = {"dispatching": rule}
        if p.mtbf is not None and p.mttr is not None:
            station["failures"] = {
                "ttf": {"dist": "exponential", "mean": p.mtbf},
                "ttr": {"dist": "exponential", "mean": p.mttr},
                "basis": "busy",
            }
        stations[f"m{m}"] = station
    return parse_scenario(
        {
            "name": instance.name,
            "description": f"job shop {instance.name}: {instance.n_jobs} jobs x {instance.machines} machines",
            "time_unit": "unit",
            "seed": p.seed,
            "products": products,
            "stations": stations,
        }
    )


def _duration(value: int, cv: float) -> Any:
    if cv == 0 or value == 0:
        return value
    return {"dist": "lognormal", "mean": value, "sd": cv * value}


def read_instance(
    path: str | Path,
    rule: str = "fifo",
    *,
    cv: float = 0.0,
    mtbf: float | None = None,
    mttr: float | None = None,
    arrival_mean: float | None = None,
    due_factor: float | None = None,
    seed: int = 0,
) -> Scenario:
    """Read a job-shop instance file into a scenario (see :class:`Perturbation` for the
    optional noise, breakdowns, arrivals and due dates; none by default: the textbook shop).

    Raises:
        InstanceError: the file is malformed (with the line number).
        ValueError: a perturbation setting is out of range.
        ScenarioError: ``rule`` is unknown.
    """
    perturbation = Perturbation(cv, mtbf, mttr, arrival_mean, due_factor, seed)
    return instance_to_scenario(load_instance(path), rule, perturbation)


def load_bounds(path: str | Path) -> dict[str, dict[str, Any]]:
    """The bounds file (``bounds.json``): per instance ``optimum``, ``lower_bound``,
    ``upper_bound`` (best known makespan), sizes and reference."""
    data: dict[str, dict[str, Any]] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


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


def plot_gantt(
    schedule: Sequence[ScheduledOperation], path: str | Path, machines: int | None = None, title: str = ""
) -> Path:
    """Draw ``schedule`` as a Gantt chart (one row per machine, one colour per job) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    rows = machines if machines is not None else 1 + max((op.machine for op in schedule), default=0)
    jobs = 1 + max((op.job for op in schedule), default=0)
    cmap = plt.get_cmap("tab20", max(jobs, 1))
    fig, ax = plt.subplots(figsize=(12, 0.35 * rows + 1.5), constrained_layout=True)
    for op in schedule:
        ax.barh(op.machine, op.end - op.start, left=op.start, color=cmap(op.job % 20), edgecolor="black", linewidth=0.3)
        if jobs <= 20:
            ax.text((op.start + op.end) / 2, op.machine, str(op.job), ha="center", va="center", fontsize=6)
    ax.set_yticks(range(rows), [f"m{m}" for m in range(rows)])
    ax.invert_yaxis()
    ax.set_xlabel("time")
    makespan = max((op.end for op in schedule), default=0.0)
    ax.set_title(f"{title}  makespan {makespan:g}".strip())
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
