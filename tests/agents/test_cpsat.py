"""CP-SAT baseline: proves ft06, reaches la01's optimum, schedules are feasible."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.cpsat import solve
from twin.jobshop.instances import JobShopInstance, load_instance
from twin.jobshop.schedules import check_schedule

JOBSHOP = Path(__file__).resolve().parents[2] / "scenarios" / "jobshop"


def test_proves_ft06() -> None:
    instance = load_instance(JOBSHOP / "ft06.txt")
    result = solve(instance, time_limit=30, workers=2)
    assert (result.makespan, result.optimal, result.lower_bound) == (55, True, 55)
    assert check_schedule(instance, result.schedule) == []
    assert max(op.end for op in result.schedule) == 55


def test_reaches_la01() -> None:
    instance = load_instance(JOBSHOP / "la01.txt")
    result = solve(instance, time_limit=30, workers=2)
    assert result.makespan <= 666  # la01's optimum, reached by CP-SAT in well under a second
    assert check_schedule(instance, result.schedule) == []


def test_time_limit_is_respected_on_a_hard_instance() -> None:
    instance = load_instance(JOBSHOP / "ta01.txt")
    result = solve(instance, time_limit=1.0, workers=1)
    assert result.lower_bound <= 1231 <= result.makespan
    assert check_schedule(instance, result.schedule) == []


def test_bad_time_limit() -> None:
    with pytest.raises(ValueError, match="time_limit"):
        solve(JobShopInstance("x", 1, (((0, 1),),)), time_limit=0)
