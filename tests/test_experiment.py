"""Replications and event tables: results depend only on (scenario, seed, replication), in
this process or any other."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.helpers import scenario
from tests.sim.test_streams import random_line
from twin.measure.experiment import events_frame, run_replication, simulate
from twin.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: per (seed, replication), the digests of a replication's log
# columns and of its KPIs.
DIGEST_SCRIPT = """
import hashlib, json, sys
from twin.measure.experiment import run_replication
from twin.scenario import parse_scenario
data, runs = json.loads(sys.argv[1])
out = []
for seed, replication in runs:
    rep = run_replication(parse_scenario(data), replication, seed, keep_log=True)
    log = hashlib.sha256()
    for name, column in sorted(rep.log.columns().items()):
        log.update(name.encode()); log.update(column.tobytes())
    out.append([log.hexdigest(), hashlib.sha256(json.dumps(rep.kpis, sort_keys=True).encode()).hexdigest()])
print(json.dumps(out))
"""

RUNS = [(5, 1), (6, 1)]
"""(seed, replication) pairs compared across processes."""


def digests(data: dict[str, Any], seed: int, replication: int) -> list[str]:
    """The same digests as DIGEST_SCRIPT, computed in this process."""
    rep = run_replication(parse_scenario(data), replication, seed, keep_log=True)
    assert rep.log is not None
    log = hashlib.sha256()
    for name, column in sorted(rep.log.columns().items()):
        log.update(name.encode())
        log.update(column.tobytes())
    return [log.hexdigest(), hashlib.sha256(json.dumps(rep.kpis, sort_keys=True).encode()).hexdigest()]


def line_data() -> dict[str, Any]:
    return {"name": "random", **random_line()}


@pytest.fixture(scope="module")
def elsewhere() -> list[list[str]]:
    """Digests of RUNS from a fresh interpreter with a fixed, different string-hash seed."""
    env = os.environ | {"PYTHONHASHSEED": "987"}
    done = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT, json.dumps([line_data(), RUNS])],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    result: list[list[str]] = json.loads(done.stdout)
    return result


def test_same_results_in_another_process(elsewhere: list[list[str]]) -> None:
    """Another interpreter reproduces the log and KPIs bit for bit (streams are keyed by a
    stable hash, never Python's salted hash())."""
    assert [digests(line_data(), seed, replication) for seed, replication in RUNS] == elsewhere


def test_other_seed_other_results_in_another_process(elsewhere: list[list[str]]) -> None:
    """Another seed changes both digests."""
    (log_5, kpis_5), (log_6, kpis_6) = elsewhere
    assert log_5 != log_6
    assert kpis_5 != kpis_6


def test_replications_are_independent_tasks() -> None:
    """Replication r of simulate() equals run_replication(r) alone, whatever ran before."""
    s = parse_scenario(line_data())
    result = simulate(s, replications=3, seed=9)
    alone = run_replication(s, 2, 9)
    row = result.kpis.iloc[2].drop("replication")
    assert row.to_dict() == pytest.approx(alone.kpis, nan_ok=True)
    assert result.kpis.iloc[0]["completed"] != result.kpis.iloc[1]["completed"] or (
        result.kpis.iloc[0]["wip_mean"] != result.kpis.iloc[1]["wip_mean"]
    )


def test_simulate_uses_scenario_settings_by_default() -> None:
    """Replications and seed come from the scenario unless given."""
    s = parse_scenario(line_data() | {"replications": 2, "seed": 4})
    result = simulate(s)
    assert result.seed == 4
    assert result.kpis["replication"].tolist() == [0, 1]
    assert result.kpis.iloc[1].drop("replication").to_dict() == pytest.approx(
        run_replication(s, 1, 4).kpis, nan_ok=True
    )


def test_events_frame_of_a_deterministic_line() -> None:
    """The table names events, products, stations and states; machine indices are within
    the station; rows are time-ordered."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"machines": 2, "process_time": 2}},
        products={"w": {"release": [{"at": 0, "quantity": 2}], "route": ["a", "b"]}},
    )
    frame = events_frame(s, [run_replication(s, 0, keep_log=True)])
    assert list(frame.columns) == ["replication", "time", "event", "job", "product", "station", "machine", "state"]
    assert frame["time"].is_monotonic_increasing
    jobs = frame[frame["event"] != "STATE"]
    assert jobs[["time", "event", "job", "station", "machine"]].values.tolist() == [
        [0.0, "ARRIVE", 0, "", -1],
        [0.0, "ENTER", 0, "a", -1],
        [0.0, "START", 0, "a", 0],
        [0.0, "ARRIVE", 1, "", -1],
        [0.0, "ENTER", 1, "a", -1],
        [1.0, "FINISH", 0, "a", 0],
        [1.0, "ENTER", 0, "b", -1],
        [1.0, "START", 0, "b", 0],
        [1.0, "START", 1, "a", 0],
        [2.0, "FINISH", 1, "a", 0],
        [2.0, "ENTER", 1, "b", -1],
        [2.0, "START", 1, "b", 1],
        [3.0, "FINISH", 0, "b", 0],
        [3.0, "EXIT", 0, "", -1],
        [4.0, "FINISH", 1, "b", 1],
        [4.0, "EXIT", 1, "", -1],
    ]
    assert set(jobs["product"]) == {"w"}
    states = frame[frame["event"] == "STATE"]
    b1 = states[(states["station"] == "b") & (states["machine"] == 1)]
    assert b1[["time", "state"]].values.tolist() == [[0.0, "idle"], [2.0, "busy"], [4.0, "idle"]]


def test_events_of_several_replications() -> None:
    """Result.events stacks replications, each time-ordered; None when logs were dropped."""
    s = parse_scenario(line_data() | {"horizon": 50})
    result = simulate(s, replications=2, seed=1)
    events = result.events
    assert isinstance(events, pd.DataFrame)
    assert events["replication"].unique().tolist() == [0, 1]
    for _, rows in events.groupby("replication"):
        assert np.all(np.diff(rows["time"].to_numpy()) >= 0)
    assert simulate(s, replications=1, seed=1, keep_events=False).events is None
