"""The `twin` command as users run it: real processes, the JSON contract, the run store."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import twin
from twin.measure.kpi import kpi_names

SCENARIO = """\
name: drill-line
horizon: 2000
warmup: 200
replications: 4
seed: 42
products:
  widget:
    arrival: {dist: exponential, mean: 1.25}
    route: [cut, drill]
    due_date: {slack: 30}
stations:
  cut:
    buffer: 5
    process_time: {dist: exponential, mean: 1.0}
    failures: {ttf: {dist: exponential, mean: 500}, ttr: {dist: exponential, mean: 20}}
  drill:
    process_time: {dist: triangular, low: 0.5, mode: 0.8, high: 1.1}
"""


def twin_command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `twin` entry point in a fresh interpreter."""
    code = "import sys; from twin.cli import main; sys.argv = ['twin', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_json_follows_the_contract(tmp_path: Path) -> None:
    """`run --json` prints one JSON document: scenario, replications, every KPI with mean and CI."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO)
    done = twin_command("run", str(path), "--json", "--replications", "3")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["scenario"] == "drill-line"
    assert document["replications"] == 3
    assert set(document["kpis"]) == set(kpi_names(twin.load_scenario(path)))
    for name, stats in document["kpis"].items():
        assert set(stats) == {"mean", "ci_low", "ci_high"}, name
        assert stats["ci_low"] <= stats["mean"] <= stats["ci_high"], name


@pytest.mark.slow
def test_same_seed_same_json_across_processes(tmp_path: Path) -> None:
    """Two processes with the same scenario and seed print identical JSON; another seed differs."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO)
    first = twin_command("run", str(path), "--json", "--seed", "7")
    second = twin_command("run", str(path), "--json", "--seed", "7")
    other = twin_command("run", str(path), "--json", "--seed", "8")
    assert first.returncode == second.returncode == other.returncode == 0
    assert first.stdout == second.stdout
    assert first.stdout != other.stdout


@pytest.mark.slow
def test_overrides_change_the_model(tmp_path: Path) -> None:
    """--set reaches the model: a second cutting machine removes most of the waiting there."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO)
    base = json.loads(twin_command("run", str(path), "--json").stdout)
    more = json.loads(twin_command("run", str(path), "--json", "--set", "stations.cut.machines=2").stdout)
    assert more["kpis"]["stations.cut.wait_mean"]["mean"] < 0.5 * base["kpis"]["stations.cut.wait_mean"]["mean"]


def test_out_writes_a_complete_run(tmp_path: Path) -> None:
    """--out writes scenario.yaml (resolved), meta.json, kpis.parquet and, on request, events."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO)
    store = tmp_path / "runs"
    done = twin_command("run", str(path), "--out", str(store), "--events", "--set", "seed=5", "--replications", "2")
    assert done.returncode == 0, done.stderr
    (run,) = list(store.iterdir())
    assert sorted(p.name for p in run.iterdir()) == ["events.parquet", "kpis.parquet", "meta.json", "scenario.yaml"]
    meta = json.loads((run / "meta.json").read_text())
    assert meta["seed"] == 5 and meta["replications"] == 2 and meta["overrides"] == {"seed": 5}
    assert meta["run_id"] == run.name and meta["versions"]["simpy"]
    resolved = twin.scenario.parse_scenario(yaml.safe_load((run / "scenario.yaml").read_text()))
    assert resolved == twin.load_scenario(path, ["seed=5", "replications=2"])  # as it ran
    kpis = pd.read_parquet(run / "kpis.parquet")
    assert list(kpis["replication"]) == [0, 1]
    again = twin.simulate(resolved, replications=2, keep_events=False).kpis
    pd.testing.assert_frame_equal(kpis, again)
    events = pd.read_parquet(run / "events.parquet")
    assert set(events["replication"]) == {0, 1}
    assert {"ARRIVE", "ENTER", "START", "FINISH", "EXIT", "STATE"} <= set(events["event"])


def test_table_and_plot(tmp_path: Path) -> None:
    """Without --json the KPI table goes to stdout in words; --plot writes a PNG."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO)
    done = twin_command("run", str(path), "--plot", str(tmp_path / "states.png"))
    assert done.returncode == 0, done.stderr
    assert "Throughput (jobs/min)" in done.stdout and "95% CI" in done.stdout
    assert (tmp_path / "states.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overloaded_station_is_warned_about(tmp_path: Path) -> None:
    """A station loaded at >= 100% runs, with a warning on stderr naming it."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO.replace("mean: 1.25", "mean: 0.9"))
    done = twin_command("validate", str(path))
    assert done.returncode == 0
    assert "warning: stations.cut: offered load is" in done.stderr


def test_single_replication_has_no_interval(tmp_path: Path) -> None:
    """One replication gives a mean and null interval bounds (valid JSON, no NaN)."""
    path = tmp_path / "line.yaml"
    path.write_text(SCENARIO)
    document = json.loads(twin_command("run", str(path), "--json", "--replications", "1").stdout)
    throughput = document["kpis"]["throughput"]
    assert throughput["ci_low"] is None and throughput["ci_high"] is None
    assert math.isfinite(throughput["mean"])
