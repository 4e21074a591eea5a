"""A small line with a design section: fast enough to search exhaustively in every test."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.scenario import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "scenarios" / "examples"

SMALL_LINE = """\
name: small-line
horizon: 220
warmup: 20
replications: 3
seed: 3
products:
  part:
    release: [{at: 0, quantity: 400}]
    route: [a, b, c]
stations:
  a: {process_time: {dist: exponential, mean: 1.0}}
  b: {buffer: 0, process_time: {dist: exponential, mean: 1.0}}
  c: {buffer: 0, machines: 1, process_time: {dist: exponential, mean: 1.6}}
design:
  objective: throughput
  budget: 4
  options:
    stations.b.buffer: {min: 0, max: 3, cost: 1}
    stations.c.buffer: {min: 0, max: 3, cost: 1}
    stations.c.machines: {min: 1, max: 2, cost: 2}
"""


@pytest.fixture
def small_text() -> str:
    """The small line's YAML: buffers before b and c (cost 1 a slot), a second machine at the
    bottleneck c (cost 2), budget 4."""
    return SMALL_LINE


@pytest.fixture
def small_line() -> Scenario:
    """The small line, parsed."""
    import yaml

    return parse_scenario(yaml.safe_load(SMALL_LINE))


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    """The small line as a file, for the command line."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_LINE)
    return path
