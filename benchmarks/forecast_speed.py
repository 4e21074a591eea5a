"""Speed of a forecast from a plant state: 20 stations, 200 jobs in the state, 8 hours, 50 replications.

The plant: a 20-station line of two products (each station 2 machines, buffers of 12, gamma
process times, calendar-time breakdowns at every fourth station), loaded at about 85%. The
state is the model's own snapshot at the first time 200 jobs are in the plant.

What is timed, in one process, one after the other (wall-clock, ``time.perf_counter``, the
median of ``--repeat`` rounds, interleaved so that machine noise hits all alike):

* **forecast**: :func:`twin.forecast` from the state, 480 min, 50 replications, serial;
* **forecast --workers K**: the same on K local processes (the sweeps' executor, started and
  stopped inside the timing);
* **simulate(state=...)**: ``twin.simulate`` from the state, KPIs only: the same simulation
  without the forecast's per-bin and per-job summaries;
* **reference**: ``twin.simulate`` of the same scenario from empty over the same 480 min and
  50 replications (serial, no event log kept): what a plain run of that length costs here.

**ratio** = time / reference. A warm plant is full from its first minute (200 jobs moving)
where a plant started empty fills up first, so a warm run has more events to simulate: the
``simulate(state=...)`` row shows that share, the forecast row adds the summaries. Absolute
seconds vary between machines; the ratios are what to compare.

Usage::

    python benchmarks/forecast_speed.py              # 50 replications, --workers 2, 3 rounds
    python benchmarks/forecast_speed.py --quick      # 10 replications, 1 round
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from twin.measure.experiment import simulate
from twin.scenario import Scenario, parse_scenario
from twin.scenario.state import PlantState
from twin.sim.plant import Plant
from twin.sync.forecast import forecast

STATIONS = 20
JOBS = 200
HORIZON = 480.0


def plant(rush: float = 1.0) -> Scenario:
    """The benchmark plant (see the module doc), its arrival rates times ``rush``."""
    stations: dict[str, Any] = {}
    for i in range(STATIONS):
        spec: dict[str, Any] = {
            "machines": 2,
            "buffer": 12,
            "process_time": {"dist": "gamma", "shape": 4, "scale": 0.34},
        }
        if i % 4 == 3:
            spec["failures"] = {
                "ttf": {"dist": "weibull", "shape": 1.5, "scale": 600},
                "ttr": {"dist": "exponential", "mean": 20},
            }
        stations[f"s{i:02d}"] = spec
    route = list(stations)
    products = {
        "a": {"arrival": {"dist": "exponential", "mean": 1.4 / rush}, "route": route, "due_date": {"slack": 400}},
        "b": {"arrival": {"dist": "exponential", "mean": 2.8 / rush}, "route": route[::2], "due_date": {"slack": 300}},
    }
    return parse_scenario(
        {"name": "bench-20", "horizon": HORIZON, "seed": 1, "products": products, "stations": stations}
    )


def state_with_jobs(jobs: int) -> PlantState:
    """A snapshot with ``jobs`` jobs in the plant: of the same plant with twice the arrivals
    (a rush that fills the buffers), the first time that many are in it."""
    model = Plant(plant(rush=2.0).model_copy(update={"horizon": None}), seed=7)
    while model.in_system < jobs:
        model.env.step()
    return model.snapshot()


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 replications, one round")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    replications = args.replications or (10 if args.quick else 50)
    rounds = args.repeat or (1 if args.quick else 3)
    scenario = plant()
    state = state_with_jobs(JOBS)
    print(f"plant: {STATIONS} stations, state at t={state.time:.1f} with {len(state.jobs)} jobs; horizon {HORIZON:g}")
    ways = {
        "forecast (serial)": lambda: forecast(scenario, state, HORIZON, replications),
        f"forecast --workers {args.workers}": lambda: forecast(
            scenario, state, HORIZON, replications, workers=args.workers
        ),
        "simulate(state=...), KPIs only": lambda: simulate(scenario, replications, keep_events=False, state=state),
        "reference: simulate from empty": lambda: simulate(scenario, replications, keep_events=False),
    }
    forecast(scenario, state, HORIZON, 2)  # warm up imports and caches
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, fn in ways.items():
            times[name].append(_timed(fn))
    reference = statistics.median(times["reference: simulate from empty"])
    print(f"{replications} replications, median of {rounds} round(s)")
    print(f"{'way':<34}{'seconds':>10}{'ratio':>8}")
    for name, spent in times.items():
        median = statistics.median(spent)
        print(f"{name:<34}{median:>10.2f}{median / reference:>8.2f}")


if __name__ == "__main__":
    main()
