"""A small scenario library and run store for the dashboard tests.

Pages read where to look from ``TWIN_RUNS``, ``TWIN_SCENARIOS`` and ``TWIN_JOBSHOP`` (as
``twin dashboard`` sets them); the fixtures point them at temporary folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.jobshop.evaluation import evaluate, rule_method
from twin.jobshop.instances import load_instance
from twin.scenario import parse_scenario
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
    return store


def fill_store(store: Path) -> None:
    """Two named what-if runs, a two-point sweep and a rules evaluation on ft06."""
    import yaml

    line = parse_scenario(yaml.safe_load(SMALL_LINE))
    run_whatif(line, {}, store, "as is", replications=2)
    run_whatif(line, {"stations.drill.buffer": 8}, store, "bigger drill buffer", replications=2)
    run_sweep(line, {"stations.cut.machines": [1, 2]}, replications=2, root=store)
    instance = load_instance(ROOT / "scenarios/jobshop/ft06.txt")
    results, schedules = evaluate(
        [instance], {"rule:fifo": rule_method("fifo"), "rule:mwkr": rule_method("mwkr")}, {"ft06": 55}
    )
    write_evaluation(results, schedules, store, "rules on ft06")


@pytest.fixture
def filled(settings: Path) -> Path:
    """The store of :func:`settings` with a few runs, a sweep and an evaluation."""
    fill_store(settings)
    return settings
