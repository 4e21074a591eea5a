"""How long ``twin calibrate`` takes on a log of a million events (issue 13: under a minute).

The log is the twin's own (a five-station, two-product plant with parallel machines,
blocking, breakdowns and scrap, written in the plant format by ``events_to_log``), long enough
for ``--events`` rows. Timed: the whole calibration of the CSV file (read, repair, reconstruct,
fit, write the YAML text), and its stages; the reference is ``pandas.read_csv`` of the same
file, measured in the same run, so the ratio means something on a shared, noisy machine.

    python benchmarks/calibrate_speed.py [--events 1000000] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from twin.measure.experiment import simulate
from twin.scenario import Scenario, parse_scenario
from twin.sync.calibrate import calibrate_log
from twin.sync.eventlog import events_to_log, read_log, write_log
from twin.sync.history import build_history
from twin.sync.hygiene import repair_log

LIMIT_S = 60.0
"""The issue's goal for a million events."""

ROWS_PER_MINUTE = 12.0
"""Log rows the plant below writes per simulated minute (a little under the ~12.4 measured),
to size the horizon; the log is then cut to exactly ``--events`` rows."""


def plant(horizon: float) -> Scenario:
    """The benchmark plant (minutes): the shape of tests/plants.py's two-product line."""
    return parse_scenario(
        {
            "name": "benchmark-plant",
            "horizon": horizon,
            "products": {
                "axle": {
                    "arrival": {"dist": "exponential", "mean": 2.0},
                    "route": ["saw", "mill", "paint", "pack"],
                    "process_time": {
                        "saw": {"dist": "gamma", "shape": 4, "scale": 0.45},
                        "mill": {"dist": "lognormal", "mean": 1.4, "sd": 0.5},
                        "paint": {"dist": "normal", "mean": 3.2, "sd": 0.6},
                        "pack": {"dist": "weibull", "shape": 2.0, "scale": 0.9},
                    },
                },
                "hub": {
                    "arrival": {"dist": "gamma", "shape": 2, "scale": 1.25},
                    "route": ["saw", "drill", "paint", "pack"],
                    "process_time": {
                        "saw": {"dist": "exponential", "mean": 1.6},
                        "drill": {"dist": "weibull", "shape": 2.0, "scale": 1.8},
                        "paint": {"dist": "gamma", "shape": 5, "scale": 0.64},
                        "pack": {"dist": "normal", "mean": 0.9, "sd": 0.15},
                    },
                },
            },
            "stations": {
                "saw": {
                    "machines": 2,
                    "failures": {"ttf": {"dist": "exponential", "mean": 480}, "ttr": 15, "basis": "calendar"},
                },
                "mill": {"buffer": 5, "scrap": 0.02},
                "drill": {"buffer": 4},
                "paint": {
                    "machines": 4,
                    "buffer": 8,
                    "failures": {"ttf": {"dist": "weibull", "shape": 1.5, "scale": 700}, "ttr": 20},
                },
                "pack": {"buffer": 3, "scrap": 0.01},
            },
        }
    )


def _timed(label: str, timings: dict[str, float], work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = work()
    timings[label] = time.perf_counter() - started
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="log rows to calibrate from")
    parser.add_argument("--keep", type=Path, help="folder to keep the log in (default: a temporary one)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="calibrate-speed-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plant.csv"
    scenario = plant(args.events / ROWS_PER_MINUTE)
    log = events_to_log(simulate(scenario, replications=1, seed=1).events, scenario)
    log = log.iloc[: args.events]
    write_log(log, path)
    timings: dict[str, float] = {}
    _timed("reference: pandas.read_csv", timings, lambda: pd.read_csv(path))
    frame = _timed("read_log", timings, lambda: read_log(path))
    repaired = _timed("repair_log", timings, lambda: repair_log(frame)[0])
    _timed("build_history", timings, lambda: build_history(repaired))
    found = _timed("calibrate (all of it)", timings, lambda: calibrate_log(path))
    _timed("annotated YAML", timings, found.yaml)
    reference = timings["reference: pandas.read_csv"]
    print(f"calibrate on {len(log):,} events ({path.stat().st_size / 1e6:.0f} MB CSV, {len(found.fitted)} fits)\n")
    print("| step | seconds | x pandas.read_csv |")
    print("| --- | ---: | ---: |")
    for label, seconds in timings.items():
        print(f"| {label} | {seconds:.2f} | {seconds / reference:.1f} |")
    total = timings["calibrate (all of it)"] + timings["annotated YAML"]
    verdict = "under" if total < LIMIT_S else "OVER"
    print(f"\ncalibration {total:.1f} s for {len(log):,} events: {verdict} the {LIMIT_S:.0f} s goal")


if __name__ == "__main__":
    main()
