"""Every scenario file under ``scenarios/`` validates, is not overloaded, and runs.

The library is what users copy from, so a file that no longer loads (a renamed key), that
quietly loads a station past its capacity, or that runs but produces nonsense KPIs is a bug.
Files are found by globbing, so a new example, validation case or job-shop instance is
covered the moment it is added.

A scenario may be overloaded on purpose (to show a queue that grows without bound); it says
so with a comment line containing ``intentionally overloaded``, and only then are load
warnings allowed.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from twin.errors import ScenarioError
from twin.measure.experiment import run_replication
from twin.measure.kpi import STATE_KPIS
from twin.scenario import Scenario, load_scenario, load_warnings

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted([*SCENARIOS.rglob("*.yaml"), *SCENARIOS.rglob("*.yml")])
EXAMPLES = SCENARIOS / "examples"


SHORT_RUN_SHARE = 0.25
"""Fraction of the measured window (after warm-up) a smoke run simulates: unit-free, so it
scales with whatever time unit and horizon a file chose."""


def _id(path: Path) -> str:
    return str(path.relative_to(SCENARIOS))


def _load(path: Path, overrides: list[str] | None = None) -> Scenario:
    try:
        return load_scenario(path, overrides or [])
    except ScenarioError as error:
        pytest.fail(f"{_id(path)} does not validate:\n{error}")


def _short(path: Path) -> Scenario:
    """The scenario with its measured window cut to a quarter (closed scenarios run whole)."""
    scenario = _load(path)
    if scenario.horizon is None:
        return scenario
    horizon = scenario.warmup + SHORT_RUN_SHARE * (scenario.horizon - scenario.warmup)
    return _load(path, [f"horizon={horizon!r}"])


def test_the_library_is_not_empty() -> None:
    assert len(list(EXAMPLES.glob("*.yaml"))) >= 4, f"expected at least four examples in {EXAMPLES}"


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_validates(path: Path) -> None:
    _load(path)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_has_no_load_warnings(path: Path) -> None:
    warnings = load_warnings(_load(path))
    assert warnings == [], f"{_id(path)} is overloaded: {warnings}"


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_runs_with_sane_kpis(path: Path) -> None:
    scenario = _short(path)
    kpis = run_replication(scenario, replication=0).kpis

    assert kpis["completed"] > 0, "no job left the plant"
    assert kpis["throughput"] > 0
    assert kpis["wip_mean"] >= 0
    assert kpis["lead_time_mean"] > 0
    assert kpis["tardiness_mean"] >= 0
    for station in scenario.stations:
        fractions = {kpi: kpis[f"stations.{station}.{kpi}"] for kpi in STATE_KPIS.values()}
        for kpi, value in fractions.items():
            assert 0 <= value <= 1, f"stations.{station}.{kpi} = {value}"
        # The machine states partition the time: their fractions add up to one.
        assert math.isclose(sum(fractions.values()), 1, abs_tol=1e-9), f"stations.{station}: {fractions}"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=_id)
def test_example_explains_itself(path: Path) -> None:
    """An example opens with its comment block and is listed in the examples' README."""
    assert path.read_text(encoding="utf-8").startswith("#"), "an example starts with comments saying what it models"
    assert f"`{path.name}`" in (EXAMPLES / "README.md").read_text(encoding="utf-8"), "not listed in the README table"
