"""A small scenario library and run store for the dashboard tests.

Pages read where to look from ``TWIN_RUNS``, ``TWIN_SCENARIOS`` and ``TWIN_JOBSHOP`` (as
``twin dashboard`` sets them); the fixtures point them at temporary folders. They also set
``TWIN_DASHBOARD_DEBUG``, so that an error on a page reaches the test instead of the
friendly message users see.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.widgets import DEBUG
from twin.jobshop.evaluation import RESULT_COLUMNS, SCHEDULE_COLUMNS, evaluate, rule_method
from twin.jobshop.instances import load_instance
from twin.scenario import parse_scenario
from twin.studies.design import DesignEvaluator, DesignSpace
from twin.studies.store import write_evaluation
from twin.studies.sweep import run_sweep
from twin.studies.whatif import run_whatif

ROOT = Path(__file__).resolve().parents[2]

SMALL_LINE = """\
name: small-line
description: Two stations with a small buffer and breakdowns, for quick what-ifs.
time_unit: min
horizon: 600
warmup: 60
replications: 3
seed: 3
products:
  part:
    arrival: {dist: exponential, mean: 1.25}
    route: [cut, drill]
    due_date: {slack: 20}
stations:
  cut:
    description: Saw.
    process_time: {dist: exponential, mean: 1.0}
    failures: {ttf: {dist: exponential, mean: 100}, ttr: {dist: exponential, mean: 5}}
  drill:
    buffer: 3
    process_time: {dist: triangular, low: 0.5, mode: 0.8, high: 1.2}
"""

DESIGN_LINE = """\
name: design-line
time_unit: min
horizon: 300
warmup: 30
replications: 2
seed: 5
products:
  part:
    arrival: {dist: exponential, mean: 1.1}
    route: [a, b]
stations:
  a: {process_time: {dist: exponential, mean: 0.8}}
  b: {buffer: 0, process_time: {dist: exponential, mean: 0.9}}
design:
  objective: throughput
  budget: 4
  options:
    stations.b.buffer: {min: 0, max: 3, cost: 1}
    stations.b.machines: {min: 1, max: 2, cost: 2}
"""

BROKEN = """\
name: broken-line
products:
  part:
    arrival: {dist: exponential, mean: 1.0}
    route: [cut, nowhere]
stations:
  cut:
    machines: 0
    process_time: 1.0
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A scenario folder with one small valid line and one broken file."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "small_line.yaml").write_text(SMALL_LINE)
    (folder / "broken.yaml").write_text(BROKEN)
    return folder


@pytest.fixture
def settings(tmp_path: Path, library: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the dashboard at an empty store and the small library; returns the store."""
    store = tmp_path / "runs"
    store.mkdir()  # as `twin dashboard` makes it
    monkeypatch.setenv("TWIN_RUNS", str(store))
    monkeypatch.setenv("TWIN_SCENARIOS", str(library))
    monkeypatch.setenv("TWIN_JOBSHOP", str(ROOT / "scenarios/jobshop"))
    monkeypatch.setenv(DEBUG, "1")
    return store


def scenario_evaluation(store: Path) -> Path:
    """An evaluation as `twin evaluate --scenario FILE --seeds 1-3 --store` writes it: one
    row per method and seed, no makespan, no gap, the KPI in ``kpi`` and ``value``, no schedules."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "method": method, "kind": "rule", "instance": "small-line", "seed": seed, "makespan": np.nan,
            "best_known": np.nan, "gap": np.nan, "optimal": None, "decisions": 300, "wall_time_s": 0.1,
            "wall_time_per_decision_s": 0.0003, "kpi": "tardiness_mean", "value": base + seed + rng.random(),
        }
        for seed in (1, 2, 3)
        for method, base in (("rule:atc", 10.0), ("rule:edd", 14.0))
    ]  # fmt: skip
    results = pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "kpi", "value"])
    return write_evaluation(results, pd.DataFrame(columns=list(SCHEDULE_COLUMNS)), store, "rules on small-line")


def design_study(store: Path) -> Path:
    """A grid design study of DESIGN_LINE (every feasible design, 2 replications)."""
    import yaml

    from agents.design_search import grid_search

    space = DesignSpace.of(parse_scenario(yaml.safe_load(DESIGN_LINE)))
    with DesignEvaluator(space, 2, 5, root=store, label="grid") as evaluator:
        result = grid_search(evaluator)
        evaluator.write_summary(result.to_json())
    assert evaluator.folder is not None
    return evaluator.folder


def fill_store(store: Path) -> None:
    """Two named what-if runs, a three-point sweep, a design study, a rules evaluation on
    ft06 and one on a scenario."""
    import yaml

    line = parse_scenario(yaml.safe_load(SMALL_LINE))
    run_whatif(line, {}, store, "as is", replications=2)
    run_whatif(line, {"stations.drill.buffer": 8}, store, "bigger drill buffer", replications=2)
    run_sweep(line, {"stations.drill.buffer": [1, 2, 4]}, replications=2, root=store)
    design_study(store)
    instance = load_instance(ROOT / "scenarios/jobshop/ft06.txt")
    results, schedules = evaluate(
        [instance], {"rule:fifo": rule_method("fifo"), "rule:mwkr": rule_method("mwkr")}, {"ft06": 55}
    )
    write_evaluation(results, schedules, store, "rules on ft06")
    scenario_evaluation(store)


@pytest.fixture
def filled(settings: Path) -> Path:
    """The store of :func:`settings` with a few runs, a sweep and an evaluation."""
    fill_store(settings)
    return settings


def wait_until_healthy(url: str, alive: Callable[[], str | None], log: Path, timeout_s: float = 90) -> None:
    """Poll the Streamlit server at ``url`` until its health check answers 200; ``alive`` returns
    None while its processes run, else why not (the test fails with it, or with ``log`` on timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        died = alive()
        assert died is None, died
        assert time.monotonic() < deadline, f"dashboard not healthy in {timeout_s:.0f} s: {log.read_text()}"
        time.sleep(0.3)
