"""Shared scenarios of the study tests: small, fast, with a known direction of effect."""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from twin.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_machine_line() -> Scenario:
    """Saturated two-machine line: throughput rises with the buffer between the machines."""
    return twin.load_scenario(
        ROOT / "scenarios/validation/two_machine_buffer.yaml",
        ["horizon=1100", "warmup=100", "replications=4", "products.job.release[0].quantity=1500"],
    )


@pytest.fixture
def line_file(tmp_path: Path) -> Path:
    """The two-machine line as a file, for the command line."""
    text = (ROOT / "scenarios/validation/two_machine_buffer.yaml").read_text()
    path = tmp_path / "line.yaml"
    path.write_text(
        text.replace("horizon: 10100", "horizon: 1100")
        .replace("quantity: 12000", "quantity: 1500")
        .replace("replications: 10", "replications: 4")
    )
    return path
