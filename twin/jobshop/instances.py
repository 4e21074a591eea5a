"""Job-shop instances: the standard text format, random instances, and their scenarios.

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

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin.scenario import Scenario, parse_scenario

__all__ = [
    "InstanceError",
    "JobShopInstance",
    "Perturbation",
    "generate_instance",
    "instance_to_scenario",
    "load_instance",
    "parse_instance",
    "read_instance",
]


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


MAX_JOBS = 100_000
"""Most jobs an instance file may declare."""

MAX_MACHINES = 10_000
"""Most machines an instance file may declare (the plant limit of scenarios)."""

MAX_DURATION = 2**53
"""Longest operation: times are floats, exact up to 2^53."""


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
    if n_jobs > MAX_JOBS or n_machines > MAX_MACHINES:
        raise InstanceError(
            path, header_line, f"at most {MAX_JOBS} jobs and {MAX_MACHINES} machines (got {n_jobs} {n_machines})"
        )
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
            if duration > MAX_DURATION:
                raise InstanceError(path, number, f"job {j}: duration {duration} is above {MAX_DURATION} (2^53)")
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
        for label, value in self._numbers():
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{label} must be a finite number (got {value})")
        if self.cv < 0:
            raise ValueError(f"cv must be >= 0 (got {self.cv})")
        if (self.mtbf is None) != (self.mttr is None):
            raise ValueError(f"breakdowns need both mtbf and mttr (got mtbf={self.mtbf}, mttr={self.mttr})")
        for label, value in (("mtbf", self.mtbf), ("mttr", self.mttr), ("arrival_mean", self.arrival_mean)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be > 0 (got {value})")
        if self.due_factor is not None and self.due_factor < 0:
            raise ValueError(f"due_factor must be >= 0 (got {self.due_factor})")

    def _numbers(self) -> list[tuple[str, float | None]]:
        return [
            ("cv", self.cv),
            ("mtbf", self.mtbf),
            ("mttr", self.mttr),
            ("arrival_mean", self.arrival_mean),
            ("due_factor", self.due_factor),
        ]

    @property
    def stochastic(self) -> bool:
        """Whether the shop differs from the textbook instance in its times (noise,
        breakdowns or arrivals); due dates alone do not change a schedule's feasibility."""
        return self.cv > 0 or self.mtbf is not None or self.arrival_mean is not None


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
