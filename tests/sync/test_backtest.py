"""Backtests: the observed KPIs are the log's own, by the twin's definitions, and the
predicted ones come from the scenario run over the log's window."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.helpers import scenario as make_scenario
from tests.plants import PlantLog
from twin.cli import app
from twin.measure.experiment import events_frame, run_replication
from twin.measure.kpi import compute_kpis, kpi_names
from twin.sync.backtest import backtest
from twin.sync.calibrate import calibrate_log
from twin.sync.eventlog import events_to_log
from twin.sync.history import build_history
from twin.sync.hygiene import repair_log
from twin.sync.observed import observed_kpis


def test_observed_kpis_of_a_twin_log_are_its_own_kpis() -> None:
    """Every KPI, blocked, down and setup shares included, equals compute_kpis on the model's
    own log over the same window."""
    s = make_scenario(
        {
            "a": {
                "machines": 2,
                "process_time": {"dist": "gamma", "shape": 3, "scale": 0.3},
                "failures": {"ttf": {"dist": "exponential", "mean": 50}, "ttr": 4, "basis": "calendar"},
                "setup": {"matrix": {"x": {"y": 0.5}, "y": {"x": 0.7}}},
            },
            "b": {"buffer": 2, "process_time": {"dist": "exponential", "mean": 0.9}, "scrap": 0.05},
        },
        {
            "x": {"arrival": {"dist": "exponential", "mean": 2.2}, "route": ["a", "b"], "due_date": {"slack": 8}},
            "y": {"arrival": {"dist": "exponential", "mean": 2.2}, "route": ["a", "b"]},
        },
        horizon=3000,
    )
    replication = run_replication(s, 0, seed=5, keep_log=True)
    log = events_to_log(events_frame(s, [replication]), s)
    history = build_history(repair_log(log)[0])
    assert replication.log is not None
    expected = compute_kpis(replication.log, s, history.start, history.end)
    observed = observed_kpis(history, s)
    for name in kpi_names(s):
        assert observed[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name


def test_observed_kpis_of_a_ciw_log_are_ciws(week: PlantLog, week_csv: Path) -> None:
    calibrated = calibrate_log(week_csv).scenario
    history = build_history(repair_log(week.log)[0])
    truth = week.kpis(history.start, history.end)
    observed = observed_kpis(history, calibrated)
    for name, value in truth.items():
        assert observed[name] == pytest.approx(value, rel=1e-6), name


def test_backtest_table_and_command(week_csv: Path, tmp_path: Path) -> None:
    found = calibrate_log(week_csv)
    scenario_file = tmp_path / "plant.yaml"
    scenario_file.write_text(found.yaml())
    table = backtest(found.scenario, week_csv, replications=3)
    assert set(table.columns) >= {"observed", "mean", "ci_low", "ci_high", "error", "inside"}
    assert table.loc["throughput", "error"] == pytest.approx(0.0, abs=0.05)
    assert table.loc["stations.saw.utilization", "inside"] is not None
    done = CliRunner().invoke(app, ["backtest", str(scenario_file), str(week_csv), "--replications", "3", "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert list(document)[:2] == ["window", "kpis"]
    assert set(document["kpis"]["wip_mean"]) == {"observed", "mean", "ci_low", "ci_high", "error"}
    assert document["window"][0] < document["window"][1] <= 7 * 1440
    assert document["distances"]["lead_time"]["wasserstein"] >= 0
    shown = CliRunner().invoke(app, ["backtest", str(scenario_file), str(week_csv), "--replications", "2"])
    assert shown.exit_code == 0 and "Wasserstein" in shown.stdout and "in 95% PI" in shown.stdout


def test_a_log_of_another_plant_is_refused(tmp_path: Path, week_csv: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        "name: o\nhorizon: 10\nproducts: {axle: {arrival: 1, route: [saw]}}\nstations: {saw: {process_time: 1}}\n"
    )
    done = CliRunner().invoke(app, ["backtest", str(other), str(week_csv)])
    assert done.exit_code == 2
    assert "station 'mill' is in the log but not in the scenario" in done.output
    assert "product 'hub' is in the log but not in the scenario" in done.output
    missing = CliRunner().invoke(app, ["backtest", str(other), str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_machines_beyond_the_scenario_count_in_the_observed_capacity() -> None:
    s = make_scenario({"a": {"process_time": 1.0}}, {"p": {"arrival": 1.0, "route": ["a"]}}, horizon=10)
    wider = make_scenario(
        {"a": {"machines": 2, "process_time": 1.5}}, {"p": {"arrival": 1.0, "route": ["a"]}}, horizon=50
    )
    replication = run_replication(wider, 0, keep_log=True)
    history = build_history(repair_log(events_to_log(events_frame(wider, [replication]), wider))[0])
    observed = observed_kpis(history, s)
    assert observed["stations.a.utilization"] == pytest.approx(0.75, abs=0.02)
    assert np.isfinite(observed["wip_mean"])
