"""Speed of the twin against hand-written models of the same systems, in one run.

The systems (``benchmarks/plain_line.py``), one after the other:

* ``mm1``: an M/M/1 queue (arrival rate 0.8, service rate 1, unlimited buffer);
* ``line5``: a 5-station serial line, one machine each, exponential process times, buffers
  of 2 with blocking after service;
* ``line5f``: the same line with calendar-time breakdowns (exponential time to failure and
  to repair) that interrupt the operation, which resumes when repaired.

Each system runs five ways over the same horizon, interleaved so that machine noise hits all
alike (one warm-up run each, then ``--repeat`` timed runs; medians are shown):

* **twin+log**: ``Plant(scenario)`` with its full event log, then ``compute_kpis`` over it
  (what ``twin run --events``, ``--log``, the timeline views and the env pay);
* **twin KPIs**: ``Plant(scenario, events=False)``, which keeps only the KPI sums
  (``KpiTally``), then ``tally_kpis`` (what ``twin run`` and sweeps pay);
* **plain SimPy**: the idiomatic model, one generator process per job (``plain_line.py``);
* **callback**: the twin's semantics hand-written as callbacks on SimPy timeouts
  (``callback_line.py``), the technique the twin's hot path uses: the reference;
* **heapq**: the same callback model on a hand-written ``heapq`` calendar (what SimPy's
  calendar itself costs).

Speeds are jobs completed per wall-clock second (``time.perf_counter``; building the plant is
included, validating the scenario is not). Ratios are taken against the callback model in
the same run: targets are twin KPIs >= 0.8x and twin+log >= 0.6x. Absolute jobs/s vary
between machines and runs; the ratios are what to compare. The agreement table shows that
the models simulate the same systems (throughput, mean lead time, theory for M/M/1).

``--process`` times whole processes, each in a fresh interpreter: ``twin run`` of an M/M/1
scenario of 200,000 customers (imports, validation, run, KPIs, output) against a script
running the plain-SimPy model of it (imports SimPy only).

The feature check runs the example motor plant (``scenarios/examples/motor_plant.yaml``:
assembly of machined components, AGVs, batch ovens, rework, maintenance, energy) and reports
its speed in jobs (components included) and log records per wall-clock second; there is no
hand-written model of it to compare with.

The memory check runs a 50-station line (buffers, breakdowns, arrival rate below the
bottleneck's capacity) through about 100,000 jobs in a fresh subprocess, so that its peak
resident set size (``VmHWM``, or ``ru_maxrss``) is its own: with the KPI tally (target: peak
under 300 MiB) and, unless ``--no-log-memory``, with the full event log.

Usage::

    python benchmarks/sim_speed.py            # full: ~100k jobs per system, memory check
    python benchmarks/sim_speed.py --quick    # smaller runs, 10,000-job memory check
    python benchmarks/sim_speed.py --profile  # also cProfile the twin on each system
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callback_line import run_callback
from plain_line import LINE5, LINE5_FAILURES, MM1, LineSpec, long_line, run_plain

from twin.measure.kpi import compute_kpis, tally_kpis
from twin.scenario import Scenario, load_scenario, parse_scenario, scenario_to_yaml
from twin.sim.plant import Plant

MOTOR_PLANT = Path(__file__).resolve().parent.parent / "scenarios" / "examples" / "motor_plant.yaml"

MIB = 1 << 20


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


# Measuring.

Way = Callable[[LineSpec, Scenario, float, int], tuple[int, float]]
"""Runs one model of a system: completed jobs and their total lead time."""


def twin_with_log(line: LineSpec, scenario: Scenario, horizon: float, seed: int) -> tuple[int, float]:
    """The twin with its event log, then the KPIs over the log."""
    plant = Plant(scenario)
    end = plant.run()
    kpis = compute_kpis(plant.log, scenario, 0.0, end)
    return int(kpis["completed"]), kpis["lead_time_mean"] * kpis["completed"]


def twin_kpis_only(line: LineSpec, scenario: Scenario, horizon: float, seed: int) -> tuple[int, float]:
    """The twin keeping only the KPI sums, then the KPIs."""
    plant = Plant(scenario, events=False)
    end = plant.run()
    assert plant.tally is not None
    kpis = tally_kpis(plant.tally, scenario, end)
    return int(kpis["completed"]), kpis["lead_time_mean"] * kpis["completed"]


def plain_simpy(line: LineSpec, scenario: Scenario, horizon: float, seed: int) -> tuple[int, float]:
    """The idiomatic plain-SimPy model."""
    tally = run_plain(line, horizon, seed)
    return tally.completed, tally.lead_time


def callback_simpy(line: LineSpec, scenario: Scenario, horizon: float, seed: int) -> tuple[int, float]:
    """The callback model on SimPy's calendar."""
    return run_callback("simpy", line, horizon, seed)


def callback_heapq(line: LineSpec, scenario: Scenario, horizon: float, seed: int) -> tuple[int, float]:
    """The callback model on a heapq calendar."""
    return run_callback("heapq", line, horizon, seed)


WAYS: dict[str, Way] = {
    "twin+log": twin_with_log,
    "twin KPIs": twin_kpis_only,
    "plain SimPy": plain_simpy,
    "callback": callback_simpy,
    "heapq": callback_heapq,
}


@dataclass
class Timing:
    """Median speeds (jobs/s) of each way on one system, and what each computed."""

    system: str
    jobs: int
    speed: dict[str, float]
    throughput: dict[str, float]
    lead_time: dict[str, float]
    lead_error: dict[str, float]
    """Standard errors of the mean lead times over the seeds."""


def measure(line: LineSpec, horizon: float, repeat: int) -> Timing:
    """Warm up once, then time every way ``repeat`` times, interleaved, seeds 1..repeat.

    Speeds are medians; throughput and lead time are means over the seeds (so that the
    agreement table compares ``repeat`` replications of each model, not one)."""
    scenarios = [twin_scenario(line, horizon, seed) for seed in range(repeat + 1)]
    for way in WAYS.values():
        way(line, scenarios[0], horizon, 0)
    speeds: dict[str, list[float]] = {name: [] for name in WAYS}
    throughputs: dict[str, list[float]] = {name: [] for name in WAYS}
    leads: dict[str, list[float]] = {name: [] for name in WAYS}
    jobs = 0
    for seed in range(1, repeat + 1):
        for name, way in WAYS.items():
            gc.collect()
            start = time.perf_counter()
            completed, lead = way(line, scenarios[seed], horizon, seed)
            seconds = time.perf_counter() - start
            speeds[name].append(completed / seconds)
            throughputs[name].append(completed / horizon)
            leads[name].append(lead / completed)
            jobs += completed if name == "twin KPIs" else 0
    return Timing(
        line.name,
        jobs // repeat,
        {name: statistics.median(v) for name, v in speeds.items()},
        {name: statistics.fmean(v) for name, v in throughputs.items()},
        {name: statistics.fmean(v) for name, v in leads.items()},
        {name: standard_error(v) for name, v in leads.items()},
    )


def standard_error(values: list[float]) -> float:
    """Standard error of the mean of independent replications (nan for fewer than 2)."""
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan


def process_check(customers: int, repeat: int) -> dict[str, float]:
    """Median whole-process seconds of ``twin run --json`` on an M/M/1 of ``customers``, of
    the plain-SimPy script of it and of ``python -c "import twin"``, each run once to warm
    up, then ``repeat`` times, alternated."""
    horizon = customers * MM1.arrival_mean
    scenario = twin_scenario(MM1, horizon).model_copy(update={"replications": 1, "warmup": 0.0})
    here = Path(__file__).resolve().parent
    plain = (
        f"import sys; sys.path.insert(0, {str(here)!r}); "
        f"from plain_line import MM1, run_plain; run_plain(MM1, {horizon})"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mm1.yaml"
        path.write_text(scenario_to_yaml(scenario))
        commands = {
            "twin": [str(Path(sys.executable).with_name("twin")), "run", str(path), "--json"],
            "plain": [sys.executable, "-c", plain],
            "import": [sys.executable, "-c", "import twin"],
        }
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        for attempt in range(repeat + 1):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                if attempt:
                    seconds[name].append(time.perf_counter() - start)
    return {"customers": customers, **{name: statistics.median(v) for name, v in seconds.items()}}


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


def memory_child(stations: int, jobs: int, events: bool) -> dict[str, float]:
    """Run the long line through about ``jobs`` jobs, with the event log or the KPI tally;
    peak RSS and record counts (in this process)."""
    line = long_line(stations)
    scenario = twin_scenario(line, jobs * line.arrival_mean)
    before = peak_rss()
    start = time.perf_counter()
    plant = Plant(scenario, events=events)
    end = plant.run()
    ran = time.perf_counter()
    after_run = peak_rss()
    if plant.tally is None:
        kpis = compute_kpis(plant.log, scenario, 0.0, end)
        records, nbytes = len(plant.log.job_time) + len(plant.log.state_time), plant.log.nbytes
    else:
        kpis = tally_kpis(plant.tally, scenario, end)
        records, nbytes = 0, 0
    done = time.perf_counter()
    return {
        "events": events,
        "stations": stations,
        "arrived": plant.arrived,
        "completed": plant.left,
        "throughput": kpis["throughput"],
        "log_nbytes": nbytes,
        "records": records,
        "rss_before": before,
        "peak_run": after_run,
        "peak_kpis": peak_rss(),
        "run_s": ran - start,
        "kpi_s": done - ran,
    }


def memory_check(stations: int, jobs: int, events: bool) -> dict[str, float]:
    """:func:`memory_child` in a fresh interpreter, so that its peak is its own."""
    command = [sys.executable, __file__, "--memory-child", str(stations), str(jobs), str(int(events))]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def motor_plant_speed(weeks: float, repeat: int) -> dict[str, float]:
    """Median jobs and log records per second of the motor plant over ``weeks`` of simulated
    time (after one warm-up run), and what one run did."""
    scenario = load_scenario(MOTOR_PLANT, [f"horizon={weeks * 10080}", "warmup=0"])
    jobs, records = [], []
    for seed in range(repeat + 1):
        gc.collect()
        start = time.perf_counter()
        plant = Plant(scenario.model_copy(update={"seed": seed}))
        end = plant.run()
        run_s = time.perf_counter() - start
        kpis = compute_kpis(plant.log, scenario, 0.0, end)
        log = plant.log
        if seed:
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
    """cProfile of one twin run with the KPI tally (plant build, run and KPIs), by own time."""
    scenario = twin_scenario(line, horizon)
    profiler = cProfile.Profile()
    profiler.enable()
    twin_kpis_only(line, scenario, horizon, 1)
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
    header = f"{'system':<8}{'jobs':>9}" + "".join(f"{name:>13}" for name in WAYS)
    print(header)
    print("-" * len(header))
    for t in timings:
        print(f"{t.system:<8}{t.jobs:>9,}" + "".join(f"{t.speed[name]:>13,.0f}" for name in WAYS))
    print()
    print("Ratios in the same run (target: twin KPIs >= 0.80x callback, twin+log >= 0.60x callback)")
    header = (
        f"{'system':<8}{'KPIs/callback':>15}{'log/callback':>14}{'KPIs/plain':>12}"
        f"{'KPIs/heapq':>12}{'callback/heapq':>16}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        v = t.speed
        print(
            f"{t.system:<8}{v['twin KPIs'] / v['callback']:>15.2f}{v['twin+log'] / v['callback']:>14.2f}"
            f"{v['twin KPIs'] / v['plain SimPy']:>12.2f}{v['twin KPIs'] / v['heapq']:>12.2f}"
            f"{v['callback'] / v['heapq']:>16.2f}"
        )
    print()
    print(f"Agreement: mean lead time ± its standard error over the {repeat} seeds (models differ by noise only)")
    header = f"{'system':<8}" + "".join(f"{name:>15}" for name in WAYS) + f"{'theory':>8}"
    print(header)
    print("-" * len(header))
    for t in timings:
        theory = ""
        if t.system == MM1.name:
            service = MM1.stations[0].mean
            theory = f"{service / (1 - service / MM1.arrival_mean):.2f}"
        cells = "".join(f"{f'{t.lead_time[n]:.2f} ±{t.lead_error[n]:.2f}':>15}" for n in WAYS)
        print(f"{t.system:<8}{cells}{theory:>8}")


def print_process(p: dict[str, float], repeat: int) -> None:
    """The whole-process check's report."""
    print()
    print(f"Whole process, M/M/1 of {p['customers']:,.0f} customers, median of {repeat} fresh interpreters:")
    print(
        f"  twin run --json {p['twin']:.2f} s, plain-SimPy script {p['plain']:.2f} s "
        f"(ratio {p['plain'] / p['twin']:.2f}, target >= 1.00); python -c 'import twin' {p['import']:.2f} s"
    )


def print_memory(m: dict[str, float]) -> None:
    """The memory check's report."""
    what = "event log" if m["events"] else "KPI tally"
    print()
    print(
        f"Memory, {what}: {m['stations']:.0f}-station line, {m['arrived']:,.0f} jobs arrived, "
        f"{m['completed']:,.0f} completed (throughput {m['throughput']:.3f}/min), in a subprocess"
    )
    if m["events"]:
        print(f"  event log: {m['records']:,.0f} records, nbytes {mib(m['log_nbytes'])}")
    print(
        f"  peak RSS: {mib(m['rss_before'])} after imports, {mib(m['peak_run'])} after the run "
        f"({m['run_s']:.1f} s), {mib(m['peak_kpis'])} after the KPIs ({m['kpi_s']:.1f} s)"
    )
    if not m["events"]:
        verdict = "under" if m["peak_kpis"] < 300 * MIB else "OVER"
        print(f"  peak {verdict} 300 MiB (target)")


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
    parser.add_argument("--no-log-memory", action="store_true", help="memory check with the KPI tally only")
    parser.add_argument("--no-motor", action="store_true", help="skip the motor plant (every feature on)")
    parser.add_argument("--no-process", action="store_true", help="skip the whole-process M/M/1 check")
    parser.add_argument("--systems", default="mm1,line5,line5f", help="systems to time (comma-separated)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the twin on each system")
    parser.add_argument(
        "--memory-child", nargs=3, type=int, metavar=("STATIONS", "JOBS", "EVENTS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.memory_child:
        stations, jobs, events = args.memory_child
        print(json.dumps(memory_child(stations, jobs, bool(events))))
        return 0

    jobs = 20_000 if args.quick else 100_000
    repeat = args.repeat or (3 if args.quick else 5)
    chosen = set(args.systems.split(","))
    systems = [(line, jobs * line.arrival_mean) for line in (MM1, LINE5, LINE5_FAILURES) if line.name in chosen]
    print(f"Python {sys.version.split()[0]}, SimPy {simpy.__version__}, pid {os.getpid()}")
    print()
    if systems:
        print_tables([measure(line, horizon, repeat) for line, horizon in systems], repeat)
    if not args.no_process:
        print_process(process_check(40_000 if args.quick else 200_000, repeat), repeat)
    if not args.no_motor:
        weeks = 1.0 if args.quick else 4.0
        print_motor_plant(motor_plant_speed(weeks, repeat), weeks, repeat)
    if not args.no_memory:
        memory_jobs = 10_000 if args.quick else 100_000
        print_memory(memory_check(50, memory_jobs, events=False))
        if not args.no_log_memory:
            print_memory(memory_check(50, memory_jobs, events=True))
    if args.profile:
        for line, horizon in systems:
            print()
            print(f"cProfile of the twin (KPI tally) on {line.name} (build, run, KPIs), by own time:")
            print(profile_twin(line, horizon, 25))
    return 0


if __name__ == "__main__":
    sys.exit(main())
