"""The held-out check of forecasts (issue 14): a plant simulated by Ciw, which the twin sees
only through its event log. ``twin calibrate`` learns a scenario from its first three weeks;
then at 40 cut times of the following days ``twin state LOG --at T`` and ``twin forecast SCENARIO
--state ... --horizon 480 --json`` forecast the completions of the next 8 hours, compared
with what the log says happened: the actual count lies inside the forecast's 90% interval
(P5-P95) at 80-97% of cut times, and the mean absolute error of the median is at least 30%
below that of a run of the same scenario started from empty.

The plant: regular arrivals into a press with rare, long calendar-time breakdowns (each
repair builds a backlog that takes hours to clear, which a start from empty cannot know),
then a packing station with a finite buffer (blocking).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.plants import WEEK, Failures, Plant, Product, Station, simulate_plant
from twin.cli import app

pytestmark = pytest.mark.slow

HORIZON = 480.0
CUTS = 40
REPLICATIONS = 40


def busy_press() -> Plant:
    """Regular arrivals into a press with rare, long breakdowns, then a packing station (85%
    busy, finite buffer): a repair leaves a backlog that the packers take hours to clear."""
    return Plant(
        stations={
            "press": Station(
                machines=1,
                failures=Failures(
                    ttf={"dist": "exponential", "mean": 1500}, ttr={"dist": "gamma", "shape": 4, "scale": 30}
                ),
            ),
            "pack": Station(machines=2, buffer=4),
        },
        products={
            "part": Product(
                {"dist": "gamma", "shape": 4, "scale": 0.25},
                ("press", "pack"),
                {
                    "press": {"dist": "gamma", "shape": 8, "scale": 0.075},
                    "pack": {"dist": "lognormal", "mean": 1.7, "sd": 0.5},
                },
            )
        },
    )


def _cli(*args: str) -> Any:
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.stdout


def test_forecasts_from_the_floors_state_beat_a_start_from_empty(tmp_path: Path) -> None:
    total = 4.5 * WEEK
    plant = simulate_plant(busy_press(), total, seed=21)
    log = plant.log
    train, full = tmp_path / "train.csv", tmp_path / "log.parquet"
    log[log["time"] <= 3 * WEEK].to_csv(train, index=False)
    log.to_parquet(full)
    scenario = tmp_path / "plant.yaml"
    _cli("calibrate", str(train), "--out", str(scenario))

    exits = np.sort(log.loc[log["event"] == "exit", "time"].to_numpy())
    cuts = np.linspace(3 * WEEK + 600.0, total - HORIZON - 60.0, CUTS)
    empty = json.loads(
        _cli(
            "run",
            str(scenario),
            "--json",
            "--replications",
            str(REPLICATIONS),
            "--set",
            f"horizon={HORIZON}",
            "--set",
            "warmup=0",
        )
    )["kpis"]["completed"]["mean"]
    inside, errors, empty_errors = [], [], []
    for i, at in enumerate(cuts):
        state = tmp_path / f"state{i}.json"
        _cli("state", str(full), "--at", f"{at:.6f}", "--out", str(state))
        found = json.loads(
            _cli(
                "forecast",
                str(scenario),
                "--state",
                str(state),
                "--horizon",
                str(HORIZON),
                "--json",
                "--replications",
                str(REPLICATIONS),
                "--seed",
                str(i),
            )
        )
        actual = int(((exits > at) & (exits <= at + HORIZON)).sum())
        total_ = found["completions"]["total"]
        inside.append(total_["p5"] <= actual <= total_["p95"])
        errors.append(abs(total_["p50"] - actual))
        empty_errors.append(abs(empty - actual))
    coverage = float(np.mean(inside))
    print(f"coverage {coverage:.2f}, MAE {np.mean(errors):.1f} against {np.mean(empty_errors):.1f} from empty")
    assert 0.80 <= coverage <= 0.97
    assert np.mean(errors) <= 0.7 * np.mean(empty_errors)
