"""The KPI tally gives the KPIs the event log gives, on every scenario of the library.

``twin run`` without ``--events``/``--log`` keeps only the sums the KPIs need
(:class:`twin.sim.tally.KpiTally`); its KPIs must be those of :func:`compute_kpis` over the
full log of the same run, to rounding (the sums are added in another order).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.helpers import scenario
from twin.measure.experiment import run_replication
from twin.measure.kpi import compute_kpis, tally_kpis
from twin.scenario import Scenario, load_scenario
from twin.sim.plant import Plant

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted([*(SCENARIOS / "examples").glob("*.yaml"), *(SCENARIOS / "validation").glob("*.yaml")])


def _short(path: Path) -> Scenario:
    """The scenario with its measured window cut to a quarter, to keep the test fast."""
    s = load_scenario(path)
    assert s.horizon is not None, f"{path.name}: the library's examples run to a horizon"
    return load_scenario(path, [f"horizon={s.warmup + 0.25 * (s.horizon - s.warmup)!r}"])


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_tally_kpis_equal_log_kpis(path: Path) -> None:
    """Same scenario, same seed: the tally's KPIs are the log's, every one of them."""
    s = _short(path)
    assert s.horizon is not None
    logged = Plant(s, seed=3)
    end = logged.run()
    expected = compute_kpis(logged.log, s, min(s.warmup, end), end)
    tallied = Plant(s, seed=3, events=False)
    assert tallied.run() == end
    if s.transport is not None and s.transport.vehicles is not None:
        assert tallied.tally is None  # vehicles: the transport KPIs need the log
        return
    assert tallied.tally is not None
    got = tally_kpis(tallied.tally, s, end)
    assert set(got) == set(expected)
    differ = {k: (expected[k], got[k]) for k in expected if not _same(expected[k], got[k])}
    assert not differ, f"{path.name}: tally and log disagree on {differ}"
    assert got["completed"] > 0 and tallied.left == logged.left


def test_the_model_runs_the_same_with_a_tally() -> None:
    """The tally changes what is recorded, not what happens: the same jobs arrive and leave."""
    s = _short(SCENARIOS / "examples" / "operator_shifts.yaml")
    a, b = Plant(s, seed=1), Plant(s, seed=1, events=False)
    a.run(), b.run()
    assert (a.arrived, a.left, a.in_system) == (b.arrived, b.left, b.in_system)
    assert b.tally is not None and b.tally.completed <= b.left


def test_a_plant_with_a_tally_has_no_log() -> None:
    """Asking a tallying plant for its log is an error, not an empty log."""
    s = _short(SCENARIOS / "validation" / "mm1.yaml")
    plant = Plant(s, events=False)
    with pytest.raises(RuntimeError, match="KPI tally"):
        _ = plant.log


def test_closed_runs_keep_the_log() -> None:
    """Without a horizon the window's end is unknown until the last job leaves: the log is kept."""
    s = scenario(
        stations={"a": {"process_time": 1}},
        products={"w": {"release": [{"at": 0, "quantity": 3}], "route": ["a"]}},
    )
    plant = Plant(s, events=False)
    assert plant.tally is None
    assert plant.run() == 3.0 and len(plant.log.job_time) > 0
    assert run_replication(s, 0).kpis["completed"] == 3


def test_warmup_inside_states_and_waits() -> None:
    """A deterministic line measured from a warm-up that falls inside operations and waits:
    the tally clips every interval at the window's start exactly as the log's KPIs do."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 2, "buffer": 0}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["a", "b"], "due_date": {"slack": 6}}},
        horizon=10.5,
        warmup=4.0,
    )
    plant = Plant(s, events=False)
    plant.run()
    assert plant.tally is not None
    k = tally_kpis(plant.tally, s, 10.5)
    # Exits at 5, 7, 9 inside [4, 10.5]; b busy from 3 on without a break: 6.5 of 6.5.
    assert k["completed"] == 3
    assert k["lead_time_mean"] == pytest.approx(7.0)
    assert k["stations.b.utilization"] == pytest.approx(1.0)
    assert k["tardiness_mean"] == pytest.approx((0 + 1 + 3) / 3)


@pytest.mark.parametrize("name", ["failing_machine.yaml", "two_machine_buffer.yaml", "mmc.yaml"])
def test_tally_from_a_plant_state(name: str) -> None:
    """A warm start (jobs placed from a snapshot, their records before the window) tallies
    the KPIs its log gives, over the same window from the state's time."""
    s = _short(SCENARIOS / "validation" / name)
    assert s.horizon is not None
    first = Plant(s, seed=2)
    first.env.run(until=s.horizon / 2)
    state = first.snapshot()
    assert state.jobs, "the snapshot should hold jobs"
    logged = run_replication(s, 0, seed=5, keep_log=True, state=state)
    tallied = run_replication(s, 0, seed=5, keep_log=False, state=state)
    differ = {k: (v, tallied.kpis[k]) for k, v in logged.kpis.items() if not _same(v, tallied.kpis[k])}
    assert not differ, f"{name}: tally and log disagree from a state on {differ}"
    assert tallied.kpis["completed"] > 0
