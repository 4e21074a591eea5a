"""The plant: job sources, static job shops run to completion, and the flow counters."""

from __future__ import annotations

import math

import pytest

from tests.helpers import job_records, run_plant, scenario
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent


def job_shop() -> object:
    """Three jobs on three machines (FIFO, unlimited buffers), each released once at 0.

    Hand schedule (non-delay, first come first served):
        m1: j0 [0, 3], j1 [3, 5]
        m2: j2 [0, 4], j0 [4, 6], j1 [8, 12]
        m3: j2 [4, 7], j1 [7, 8], j0 [8, 10]
    Makespan 12 (j1 ends last on m2).
    """
    return scenario(
        stations={"m1": {}, "m2": {}, "m3": {}},
        products={
            "j0": {
                "route": [
                    {"station": "m1", "process_time": 3},
                    {"station": "m2", "process_time": 2},
                    {"station": "m3", "process_time": 2},
                ]
            },
            "j1": {
                "route": [
                    {"station": "m1", "process_time": 2},
                    {"station": "m3", "process_time": 1},
                    {"station": "m2", "process_time": 4},
                ]
            },
            "j2": {"route": [{"station": "m2", "process_time": 4}, {"station": "m3", "process_time": 3}]},
        },
    )


def test_static_job_shop_makespan() -> None:
    """Without a horizon the run ends when the last job leaves: the hand-computed makespan."""
    plant = run_plant(job_shop())
    assert plant.env.now == 12.0
    assert job_records(plant, JobEvent.START, "m1") == [(0.0, 0, 0), (3.0, 1, 0)]
    assert job_records(plant, JobEvent.START, "m2") == [(0.0, 2, 0), (4.0, 0, 0), (8.0, 1, 0)]
    assert job_records(plant, JobEvent.START, "m3") == [(4.0, 2, 0), (7.0, 1, 0), (8.0, 0, 0)]
    assert job_records(plant, JobEvent.EXIT) == [(7.0, 2, -1), (10.0, 0, -1), (12.0, 1, -1)]
    assert (plant.arrived, plant.left, plant.in_system) == (3, 3, 0)


def test_static_job_shop_kpis() -> None:
    """Makespan-window KPIs: throughput 3 / 12, lead times 10, 12, 7."""
    rep = run_replication(job_shop(), 0)
    assert rep.end == 12.0
    assert rep.kpis["throughput"] == 0.25
    assert rep.kpis["lead_time_mean"] == pytest.approx(29 / 3)
    assert rep.kpis["stations.m2.utilization"] == pytest.approx(10 / 12)


def test_open_stream_first_arrival_after_one_gap() -> None:
    """Arrivals every 2.5 come at 2.5, 5, 7.5, ...; the horizon itself is not an event time."""
    s = scenario(stations={"a": {"process_time": 1}}, products={"w": {"arrival": 2.5, "route": ["a"]}}, horizon=10)
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.ARRIVE)] == [2.5, 5.0, 7.5]
    assert plant.env.now == 10.0


def test_release_orders_bring_quantity_with_due_date() -> None:
    """Each order releases its quantity at `at`; its jobs carry the order's absolute due."""
    s = scenario(
        stations={"a": {"process_time": 1}},
        products={"w": {"release": [{"at": 5, "quantity": 2, "due": 9}, {"at": 1}], "route": ["a"]}},
    )
    plant = run_plant(s)
    assert [(t, job) for t, job, _ in job_records(plant, JobEvent.ARRIVE)] == [(1.0, 0), (5.0, 1), (5.0, 2)]
    assert list(plant.log.job_due) == [math.inf, 9.0, 9.0]
    assert plant.env.now == 7.0


def test_due_date_slack_counts_from_arrival() -> None:
    """`due_date.slack` 4 on arrivals at 3, 6, 9 gives due dates 7, 10, 13."""
    s = scenario(
        stations={"a": {"process_time": 1}},
        products={"w": {"arrival": 3, "route": ["a"], "due_date": {"slack": 4}}},
        horizon=10,
    )
    plant = run_plant(s)
    assert list(plant.log.job_due) == [7.0, 10.0, 13.0]


def test_products_share_stations_and_keep_their_product_index() -> None:
    """The log records each job's product index in scenario order."""
    s = scenario(
        stations={"a": {"process_time": 1}},
        products={"x": {"release": [{"at": 0, "quantity": 2}], "route": ["a"]}, "y": {"route": ["a"]}},
    )
    plant = run_plant(s)
    assert list(plant.log.job_product) == [0, 0, 1]
    assert plant.env.now == 3.0


def test_reentrant_route_visits_a_station_twice() -> None:
    """Route a, b, a: the job comes back to a and takes its second time there."""
    s = scenario(
        stations={"a": {}, "b": {"process_time": 2}},
        products={"w": {"route": [{"station": "a", "process_time": 1}, "b", {"station": "a", "process_time": 3}]}},
    )
    plant = run_plant(s)
    assert job_records(plant, JobEvent.START, "a") == [(0.0, 0, 0), (3.0, 0, 0)]
    assert plant.env.now == 6.0


def test_closed_run_with_late_release_waits_for_it() -> None:
    """The run does not end while an order is still to be released."""
    s = scenario(
        stations={"a": {"process_time": 1}},
        products={"early": {"route": ["a"]}, "late": {"release": [{"at": 50}], "route": ["a"]}},
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.EXIT)] == [1.0, 51.0]
    assert plant.env.now == 51.0


def test_horizon_cuts_a_run_with_work_left() -> None:
    """Jobs still inside at the horizon are WIP: arrived = left + in_system."""
    s = scenario(
        stations={"a": {"process_time": 2}},
        products={"w": {"release": [{"at": 0, "quantity": 10}], "route": ["a"]}},
        horizon=7,
    )
    plant = run_plant(s)
    assert (plant.arrived, plant.left, plant.in_system) == (10, 3, 7)
    assert plant.env.now == 7.0
