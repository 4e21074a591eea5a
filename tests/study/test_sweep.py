"""Sweeps: the factorial plan, common random numbers, executors that agree, a resumable store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from twin.errors import ScenarioError
from twin.scenario import Scenario
from twin.studies.store import find_runs, list_runs, load_kpis
from twin.studies.sweep import parse_vary, plan_points, run_sweep


def test_factorial_and_zipped_plans() -> None:
    """--vary values multiply out; --zip pairs them."""
    vary = parse_vary(["a.b=1,2", "c=x,y"])
    assert vary == {"a.b": [1, 2], "c": ["x", "y"]}
    assert plan_points(vary) == [{"a.b": 1, "c": "x"}, {"a.b": 1, "c": "y"}, {"a.b": 2, "c": "x"}, {"a.b": 2, "c": "y"}]
    assert plan_points(vary, zipped=True) == [{"a.b": 1, "c": "x"}, {"a.b": 2, "c": "y"}]


@pytest.mark.parametrize(
    ("texts", "zipped", "expected"),
    [
        (["a.b"], False, "--vary: expected path=v1,v2"),  # no values
        (["a=1", "a=2"], False, "--vary a: given twice"),  # same path twice
        (["a=1,2", "b=1"], True, "--zip: every --vary needs as many values"),  # unequal lengths
    ],
)
def test_bad_plans_are_refused(texts: list[str], zipped: bool, expected: str) -> None:
    """Each bad plan names its problem."""
    with pytest.raises(ScenarioError, match=expected):
        plan_points(parse_vary(texts), zipped)


def test_a_point_that_breaks_the_scenario_is_named(two_machine_line: Scenario) -> None:
    """An invalid value is reported with its point before anything runs."""
    with pytest.raises(ScenarioError, match=r"point stations.m2.buffer=-1: stations.m2.buffer: must be >= 0"):
        run_sweep(two_machine_line, {"stations.m2.buffer": [1, -1]})


def test_throughput_rises_with_the_buffer(two_machine_line: Scenario) -> None:
    """More room between two saturated machines blocks the first less: throughput rises."""
    result = run_sweep(two_machine_line, {"stations.m2.buffer": [0, 1, 3, 8]})
    summary = result.summary()
    throughput = summary[summary["kpi"] == "throughput"].sort_values("stations.m2.buffer")["mean"].to_numpy()
    assert all(throughput[1:] > throughput[:-1]), throughput
    blocked = summary[summary["kpi"] == "stations.m1.blocked"].sort_values("stations.m2.buffer")["mean"].to_numpy()
    assert all(blocked[1:] < blocked[:-1]), blocked


def test_points_share_random_numbers(two_machine_line: Scenario) -> None:
    """Points differing only in m2's times see the same m1 times: m1's busy time agrees exactly
    while m1 is never blocked (a huge buffer), replication by replication."""
    result = run_sweep(two_machine_line, {"stations.m2.process_time": [0.5, 0.6], "stations.m2.buffer": [100000]})
    first, second = (point.result.kpis["stations.m1.utilization"] for point in result.points)
    pd.testing.assert_series_equal(first, second)


def test_executors_give_identical_kpis(two_machine_line: Scenario) -> None:
    """The same sweep in-process and on a local process pool gives bit-identical KPIs."""
    vary = {"stations.m2.buffer": [0, 2]}
    serial = run_sweep(two_machine_line, vary)
    pooled = run_sweep(two_machine_line, vary, workers=2)
    for a, b in zip(serial.points, pooled.points, strict=True):
        pd.testing.assert_frame_equal(a.result.kpis, b.result.kpis)


def test_stored_sweep_layout(two_machine_line: Scenario, tmp_path: Path) -> None:
    """A stored sweep is a folder with sweep.json and one complete run per point."""
    result = run_sweep(two_machine_line, {"stations.m2.buffer": [0, 2]}, root=tmp_path)
    assert result.folder is not None
    plan = json.loads((result.folder / "sweep.json").read_text())
    assert plan["status"] == "complete" and plan["replications"] == 4 and plan["vary"] == {"stations.m2.buffer": [0, 2]}
    runs = find_runs([result.folder])
    assert [run.name for run in runs] == [p["run_id"] for p in plan["points"]]
    meta = json.loads((runs[1] / "meta.json").read_text())
    assert meta["overrides"] == {"stations.m2.buffer": 2} and meta["sweep_id"] == result.folder.name
    listed = list_runs(tmp_path)
    assert list(listed["run_id"]) == [run.name for run in runs]
    kpis = load_kpis(runs)
    assert list(kpis["run_id"].unique()) == [run.name for run in runs] and len(kpis) == 8
    assert list(kpis["run"].unique()) == [str(run) for run in runs]
    stored = kpis[kpis["run_id"] == runs[0].name].drop(columns=["run", "run_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, result.points[0].result.kpis)


def test_resume_runs_only_missing_points(two_machine_line: Scenario, tmp_path: Path) -> None:
    """A sweep with a point deleted (as if killed before it) reruns only that point."""
    vary = {"stations.m2.buffer": [0, 1, 2]}
    first = run_sweep(two_machine_line, vary, root=tmp_path)
    assert first.folder is not None
    lost = first.folder / first.points[1].run_id
    kept = first.folder / first.points[0].run_id
    stamp = (kept / "meta.json").read_text()
    subprocess.run(["rm", "-rf", str(lost)], check=True)
    again = run_sweep(two_machine_line, vary, root=tmp_path, resume=True)
    assert again.folder == first.folder
    assert (kept / "meta.json").read_text() == stamp  # untouched
    for a, b in zip(first.points, again.points, strict=True):
        pd.testing.assert_frame_equal(a.result.kpis, b.result.kpis)


@pytest.mark.slow
def test_killed_sweep_resumes_to_the_uninterrupted_store(line_file: Path, tmp_path: Path) -> None:
    """Kill a sweep process midway; --resume completes it; the store then equals an
    uninterrupted sweep's, and no half point ever looked complete."""
    args = ["sweep", str(line_file), "--vary", "stations.m2.buffer=0,1,2,3,4,5,6,7", "--replications", "6"]
    code = "import sys; from twin.cli import main; sys.argv = ['twin', *sys.argv[1:]]; main()"
    store = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-c", code, *args, "--out", str(store)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        folders = list(store.glob("*/*-p0*"))
        if len([f for f in folders if not f.name.startswith(".")]) >= 2:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    (sweep,) = store.iterdir()
    done_before = sorted(run.name for run in find_runs([sweep]))
    assert 2 <= len(done_before) < 8, done_before
    assert json.loads((sweep / "sweep.json").read_text())["status"] == "running"
    resumed = subprocess.run(
        [sys.executable, "-c", code, *args, "--out", str(store), "--resume", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    whole = subprocess.run(
        [sys.executable, "-c", code, *args, "--out", str(tmp_path / "whole"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(list(store.iterdir())) == 1
    assert json.loads((sweep / "sweep.json").read_text())["status"] == "complete"
    strip = [{k: v for k, v in point.items() if k != "run_id"} for point in json.loads(resumed.stdout)]
    assert strip == [{k: v for k, v in point.items() if k != "run_id"} for point in json.loads(whole.stdout)]
    (whole_sweep,) = (tmp_path / "whole").iterdir()
    a = load_kpis(find_runs([sweep])).drop(columns=["run", "run_id"])
    b = load_kpis(find_runs([whole_sweep])).drop(columns=["run", "run_id"])
    pd.testing.assert_frame_equal(a, b)
