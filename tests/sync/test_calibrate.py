"""Calibration recovers a plant the twin did not simulate, fills a user's base scenario
without losing what the log does not show, and writes a valid, annotated scenario file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.helpers import scenario as make_scenario
from tests.plants import distribution_mean, two_product_line
from twin.cli import app
from twin.measure.experiment import simulate
from twin.scenario import load_scenario
from twin.sync.calibrate import Calibration, calibrate, calibrate_log
from twin.sync.eventlog import events_to_log

PLANT = two_product_line()


@pytest.fixture(scope="module")
def calibrated(week_csv: Path) -> Calibration:
    return calibrate_log(week_csv)


def test_structure_is_exact(calibrated: Calibration) -> None:
    s = calibrated.scenario
    assert list(s.stations) == ["saw", "mill", "drill", "paint", "pack"]
    for name, station in PLANT.stations.items():
        assert s.stations[name].machines == station.machines
        assert s.stations[name].buffer == station.buffer  # every finite buffer here blocks
    for name, product in PLANT.products.items():
        assert [op.station for op in s.products[name].route] == list(product.route)


def test_parameters_are_recovered(calibrated: Calibration) -> None:
    s = calibrated.scenario
    for name, product in PLANT.products.items():
        assert s.products[name].arrival is not None
        assert s.products[name].arrival.mean == pytest.approx(distribution_mean(product.arrival), rel=0.05)
        for step, station in enumerate(product.route):
            fitted = s.process_time(name, step).mean
            assert fitted == pytest.approx(distribution_mean(product.process[station]), rel=0.05), (name, station)
    for name, station in PLANT.stations.items():
        assert s.stations[name].scrap == pytest.approx(station.scrap, abs=0.02)
        failures = s.stations[name].failures
        if station.failures is None:
            assert failures is None
            continue
        assert failures is not None and failures.basis == "calendar"
        assert failures.ttr.mean == pytest.approx(distribution_mean(station.failures.ttr), rel=0.25)


def test_the_file_is_an_annotated_valid_scenario(calibrated: Calibration, tmp_path: Path) -> None:
    text = calibrated.yaml()
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    assert load_scenario(path) == calibrated.scenario
    fitted_lines = [line for line in text.splitlines() if "{dist:" in line]
    assert fitted_lines and all("# n=" in line and "KS=" in line for line in fitted_lines)
    assert "buffer: 5  # " in text and "machines: 4  # seen: paint-1, paint-2, paint-3, paint-4" in text
    report = calibrated.report()
    assert {f["path"] for f in report["fits"]} >= {"stations.saw.failures.ttf", "products.axle.arrival"}
    json.dumps(report, allow_nan=False)


def test_busy_basis_and_setups_from_the_twins_own_log() -> None:
    """A twin plant with busy-time failures and family setups: the basis is recognised as
    busy, the setup times per change of family are recovered."""
    truth = make_scenario(
        {
            "press": {
                "process_time": {"dist": "gamma", "shape": 4, "scale": 0.2},
                "failures": {"ttf": {"dist": "exponential", "mean": 60}, "ttr": {"dist": "exponential", "mean": 5}},
                "setup": {"matrix": {"a": {"b": 1.5}, "b": {"a": {"dist": "exponential", "mean": 2.5}}}},
            },
            "wrap": {"process_time": {"dist": "exponential", "mean": 0.5}},
        },
        {
            "a": {"arrival": {"dist": "exponential", "mean": 3}, "route": ["press", "wrap"]},
            "b": {"arrival": {"dist": "exponential", "mean": 3}, "route": ["press", "wrap"]},
        },
        horizon=30000,
    )
    log = events_to_log(simulate(truth, replications=1, seed=4).events, truth)
    found = calibrate(log)
    press = found.stations["press"]
    assert press.failures is not None and press.failures.basis == "busy"
    assert press.failures.ttf.mean == pytest.approx(60, rel=0.2)
    assert press.setup is not None
    assert press.setup.matrix["a"]["b"].mean == pytest.approx(1.5, rel=0.01)
    assert press.setup.matrix["b"]["a"].mean == pytest.approx(2.5, rel=0.15)


BASE = """\
name: my-line
description: kept as written
horizon: 5000
warmup: 500
replications: 3
products:
  axle:
    arrival: {dist: exponential, mean: 9}
    route: [saw, mill, paint, pack]
  spare:
    release: [{at: 0, quantity: 4}]
    route: [saw]
stations:
  saw: {machines: 1, process_time: 9, dispatching: spt}
  mill: {process_time: 1, buffer: 99}
  paint: {process_time: 1}
  pack: {process_time: 1}
  drill: {process_time: 1}
  oven: {process_time: 3, failures: {ttf: 100, ttr: 5}}
design:
  budget: 5
  options:
    stations.saw.machines: {min: 1, max: 4, cost: 1}
"""


def test_a_base_keeps_what_the_log_does_not_show(week_csv: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(BASE)
    found = calibrate_log(week_csv, base)
    s = found.scenario
    assert (s.name, s.description, s.horizon, s.warmup, s.replications) == ("my-line", "kept as written", 5000, 500, 3)
    assert s.stations["saw"].dispatching == "spt" and s.stations["saw"].machines == 2
    assert s.stations["mill"].buffer == 5
    assert s.stations["oven"].failures is not None and s.products["spare"].release is not None
    assert s.design is not None and "stations.saw.machines" in s.design.options
    assert s.products["axle"].arrival is not None and s.products["axle"].arrival.mean == pytest.approx(2.0, rel=0.05)
    assert "hub" in s.products
    assert any("oven" in line for line in found.findings)


def test_command_writes_scenario_and_report(week_csv: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "cal.yaml", tmp_path / "cal.json"
    done = CliRunner().invoke(app, ["calibrate", str(week_csv), "--out", str(out), "--report", str(report)])
    assert done.exit_code == 0, done.output
    assert load_scenario(out).stations["paint"].machines == 4
    document = json.loads(report.read_text())
    assert document["hygiene"]["duplicates"] == 0 and document["window"][1] <= 7 * 1440
    printed = CliRunner().invoke(app, ["calibrate", str(week_csv), "--json"])
    assert json.loads(printed.stdout)["stations"]["saw"]["machines"] == ["saw-1", "saw-2"]
    plain = CliRunner().invoke(app, ["calibrate", str(week_csv)])
    assert yaml.safe_load(plain.stdout)["stations"]["pack"]["machines"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "time,event,job,product,station,machine\n1,arrive,a,p,,\n2,strat,a,p,s,m\n",
            "bad.csv:3: event: unknown event; did you mean 'start'?",
        ),
        ("time,event,job\n1,arrive,a\n", "bad.csv:1: missing column 'product'"),
        (
            "time,event,job,product,station,machine\nnoon,arrive,a,p,,\n",
            "bad.csv:2: time: not a number or an ISO 8601 timestamp",
        ),
        ("", "bad.csv: empty file"),
        ("time,event,job,product,station,machine\n1,arrive,a,p,,\n", "bad.csv: no job goes through a station"),
    ],
)
def test_bad_logs_exit_2_and_write_nothing(tmp_path: Path, text: str, message: str) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(text)
    out = tmp_path / "out.yaml"
    done = CliRunner().invoke(app, ["calibrate", str(log), "--out", str(out), "--report", str(tmp_path / "r.json")])
    assert done.exit_code == 2
    assert message in done.output and "Traceback" not in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_a_folder_and_bad_options_exit_2(tmp_path: Path, week_csv: Path) -> None:
    runner = CliRunner()
    folder = runner.invoke(app, ["calibrate", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in folder.output
    option = runner.invoke(app, ["calibrate", str(week_csv), "--out", str(tmp_path / "x.txt")])
    assert option.exit_code == 2 and "--out: must end in .yaml" in option.output
    unit = runner.invoke(app, ["calibrate", str(week_csv), "--time-unit", "fortnight"])
    assert unit.exit_code == 2 and "--time-unit: unknown time unit" in unit.output


def test_time_of_day_variation_is_reported(tmp_path: Path) -> None:
    """Arrivals three times as frequent by day (08:00-20:00) as by night, in timestamps."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    times = []
    t = 0.0
    while t < 4 * 1440:
        t += rng.exponential(1.0 if 480 <= t % 1440 < 1200 else 3.0)
        times.append(t)
    rows = []
    for i, arrival in enumerate(times):
        job = f"j{i}"
        stamp = pd.Timestamp("2026-03-02T00:00:00") + pd.to_timedelta(arrival, unit="min")
        done = stamp + pd.Timedelta(seconds=20)
        rows += [
            (stamp, "arrive", job, "p", "", ""),
            (stamp, "enter", job, "p", "s", ""),
            (stamp, "start", job, "p", "s", "m"),
        ]
        rows += [(done, "finish", job, "p", "s", "m"), (done, "exit", job, "p", "", "")]
    frame = pd.DataFrame(rows, columns=["time", "event", "job", "product", "station", "machine"])
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    path = tmp_path / "days.csv"
    frame.to_csv(path, index=False)
    found = calibrate_log(path)
    profile = found.report()["products"]["p"]["time_of_day"]
    assert profile["varies"] and 8 <= profile["peak_hour"] < 20 and not 8 <= profile["quiet_hour"] < 20
    assert any("varies with the time of day" in line for line in found.findings)
