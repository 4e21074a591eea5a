"""The systems of the speed benchmark, and the idiomatic plain-SimPy model of them.

The systems are plain data (:class:`LineSpec`) shared by every model the benchmark runs. The
plain-SimPy model is the textbook way to write them: one generator process per job,
``simpy.Resource`` machines, a ``simpy.Resource`` of ``buffer + 1`` places per finite buffer
(a job holds a place from entering the buffer until it leaves the machine, so the buffer
holds ``buffer`` jobs besides the one on the machine, as in the twin), blocking after service
(the job requests its place downstream while still holding its machine), and a breakdown
process per machine that ``interrupt()``s the job being processed. It logs nothing but a
counter and a sum of lead times. This module imports only SimPy, so that a process running
it pays for nothing else.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import cast

import simpy

__all__ = ["LINE5", "LINE5_FAILURES", "MM1", "LineSpec", "StationSpec", "Tally", "long_line", "run_plain"]

# The systems, as plain data shared by both models.


@dataclass(frozen=True)
class StationSpec:
    """One single-machine station; times in minutes."""

    mean: float
    """Mean of the exponential process time."""
    buffer: int | None = None
    """Jobs that may wait besides the one on the machine; None: unlimited."""
    ttf: float | None = None
    """Mean calendar time to failure (exponential); None: never fails."""
    ttr: float = 0.0
    """Mean time to repair (exponential)."""


@dataclass(frozen=True)
class LineSpec:
    """A serial line fed by a Poisson stream of jobs."""

    name: str
    arrival_mean: float
    stations: tuple[StationSpec, ...]


MM1 = LineSpec("mm1", 1.25, (StationSpec(1.0),))
LINE5 = LineSpec(
    "line5",
    1.0,
    (
        StationSpec(0.50),
        StationSpec(0.55, 2),
        StationSpec(0.60, 2),
        StationSpec(0.55, 2),
        StationSpec(0.50, 2),
    ),
)
LINE5_FAILURES = LineSpec(
    "line5f",
    1.0,
    (
        StationSpec(0.50, None, 300.0, 10.0),
        StationSpec(0.55, 2, 400.0, 15.0),
        StationSpec(0.60, 2, 250.0, 8.0),
        StationSpec(0.55, 2, 500.0, 20.0),
        StationSpec(0.50, 2, 350.0, 12.0),
    ),
)
"""The 5-station line, buffers of 2, with calendar-time breakdowns."""


def long_line(stations: int) -> LineSpec:
    """The memory-check line: ``stations`` stations at 60% load, buffers of 10, breakdowns."""
    specs = tuple(StationSpec(0.6, None if i == 0 else 10, 500.0, 10.0) for i in range(stations))
    return LineSpec(f"line{stations}", 1.0, specs)


# The plain-SimPy model.


class PlainStation:
    """One machine, the places of its buffer, and what a breakdown needs to know."""

    def __init__(self, env: simpy.Environment, spec: StationSpec, rng: random.Random) -> None:
        self.rate = 1.0 / spec.mean
        self.machine = simpy.PriorityResource(env, capacity=1)
        self.places = None if spec.buffer is None else simpy.Resource(env, capacity=spec.buffer + 1)
        self.operation: simpy.Process | None = None
        """The job process while it is processing (what a breakdown interrupts)."""
        self.broken = False
        self.down_place: simpy.resources.resource.Request | None = None
        """The place a broken machine with no job holds, as the twin counts it."""
        if spec.ttf is not None:
            env.process(breakdowns(env, self, rng, 1.0 / spec.ttf, 1.0 / spec.ttr))

    def leave(self, place: simpy.resources.resource.Request | None) -> None:
        """A job leaves the machine: its place frees, unless the machine is broken, whose
        place it then becomes (the twin's room is ``buffer`` + machines that are up and free)."""
        if place is None or self.places is None:
            return
        if self.broken and self.down_place is None:
            self.down_place = place
        else:
            self.places.release(place)


def breakdowns(
    env: simpy.Environment, station: PlainStation, rng: random.Random, fail_rate: float, repair_rate: float
) -> simpy.events.ProcessGenerator:
    """Calendar-time failures: interrupt the operation in hand, or take the idle (or, once its
    job leaves, the blocked) machine out of use until repaired."""
    while True:
        yield env.timeout(rng.expovariate(fail_rate))
        repair = env.timeout(rng.expovariate(repair_rate))
        if station.operation is not None:
            station.operation.interrupt(repair)
            yield repair
            continue
        station.broken = True
        with station.machine.request(priority=-1) as down:
            if down.triggered and station.places is not None:
                station.down_place = station.places.request()
            yield repair
        station.broken = False
        if station.down_place is not None:
            assert station.places is not None
            station.places.release(station.down_place)
            station.down_place = None


@dataclass
class Tally:
    """What the plain model records: completed jobs and their total lead time."""

    completed: int = 0
    lead_time: float = 0.0


def plain_job(
    env: simpy.Environment, line: list[PlainStation], rng: random.Random, tally: Tally
) -> simpy.events.ProcessGenerator:
    """One job through the line: queue, process (resuming after breakdowns), block, move on."""
    arrived = env.now
    first = line[0]
    place = first.places.request() if first.places is not None else None
    if place is not None:
        yield place
    last = len(line) - 1
    for i, station in enumerate(line):
        work = rng.expovariate(station.rate)
        with station.machine.request() as machine:
            yield machine
            station.operation = env.active_process
            while True:
                start = env.now
                try:
                    yield env.timeout(work)
                    break
                except simpy.Interrupt as failure:
                    work -= env.now - start
                    repair = cast(simpy.Event, failure.cause)  # what breakdowns() passes
                    yield repair
            station.operation = None
            next_place = None
            places = line[i + 1].places if i < last else None
            if places is not None:
                next_place = places.request()
                yield next_place  # blocked after service until there is room
            station.leave(place)
        place = next_place
    tally.completed += 1
    tally.lead_time += env.now - arrived


def plain_source(
    env: simpy.Environment, line: list[PlainStation], rng: random.Random, arrival_rate: float, tally: Tally
) -> simpy.events.ProcessGenerator:
    """Poisson arrivals, one new job process each."""
    while True:
        yield env.timeout(rng.expovariate(arrival_rate))
        env.process(plain_job(env, line, rng, tally))


def plain_mm1_customer(
    env: simpy.Environment, server: simpy.Resource, rng: random.Random, rate: float, tally: Tally
) -> simpy.events.ProcessGenerator:
    """One M/M/1 customer: the textbook SimPy process."""
    arrived = env.now
    with server.request() as request:
        yield request
        yield env.timeout(rng.expovariate(rate))
    tally.completed += 1
    tally.lead_time += env.now - arrived


def plain_mm1_source(
    env: simpy.Environment, server: simpy.Resource, rng: random.Random, arrival_rate: float, rate: float, tally: Tally
) -> simpy.events.ProcessGenerator:
    """Poisson arrivals of M/M/1 customers."""
    while True:
        yield env.timeout(rng.expovariate(arrival_rate))
        env.process(plain_mm1_customer(env, server, rng, rate, tally))


def run_plain(line: LineSpec, horizon: float, seed: int = 1) -> Tally:
    """Run the plain-SimPy model of ``line`` to ``horizon``."""
    env = simpy.Environment()
    rng = random.Random(seed)
    tally = Tally()
    if len(line.stations) == 1 and line.stations[0].buffer is None and line.stations[0].ttf is None:
        server = simpy.Resource(env, capacity=1)
        env.process(plain_mm1_source(env, server, rng, 1.0 / line.arrival_mean, 1.0 / line.stations[0].mean, tally))
    else:
        stations = [PlainStation(env, spec, rng) for spec in line.stations]
        env.process(plain_source(env, stations, rng, 1.0 / line.arrival_mean, tally))
    env.run(until=horizon)
    return tally
