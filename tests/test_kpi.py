"""KPIs as pure functions of the event log, checked on deterministic lines whose every figure
can be computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.helpers import run_plant, scenario
from twin.measure.experiment import run_replication
from twin.measure.kpi import compute_kpis, kpi_bounds, kpi_names, state_time, time_average
from twin.measure.stats import bounded_interval
from twin.sim.log import MachineState


@pytest.mark.parametrize(
    ("times", "levels", "initial", "start", "end", "expected"),
    [
        ([], [], 2.0, 0.0, 10.0, 2.0),  # no change: the initial level
        ([5.0], [4.0], 0.0, 0.0, 10.0, 2.0),  # 0 on [0, 5], 4 on [5, 10]
        ([1.0, 3.0], [1.0, 3.0], 0.0, 0.0, 4.0, 1.25),  # (0 x 1 + 1 x 2 + 3 x 1) / 4
        ([1.0, 3.0], [1.0, 3.0], 0.0, 2.0, 4.0, 2.0),  # window [2, 4]: 1 on [2, 3], 3 on [3, 4]
        ([1.0, 3.0], [1.0, 3.0], 0.0, 5.0, 7.0, 3.0),  # window after the last change
        ([2.0, 2.0], [7.0, 1.0], 0.0, 0.0, 4.0, 0.5),  # zero-length level 7 weighs nothing
    ],
)
def test_time_average(
    times: list[float], levels: list[float], initial: float, start: float, end: float, expected: float
) -> None:
    """Time average of a step function over a window."""
    assert time_average(np.array(times), np.array(levels), initial, start, end) == pytest.approx(expected)


def test_time_average_of_an_empty_window_is_nan() -> None:
    """A window of no length has no average."""
    assert math.isnan(time_average(np.array([1.0]), np.array([1.0]), 0.0, 3.0, 3.0))


def blocking_line(**top: object) -> object:
    """Five jobs released at 0 through a (1.0) -> b (2.0, no buffer); see test_station for the
    timetable: exits at 3, 5, 7, 9, 11; a busy 5, blocked 4, idle 2."""
    return scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 2, "buffer": 0}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["a", "b"], "due_date": {"slack": 6}}},
        **top,
    )


def test_kpis_of_a_deterministic_line() -> None:
    """Every KPI over the whole run [0, 11]."""
    rep = run_replication(blocking_line(), 0)
    k = rep.kpis
    assert rep.end == 11.0
    assert k["completed"] == 5
    assert k["throughput"] == pytest.approx(5 / 11)
    assert k["lead_time_mean"] == pytest.approx((3 + 5 + 7 + 9 + 11) / 5)
    assert k["tardiness_mean"] == pytest.approx((0 + 0 + 1 + 3 + 5) / 5)  # due at 6
    assert k["wip_mean"] == pytest.approx((5 * 3 + 4 * 2 + 3 * 2 + 2 * 2 + 1 * 2) / 11)
    assert k["scrapped"] == 0
    assert k["stations.a.wait_mean"] == pytest.approx((0 + 1 + 3 + 5 + 7) / 5)
    assert k["stations.b.wait_mean"] == 0.0  # held jobs wait on a, not in b's buffer
    assert k["stations.a.utilization"] == pytest.approx(5 / 11)
    assert k["stations.a.blocked"] == pytest.approx(4 / 11)
    assert k["stations.a.starved"] == pytest.approx(2 / 11)
    assert k["stations.b.utilization"] == pytest.approx(10 / 11)
    assert k["stations.b.starved"] == pytest.approx(1 / 11)
    for station in ("a", "b"):
        assert (
            k[f"stations.{station}.down"] == k[f"stations.{station}.setup"] == k[f"stations.{station}.off_shift"] == 0.0
        )
    assert k["stations.a.oee"] == pytest.approx(5 * 1 / 11)  # ideal 1.0 x 5 good jobs / 11
    assert k["stations.b.oee"] == pytest.approx(5 * 2 / 11)


def test_kpis_over_a_window() -> None:
    """Over [4, 11]: exits 5, 7, 9, 11; WIP 4, 3, 3, 2, 2, 1, 1; a's operations starting
    inside are jobs 3 and 4 (waits 5 and 7); a is busy 2, blocked 3, idle 2."""
    plant = run_plant(blocking_line())
    k = compute_kpis(plant.log, plant.scenario, 4.0, 11.0)
    assert k["completed"] == 4
    assert k["throughput"] == pytest.approx(4 / 7)
    assert k["lead_time_mean"] == pytest.approx(8.0)
    assert k["tardiness_mean"] == pytest.approx((0 + 1 + 3 + 5) / 4)
    assert k["wip_mean"] == pytest.approx((4 * 1 + 3 * 2 + 2 * 2 + 1 * 2) / 7)
    assert k["stations.a.wait_mean"] == pytest.approx(6.0)
    assert k["stations.a.utilization"] == pytest.approx(2 / 7)
    assert k["stations.a.blocked"] == pytest.approx(3 / 7)
    assert k["stations.a.starved"] == pytest.approx(2 / 7)


def test_warmup_sets_the_window_of_a_replication() -> None:
    """run_replication measures over [warmup, horizon]."""
    s = blocking_line(horizon=10.5, warmup=4)
    rep = run_replication(s, 0)
    plant = run_plant(s)
    assert rep.kpis == pytest.approx(compute_kpis(plant.log, s, 4.0, 10.5), nan_ok=True)
    assert rep.kpis["completed"] == 3  # exits at 5, 7, 9


def test_no_exits_leaves_per_job_kpis_undefined() -> None:
    """Lead time and tardiness are NaN when nobody left; counts are 0."""
    plant = run_plant(blocking_line())
    k = compute_kpis(plant.log, plant.scenario, 0.0, 2.5)
    assert k["completed"] == 0
    assert k["throughput"] == 0.0
    assert math.isnan(k["lead_time_mean"])
    assert math.isnan(k["tardiness_mean"])


def test_state_time_per_machine() -> None:
    """Time in each state per machine, clipped to the window."""
    plant = run_plant(blocking_line())
    spent = state_time(plant.log, 2, 0.0, 11.0)
    assert spent.shape == (2, len(MachineState))
    assert spent[0, MachineState.BUSY] == 5.0
    assert spent[0, MachineState.BLOCKED] == 4.0
    assert spent[0, MachineState.IDLE] == 2.0
    assert spent[1, MachineState.BUSY] == 10.0
    clipped = state_time(plant.log, 2, 2.5, 3.5)
    assert clipped[0, MachineState.BLOCKED] == 0.5
    assert clipped[0, MachineState.BUSY] == 0.5


def test_parallel_machines_average_over_machines() -> None:
    """Two machines, one job of 4.0: utilisation 4 / (2 x 4)."""
    s = scenario(stations={"m": {"machines": 2, "process_time": 4}}, products={"w": {"route": ["m"]}})
    k = run_replication(s, 0).kpis
    assert k["stations.m.utilization"] == 0.5
    assert k["stations.m.starved"] == 0.5


def test_kpi_names_match_computed_kpis() -> None:
    """kpi_names lists exactly the KPIs compute_kpis returns, contract names first."""
    s = blocking_line()
    names = kpi_names(s)
    assert names[:5] == ["throughput", "completed", "wip_mean", "lead_time_mean", "tardiness_mean"]
    assert set(names) == set(run_replication(s, 0).kpis)
    for kpi in ("utilization", "wait_mean", "blocked", "starved", "down", "oee"):
        assert f"stations.a.{kpi}" in names


def test_little_law_on_an_open_line() -> None:
    """WIP = throughput x lead time (Little), up to the edge effects of a long run."""
    s = scenario(
        stations={
            "a": {"process_time": {"dist": "exponential", "mean": 0.7}},
            "b": {"process_time": {"dist": "exponential", "mean": 0.6}, "buffer": 3},
        },
        products={"w": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["a", "b"]}},
        horizon=20_000,
    )
    k = run_replication(s, 0).kpis
    assert k["wip_mean"] == pytest.approx(k["throughput"] * k["lead_time_mean"], rel=0.02)


def test_wait_mean_excludes_setup_time() -> None:
    """Job x runs [0, 1]; job y leaves the buffer at 1, sets up [1, 3] and starts at 3: the
    waits in the buffer are 0 and 1."""
    s = scenario(
        stations={"m": {"process_time": 1, "setup": {"default": 2}}},
        products={"x": {"route": ["m"]}, "y": {"route": ["m"]}},
    )
    assert run_replication(s, 0).kpis["stations.m.wait_mean"] == pytest.approx(0.5)


def test_oee_above_one_keeps_its_interval() -> None:
    """OEE's ideal time is the mean process time, so replications of a saturated station whose
    draws ran short score above 1: the interval must not collapse on a bound of 1."""
    values = np.array([0.98, 1.03, 1.01, 0.99, 1.02])
    for name in ("stations.a.oee", "stations.a.performance"):
        mean, low, high = bounded_interval(values, *kpi_bounds(name))
        assert low < 1.0 < high and low < mean < high
    assert kpi_bounds("stations.a.availability") == (0.0, 1.0)
