"""Speed of the twin against hand-written plain-SimPy models of the same systems.

What is measured, in one process, on the same machine, one system after the other:

* ``mm1``: an M/M/1 queue (arrival rate 0.8, service rate 1, unlimited buffer).
* ``line5``: a 5-station serial line, one machine each, exponential process times, finite
  buffers with blocking after service, and calendar-time breakdowns (exponential time to
  failure and to repair) that interrupt the operation, which resumes when repaired.

Each system runs three ways over the same horizon:

* **twin run**: ``Plant(scenario).run()``, the twin as ``twin run`` uses it, its columnar event
  log always on (building the plant is included; validating the scenario is not);
* **twin run+KPIs**: the same run plus ``compute_kpis`` over its log;
* **plain SimPy**: an idiomatic hand-written model: one generator process per job,
  ``simpy.Resource`` machines, a ``simpy.Resource`` of ``buffer + 1`` places per finite
  buffer (a job holds a place from entering the buffer until it leaves the machine, so the
  buffer holds ``buffer`` jobs besides the one on the machine, as in the twin), blocking after
  service (the job requests its place downstream while still holding its machine), and a
  breakdown process per machine that ``interrupt()``s the job being processed. It logs
  nothing but a counter and a sum of lead times.

Speeds are jobs completed per wall-clock second (``time.perf_counter``): each way is run once
to warm up, then ``--repeat`` times, interleaved so that machine noise hits all alike; the
median is shown. **ratio** = twin jobs/s / plain-SimPy jobs/s: >= 1.0 means the twin, log
included, is at least as fast as the plain model (the target). Absolute jobs/s vary between
machines and runs; the ratio is what to compare. The second table shows that the two models
agree (throughput and mean lead time over the horizon, within sampling noise).

The feature check runs the example motor plant (``scenarios/examples/motor_plant.yaml``:
assembly of machined components, AGVs, batch ovens, rework, maintenance, energy) and reports
its speed in jobs (components included) and log records per wall-clock second; there is no
plain-SimPy model of it to compare with.

The memory check runs a 50-station line (buffers, breakdowns, arrival rate below the
bottleneck's capacity) through about 100,000 jobs in a fresh subprocess, so that its peak
resident set size (``VmHWM``, or ``ru_maxrss``) is its own, and reports that peak after the run and after
the KPIs, and the event log's ``nbytes``; the target is a peak under 1 GiB.

Usage::

    python benchmarks/sim_speed.py            # full: ~100k jobs per system, memory check
    python benchmarks/sim_speed.py --quick    # smaller runs, 10,000-job memory check
    python benchmarks/sim_speed.py --profile  # also cProfile the twin on both systems
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twin.measure.kpi import compute_kpis
from twin.scenario import Scenario, load_scenario, parse_scenario
from twin.sim.plant import Plant

MOTOR_PLANT = Path(__file__).resolve().parent.parent / "scenarios" / "examples" / "motor_plant.yaml"

GIB = 1 << 30


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
        StationSpec(0.50, None, 300.0, 10.0),
        StationSpec(0.55, 5, 400.0, 15.0),
        StationSpec(0.60, 4, 250.0, 8.0),
        StationSpec(0.55, 6, 500.0, 20.0),
        StationSpec(0.50, 4, 350.0, 12.0),
    ),
)


def long_line(stations: int) -> LineSpec:
    """The memory-check line: ``stations`` stations at 60% load, buffers of 10, breakdowns."""
    specs = tuple(StationSpec(0.6, None if i == 0 else 10, 500.0, 10.0) for i in range(stations))
    return LineSpec(f"line{stations}", 1.0, specs)


def twin_scenario(line: LineSpec, horizon: float, seed: int = 1) -> Scenario:
    """The twin's scenario of ``line``, built in code and validated like a file."""
    stations: dict[str, Any] = {}
    for i, spec in enumerate(line.stations):
        station: dict[str, Any] = {"process_time": {"dist": "exponential", "mean": spec.mean}}
        if spec.buffer is not None:
            station["buffer"] = spec.buffer
        if spec.ttf is not None:
            station["failures"] = {
                "ttf": {"dist": "exponential", "mean": spec.ttf},
                "ttr": {"dist": "exponential", "mean": spec.ttr},
                "basis": "calendar",
            }
        stations[f"s{i}"] = station
    return parse_scenario(
        {
            "name": line.name,
            "horizon": horizon,
            "seed": seed,
            "products": {
                "job": {"arrival": {"dist": "exponential", "mean": line.arrival_mean}, "route": list(stations)}
            },
            "stations": stations,
        }
    )


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


# Measuring.


@dataclass
class Timing:
    """Median speeds (jobs/s) of one system, and what each model computed."""

    system: str
    jobs: int
    twin_run: float
    twin_kpis: float
    plain: float
    twin_throughput: float
    twin_lead_time: float
    plain_throughput: float
    plain_lead_time: float
    twin_lead_error: float
    plain_lead_error: float
    """Standard errors of the mean lead times over the seeds."""


def time_twin(scenario: Scenario) -> tuple[float, float, Plant, dict[str, float]]:
    """Seconds to build and run a plant, seconds for its KPIs, the plant and its KPIs."""
    gc.collect()
    start = time.perf_counter()
    plant = Plant(scenario)
    end = plant.run()
    ran = time.perf_counter()
    kpis = compute_kpis(plant.log, scenario, 0.0, end)
    done = time.perf_counter()
    return ran - start, done - ran, plant, kpis


def time_plain(line: LineSpec, horizon: float, seed: int) -> tuple[float, Tally]:
    """Seconds to build and run the plain model, and its tally."""
    gc.collect()
    start = time.perf_counter()
    tally = run_plain(line, horizon, seed)
    return time.perf_counter() - start, tally


def measure(line: LineSpec, horizon: float, repeat: int) -> Timing:
    """Warm up once, then time both models ``repeat`` times, interleaved, seeds 1..repeat.

    Speeds are medians; throughput and lead time are means over the seeds (so that the
    agreement table compares ``repeat`` replications of each model, not one)."""
    scenarios = [twin_scenario(line, horizon, seed) for seed in range(repeat + 1)]
    time_twin(scenarios[0])
    time_plain(line, horizon, 0)
    runs, kpi_runs, plains = [], [], []
    twin_tp, twin_lt, plain_tp, plain_lt = [], [], [], []
    jobs = 0
    for seed in range(1, repeat + 1):
        run_s, kpi_s, plant, kpis = time_twin(scenarios[seed])
        plain_s, tally = time_plain(line, horizon, seed)
        runs.append(plant.left / run_s)
        kpi_runs.append(plant.left / (run_s + kpi_s))
        plains.append(tally.completed / plain_s)
        jobs += plant.left
        twin_tp.append(kpis["throughput"])
        twin_lt.append(kpis["lead_time_mean"])
        plain_tp.append(tally.completed / horizon)
        plain_lt.append(tally.lead_time / tally.completed)
    return Timing(
        line.name,
        jobs // repeat,
        statistics.median(runs),
        statistics.median(kpi_runs),
        statistics.median(plains),
        statistics.fmean(twin_tp),
        statistics.fmean(twin_lt),
        statistics.fmean(plain_tp),
        statistics.fmean(plain_lt),
        standard_error(twin_lt),
        standard_error(plain_lt),
    )


def standard_error(values: list[float]) -> float:
    """Standard error of the mean of independent replications (nan for fewer than 2)."""
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan


def peak_rss() -> int:
    """Peak resident set size of this process in bytes: ``VmHWM`` where Linux has it (fresh
    after ``exec``, unlike ``ru_maxrss``, which keeps the parent's peak at fork), else
    ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_child(stations: int, jobs: int) -> dict[str, float]:
    """Run the long line through about ``jobs`` jobs; peak RSS and log size (in this process)."""
    line = long_line(stations)
    scenario = twin_scenario(line, jobs * line.arrival_mean)
    before = peak_rss()
    start = time.perf_counter()
    plant = Plant(scenario)
    end = plant.run()
    ran = time.perf_counter()
    after_run = peak_rss()
    kpis = compute_kpis(plant.log, scenario, 0.0, end)
    done = time.perf_counter()
    after_kpis = peak_rss()
    return {
        "stations": stations,
        "arrived": plant.arrived,
        "completed": plant.left,
        "throughput": kpis["throughput"],
        "log_nbytes": plant.log.nbytes,
        "job_records": len(plant.log.job_time),
        "state_records": len(plant.log.state_time),
        "rss_before": before,
        "peak_run": after_run,
        "peak_kpis": after_kpis,
        "run_s": ran - start,
        "kpi_s": done - ran,
    }


def memory_check(stations: int, jobs: int) -> dict[str, float]:
    """:func:`memory_child` in a fresh interpreter, so that its peak is its own."""
    command = [sys.executable, __file__, "--memory-child", str(stations), str(jobs)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def motor_plant_speed(weeks: float, repeat: int) -> dict[str, float]:
    """Median jobs and log records per second of the motor plant over ``weeks`` of simulated
    time (after one warm-up run), and what one run did."""
    scenario = load_scenario(MOTOR_PLANT, [f"horizon={weeks * 10080}", "warmup=0"])
    time_twin(scenario)
    jobs, records = [], []
    for seed in range(1, repeat + 1):
        run_s, _, plant, kpis = time_twin(scenario.model_copy(update={"seed": seed}))
        log = plant.log
        jobs.append(plant.left / run_s)
        records.append((len(log.job_time) + len(log.state_time) + len(log.vehicle_time)) / run_s)
    return {
        "jobs": plant.left,
        "completed": kpis["completed"],
        "jobs_per_s": statistics.median(jobs),
        "records_per_s": statistics.median(records),
        "energy_per_job": kpis["energy_per_job"],
    }


def profile_twin(line: LineSpec, horizon: float, top: int) -> str:
    """cProfile of one twin run (plant build, run and KPIs), sorted by own time."""
    scenario = twin_scenario(line, horizon)
    profiler = cProfile.Profile()
    profiler.enable()
    plant = Plant(scenario)
    end = plant.run()
    compute_kpis(plant.log, scenario, 0.0, end)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


# Reporting.


def mib(n: float) -> str:
    """Bytes as MiB."""
    return f"{n / (1 << 20):,.0f} MiB"


def print_tables(timings: list[Timing], repeat: int) -> None:
    """The speed table and the agreement table."""
    print(f"Speed: jobs completed per wall-clock second, median of {repeat} (after one warm-up run)")
    header = (
        f"{'system':<8}{'jobs':>9}{'twin run':>12}{'twin+KPIs':>12}{'plain SimPy':>13}"
        f"{'ratio run':>11}{'ratio+KPIs':>12}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        print(
            f"{t.system:<8}{t.jobs:>9,}{t.twin_run:>12,.0f}{t.twin_kpis:>12,.0f}{t.plain:>13,.0f}"
            f"{t.twin_run / t.plain:>11.2f}{t.twin_kpis / t.plain:>12.2f}"
        )
    print("ratio = twin jobs/s / plain-SimPy jobs/s; target >= 1.00 (event log on)")
    print()
    print(f"Agreement: means over the {repeat} seeds; the models simulate the same system (differences are noise)")
    header = f"{'system':<8}{'throughput twin':>17}{'plain':>9}{'lead time twin':>17}{'plain':>15}{'theory':>8}"
    print(header)
    print("-" * len(header))
    for t in timings:
        theory = ""
        if t.system == MM1.name:
            service = MM1.stations[0].mean
            theory = f"{service / (1 - service / MM1.arrival_mean):.2f}"
        print(
            f"{t.system:<8}{t.twin_throughput:>17.4f}{t.plain_throughput:>9.4f}"
            f"{t.twin_lead_time:>11.2f} ±{t.twin_lead_error:4.2f}"
            f"{t.plain_lead_time:>9.2f} ±{t.plain_lead_error:4.2f}{theory:>8}"
        )


def print_memory(m: dict[str, float]) -> None:
    """The memory check's report."""
    print()
    print(
        f"Memory: {m['stations']:.0f}-station line, {m['arrived']:,.0f} jobs arrived, "
        f"{m['completed']:,.0f} completed (throughput {m['throughput']:.3f}/min), in a subprocess"
    )
    print(
        f"  event log: {m['job_records']:,.0f} job + {m['state_records']:,.0f} state records, "
        f"nbytes {mib(m['log_nbytes'])}"
    )
    print(
        f"  peak RSS: {mib(m['rss_before'])} after imports, {mib(m['peak_run'])} after the run "
        f"({m['run_s']:.1f} s), {mib(m['peak_kpis'])} after the KPIs ({m['kpi_s']:.1f} s)"
    )
    for what, key in (("run", "peak_run"), ("run + KPIs", "peak_kpis")):
        verdict = "under" if m[key] < GIB else "OVER"
        print(f"  {what}: peak {verdict} 1 GiB")


def print_motor_plant(m: dict[str, float], weeks: float, repeat: int) -> None:
    """The feature check's report."""
    print()
    print(f"Motor plant (every feature on), {weeks:g} simulated weeks, median of {repeat}:")
    print(
        f"  {m['jobs']:,.0f} jobs left the plant ({m['completed']:,.0f} motors, the rest components consumed): "
        f"{m['jobs_per_s']:,.0f} jobs/s, {m['records_per_s']:,.0f} log records/s; "
        f"{m['energy_per_job']:.2f} kWh per motor"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse options, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~20,000 jobs per system, 10,000-job memory check")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per model (default 5, quick 3)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 50-station memory check")
    parser.add_argument("--no-motor", action="store_true", help="skip the motor plant (every feature on)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the twin on each system")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("STATIONS", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(*args.memory_child)))
        return 0

    jobs = 20_000 if args.quick else 100_000
    repeat = args.repeat or (3 if args.quick else 5)
    systems: list[tuple[LineSpec, float]] = [(MM1, jobs * MM1.arrival_mean), (LINE5, jobs * LINE5.arrival_mean)]
    print(f"Python {sys.version.split()[0]}, SimPy {simpy.__version__}")
    print()
    timings = [measure(line, horizon, repeat) for line, horizon in systems]
    print_tables(timings, repeat)
    if not args.no_motor:
        weeks = 1.0 if args.quick else 4.0
        print_motor_plant(motor_plant_speed(weeks, repeat), weeks, repeat)
    if not args.no_memory:
        print_memory(memory_check(50, 10_000 if args.quick else 100_000))
    if args.profile:
        for line, horizon in systems:
            print()
            print(f"cProfile of the twin on {line.name} (build, run, KPIs), by own time:")
            print(profile_twin(line, horizon, 25))
    return 0


if __name__ == "__main__":
    sys.exit(main())
