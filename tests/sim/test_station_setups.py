"""Sequence-dependent setups by product family: exact times from the matrix, none for the
first job or a repeat of the family, the default for changes the matrix does not list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import job_records, run_plant, scenario, state_fractions, state_intervals
from twin.sim.log import JobEvent, MachineState

BUSY, IDLE, SETUP, DOWN = MachineState.BUSY, MachineState.IDLE, MachineState.SETUP, MachineState.DOWN


def family_sequence(families: list[str], setup: dict[str, Any], **station: Any) -> Any:
    """One FIFO machine (1.0 per job) and one job per product, released at 0 in list order;
    product ``p<i>`` belongs to family ``families[i]``."""
    products = {f"p{i}": {"family": family, "route": ["m"]} for i, family in enumerate(families)}
    return scenario(stations={"m": {"process_time": 1, "setup": setup, **station}}, products=products)


MATRIX = {"matrix": {"X": {"Y": 2}, "Y": {"X": 5}}, "default": 1}


def test_setup_times_follow_the_matrix() -> None:
    """X, Y, Y, X, Z, Z: no setup first, 2 (X->Y), 0 (Y->Y unlisted), 5 (Y->X), 1 (X->Z
    unlisted: default), 0 (Z->Z)."""
    plant = run_plant(family_sequence(["X", "Y", "Y", "X", "Z", "Z"], MATRIX))
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "m")] == [0.0, 3.0, 4.0, 10.0, 12.0, 13.0]
    assert plant.env.now == 14.0
    assert [span for span in state_intervals(plant, "m") if span[2] == SETUP] == [
        (1.0, 3.0, SETUP),
        (5.0, 10.0, SETUP),
        (11.0, 12.0, SETUP),
    ]
    assert state_fractions(plant, "m")[SETUP] == pytest.approx(8 / 14)
    # A SETUP record marks when the job left the buffer for a machine that sets up for it.
    assert job_records(plant, JobEvent.SETUP, "m") == [(1.0, 1, 0), (5.0, 3, 0), (11.0, 4, 0)]


def test_listed_same_family_setup_is_used() -> None:
    """A matrix entry X->X overrides the free repeat."""
    plant = run_plant(family_sequence(["X", "X", "X"], {"matrix": {"X": {"X": 0.5}}}))
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "m")] == [0.0, 1.5, 3.0]


def test_family_defaults_to_the_product_name() -> None:
    """Without `family`, each product is its own family: a->b takes the matrix time."""
    s = scenario(
        stations={"m": {"process_time": 1, "setup": {"matrix": {"a": {"b": 3}}, "default": 7}}},
        products={"a": {"route": ["m"]}, "b": {"route": ["m"]}},
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "m")] == [0.0, 4.0]


def test_no_setup_declared_means_no_setup() -> None:
    """Family changes cost nothing on a station without `setup`."""
    s = scenario(
        stations={"m": {"process_time": 1}},
        products={"a": {"route": ["m"]}, "b": {"route": ["m"]}},
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "m")] == [0.0, 1.0]
    assert state_fractions(plant, "m")[SETUP] == 0.0


def test_each_parallel_machine_remembers_its_own_last_family() -> None:
    """Machine 0 runs X then X (no setup); machine 1 runs Y then X (default 2)."""
    s = scenario(
        stations={"m": {"machines": 2, "process_time": 1, "setup": {"default": 2}}},
        products={
            "x1": {"family": "X", "route": ["m"]},
            "y": {"family": "Y", "route": [{"station": "m", "process_time": 1.5}]},
            "x2": {"family": "X", "route": ["m"]},
            "x3": {"family": "X", "route": ["m"]},
        },
    )
    plant = run_plant(s)
    # x2 goes to machine 0 (free at 1, X->X); x3 to machine 1 (free at 1.5, Y->X: setup 2).
    assert job_records(plant, JobEvent.START, "m") == [(0.0, 0, 0), (0.0, 1, 1), (1.0, 2, 0), (3.5, 3, 1)]


def test_calendar_failure_during_setup_resumes_the_rest_of_the_setup() -> None:
    """Setup X->Y (4) runs [1, 3.5], breaks for 1, then needs its last 1.5: [4.5, 6]."""
    plant = run_plant(family_sequence(["X", "Y"], {"default": 4}, failures={"ttf": 3.5, "ttr": 1, "basis": "calendar"}))
    assert [t for t, _, _ in job_records(plant, JobEvent.START, "m")] == [0.0, 6.0]
    assert state_intervals(plant, "m") == [
        (0.0, 1.0, BUSY),
        (1.0, 3.5, SETUP),
        (3.5, 4.5, DOWN),
        (4.5, 6.0, SETUP),
        (6.0, 7.0, BUSY),
    ]


def test_busy_basis_failure_clock_ignores_setup_time() -> None:
    """ttf 1.5 of processing: 1 spent on job 0; the 4-unit setup wears nothing; job 1 fails
    0.5 into processing, at 5.5, is repaired at 7.5 and ends at 8."""
    plant = run_plant(family_sequence(["X", "Y"], {"default": 4}, failures={"ttf": 1.5, "ttr": 2}))
    assert state_intervals(plant, "m") == [
        (0.0, 1.0, BUSY),
        (1.0, 5.0, SETUP),
        (5.0, 5.5, BUSY),
        (5.5, 7.5, DOWN),
        (7.5, 8.0, BUSY),
    ]
