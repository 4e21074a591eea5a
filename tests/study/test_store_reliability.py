"""Reliability of the run store and the study commands (issue 12): runs keyed by path, what
is not a run refused, damaged files reported, partial folders hidden and cleaned, sweeps
locked, workers that die with their parent, outputs checked before simulating."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

import twin
from twin.cli import app
from twin.scenario import Scenario, parse_scenario
from twin.studies.compare import compare
from twin.studies.store import PARTIAL, StoreError, find_runs, list_runs, sweep_lock, write_run
from twin.studies.sweep import run_sweep

MINI = {
    "name": "mini",
    "horizon": 100,
    "replications": 3,
    "products": {"p": {"arrival": {"dist": "exponential", "mean": 1}, "route": ["a"]}},
    "stations": {"a": {"process_time": {"dist": "exponential", "mean": 0.5}}},
}


def mini(**changes: object) -> Scenario:
    return parse_scenario({**MINI, **changes})


def store_run(root: Path, seed: int, run_id: str = "R", **changes: object) -> Path:
    return write_run(twin.simulate(mini(**changes), seed=seed), root, run_id=run_id)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_runs_of_one_id_from_two_stores_are_not_pooled(tmp_path: Path) -> None:
    a, b = store_run(tmp_path / "s1", seed=1), store_run(tmp_path / "s2", seed=2)
    wip = {run: float(np.mean(__import__("pandas").read_parquet(run / "kpis.parquet")["wip_mean"])) for run in (a, b)}
    assert wip[a] != wip[b]
    table = compare([a, b])
    rows = table[table["kpi"] == "wip_mean"].set_index("run")
    assert rows.loc[str(a), "mean"] == pytest.approx(wip[a])
    assert rows.loc[str(b), "mean"] == pytest.approx(wip[b])
    assert rows.loc[str(b), "diff"] == pytest.approx(wip[b] - wip[a])


def test_a_run_named_twice_counts_once(tmp_path: Path) -> None:
    run = store_run(tmp_path, seed=1)
    once, twice = compare([run]), compare([run, run])
    assert find_runs([run, run]) == [run]
    assert list(twice["ci_low"]) == list(once["ci_low"])


@pytest.mark.parametrize("kind", ["empty_dir", "meta_only", "a_file", "missing"])
def test_what_is_not_a_run_is_refused(tmp_path: Path, runner: CliRunner, kind: str) -> None:
    run = store_run(tmp_path / "store", seed=1)
    other = tmp_path / kind
    if kind == "empty_dir":
        other.mkdir()
    elif kind == "meta_only":
        other.mkdir()
        (other / "meta.json").write_text((run / "meta.json").read_text())
    elif kind == "a_file":
        other.write_text("x")
    with pytest.raises(StoreError, match=kind):
        compare([run, other])
    result = runner.invoke(app, ["compare", str(run), str(other)])
    assert result.exit_code == 2
    assert kind in result.stderr and "Traceback" not in result.output


DAMAGE = {
    "truncated": lambda run: (run / "kpis.parquet").write_bytes((run / "kpis.parquet").read_bytes()[:100]),
    "empty": lambda run: (run / "kpis.parquet").write_bytes(b""),
    "random": lambda run: (run / "kpis.parquet").write_bytes(os.urandom(500)),
    "zero_rows": lambda run: (
        __import__("pandas").read_parquet(run / "kpis.parquet").iloc[:0].to_parquet(run / "kpis.parquet")
    ),
    "no_replication": lambda run: (
        __import__("pandas")
        .read_parquet(run / "kpis.parquet")
        .drop(columns="replication")
        .to_parquet(run / "kpis.parquet")
    ),
    "bad_meta": lambda run: (run / "meta.json").write_text("{not json"),
    "meta_list": lambda run: (run / "meta.json").write_text("[1, 2]"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_runs_are_reported_not_crashed_on(tmp_path: Path, runner: CliRunner, damage: str) -> None:
    good, bad = store_run(tmp_path / "s1", seed=1), store_run(tmp_path / "s2", seed=2)
    DAMAGE[damage](bad)
    for order in ([good, bad], [tmp_path / "s1", tmp_path / "s2"]):
        result = runner.invoke(app, ["compare", *map(str, order)])
        assert result.exit_code == 2, result.output
        assert "s2" in result.stderr and "Traceback" not in result.output


def test_damaged_sweep_file_is_reported_and_resume_starts_afresh(tmp_path: Path, runner: CliRunner) -> None:
    root = tmp_path / "store"
    first = run_sweep(mini(), {"stations.a.machines": [1, 2]}, replications=2, root=root)
    assert first.folder is not None
    text = (first.folder / "sweep.json").read_text()
    (first.folder / "sweep.json").write_text(text[: len(text) // 2])
    result = runner.invoke(app, ["compare", str(first.folder)])
    assert result.exit_code == 2 and "sweep.json" in result.stderr
    again = run_sweep(mini(), {"stations.a.machines": [1, 2]}, replications=2, root=root, resume=True)
    assert again.folder != first.folder


def test_concurrent_resume_of_one_sweep_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    root = tmp_path / "store"
    done = run_sweep(mini(), {"stations.a.machines": [1, 2]}, replications=2, root=root)
    assert done.folder is not None
    with sweep_lock(done.folder), pytest.raises(StoreError, match="another process is running this sweep"):
        run_sweep(mini(), {"stations.a.machines": [1, 2]}, replications=2, root=root, resume=True)
    again = run_sweep(mini(), {"stations.a.machines": [1, 2]}, replications=2, root=root, resume=True)
    assert again.folder == done.folder


KILL_INSIDE_WRITE = """
import sys, time
from pathlib import Path
from twin.studies.store import atomic_folder
with atomic_folder(Path(sys.argv[1]) / "R") as folder:
    (folder / "meta.json").write_text("{}")
    (folder / "kpis.parquet").write_bytes(b"half")
    print("inside", flush=True)
    time.sleep(60)
"""


def test_partial_folders_stay_out_of_globs_and_are_cleaned(tmp_path: Path) -> None:
    root = tmp_path / "store"
    child = subprocess.Popen([sys.executable, "-c", KILL_INSIDE_WRITE, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "inside"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    assert list((root / PARTIAL).glob("*/R/kpis.parquet")), "the killed write left its folder"
    for pattern in ("*/kpis.parquet", "*/*/kpis.parquet"):  # what a user's own query globs
        count = duckdb.connect().execute(f"SELECT count(*) FROM glob('{root}/{pattern}')").fetchall()
        assert count == [(0,)]
    assert list_runs(root).empty
    store_run(root, seed=1, run_id="S")  # the next write cleans what no live process owns
    assert not (root / PARTIAL).exists()


WORKERS_THEN_WAIT = """
import os, sys, time
from twin.measure.executors import ProcessExecutor
executor = ProcessExecutor(2)
pids = list(executor.run(os.getpid, [(i, ()) for i in range(8)]))
print(" ".join(str(pid) for _, pid in pids), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_workers_exit_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", WORKERS_THEN_WAIT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = {int(pid) for pid in parent.stdout.readline().split()}
    assert len(workers) >= 1 and parent.pid not in workers
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def test_different_scenarios_need_force(tmp_path: Path, runner: CliRunner) -> None:
    a = store_run(tmp_path, seed=1, run_id="A")
    b = store_run(tmp_path, seed=1, run_id="B", name="other")
    refused = runner.invoke(app, ["compare", str(a), str(b)])
    assert refused.exit_code == 2 and "different scenarios (mini, other)" in refused.stderr
    forced = runner.invoke(app, ["compare", str(a), str(b), "--force"])
    assert forced.exit_code == 0 and "warning: these runs simulate different scenarios" in forced.stderr


def test_compare_table_for_people(tmp_path: Path, runner: CliRunner) -> None:
    runs = [store_run(tmp_path, seed=1, run_id=f"R{i}", horizon=100 + i) for i in range(10)]
    wide = runner.invoke(app, ["compare", *map(str, runs[:2])])
    assert "Throughput (jobs/min)" in wide.stdout  # labels, as twin run prints them
    assert "e+" not in wide.stdout  # no 1.38e+03-style numbers
    assert "scrap" not in wide.stdout.lower()  # zero in every run: hidden
    long = runner.invoke(app, ["compare", *map(str, runs)])
    assert long.exit_code == 0
    assert "one row per run and KPI" in long.stderr
    assert long.stdout.count("Throughput (jobs/min)") == 1 and long.stdout.count("baseline") >= 1


def test_outputs_are_checked_before_simulating(tmp_path: Path, runner: CliRunner) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps(MINI))
    (tmp_path / "adir").mkdir()
    out = tmp_path / "runs"
    for extra, expected in (
        (["--plot", str(tmp_path / "out.xyz")], "only PNG"),
        (["--plot", str(tmp_path / "adir")], "is a folder"),
        (["--out", str(file / "sub")], "is a file, so no folder can be made"),
    ):
        result = runner.invoke(app, ["run", str(file), "--out", str(out), *extra])
        assert result.exit_code == 2 and expected in result.stderr
    assert not out.exists()
    long_name = runner.invoke(app, ["run", str(file), "--set", f"name={'x' * 300}", "--out", str(out)])
    assert long_name.exit_code == 0, long_name.output


def test_stored_scenario_says_how_the_run_ran(tmp_path: Path, runner: CliRunner) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps(MINI))
    out = tmp_path / "runs"
    assert (
        runner.invoke(app, ["run", str(file), "--replications", "1", "--seed", "7", "--out", str(out)]).exit_code == 0
    )
    stored = twin.load_scenario(next(out.glob("mini-*/scenario.yaml")))
    assert (stored.replications, stored.seed) == (1, 7)


@pytest.mark.parametrize(("vary", "expected"), [("seed=1,2,3", "--seed"), ("replications=1,5", "--replications")])
def test_sweep_refuses_what_it_cannot_vary(tmp_path: Path, runner: CliRunner, vary: str, expected: str) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps(MINI))
    result = runner.invoke(app, ["sweep", str(file), "--vary", vary])
    assert result.exit_code == 2 and expected in result.stderr


def test_sweep_events_give_each_point_a_timeline(tmp_path: Path, runner: CliRunner) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps(MINI))
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["sweep", str(file), "--vary", "stations.a.machines=1,2", "--events", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*/*/events.parquet"))) == 2


def test_warmup_never_writes_outside_the_working_folder(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps(MINI))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for name in ("../escaped", str(tmp_path / "abs")):
        result = runner.invoke(app, ["warmup", str(file), "--set", f"name={name}", "--replications", "2"])
        assert result.exit_code == 0, result.output
    assert len(list(tmp_path.rglob("*.png"))) == 2
    assert all(p.parent == work for p in tmp_path.rglob("*.png"))
    quiet = runner.invoke(app, ["warmup", str(file), "--json", "--replications", "2"])
    assert json.loads(quiet.stdout)["plot"] is None
    assert len(list(work.glob("*.png"))) == 2


def test_unreachable_dask_scheduler_is_a_clean_error(tmp_path: Path, runner: CliRunner) -> None:
    pytest.importorskip("distributed")
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps(MINI))
    result = runner.invoke(
        app, ["sweep", str(file), "--vary", "stations.a.machines=1,2", "--engine", "dask", "--address", "not-a-url"]
    )
    assert result.exit_code == 2 and "cannot reach a Dask scheduler" in result.stderr


def test_list_runs_of_an_empty_store_is_an_empty_table(tmp_path: Path) -> None:
    (tmp_path / "emptystore").mkdir()
    for root in (tmp_path / "emptystore", tmp_path / "missing"):
        table = list_runs(root)
        assert table.empty and "run_id" in table.columns


@pytest.mark.slow
def test_ctrl_c_of_a_sweep_with_workers_prints_no_traceback(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: the workers ignore it, the command stops them,
    keeps the finished points and says how to resume."""
    file = tmp_path / "mini.yaml"
    file.write_text(json.dumps({**MINI, "horizon": 20000}))
    twin_bin = Path(sys.executable).with_name("twin")
    command = [str(twin_bin), "sweep", str(file), "--vary", "stations.a.machines=1,2", "--replications", "200"]
    sweep = subprocess.Popen(
        [*command, "--workers", "2", "--out", str(tmp_path / "runs")],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(8)  # the workers are up and simulating
    os.killpg(sweep.pid, signal.SIGINT)
    _, stderr = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "--resume" in stderr
