"""Energy KPIs on a deterministic two-machine line: the sum over machine states of time in
state x power, exactly, from a hand-computed timetable."""

from __future__ import annotations

import pytest

from tests.helpers import scenario
from twin.measure.experiment import run_replication

A_POWER = {"busy": 10, "idle": 2, "blocked": 3, "setup": 50, "down": 60, "off_shift": 70, "maintenance": 80}
B_POWER = {"busy": 5, "idle": 1}


def two_machines(time_unit: str) -> object:
    """a (2 per job) feeds b (3 per job) with no buffer; four jobs released at 0.

    Hand timetable: a busy [0,2], [2,4], [5,7], [8,10], blocked [4,5], [7,8], [10,11] (b is
    busy [2,5], [5,8], [8,11], [11,14]), idle [11,14]; b idle [0,2], busy [2,14]. The run ends
    at 14. a has no setups, breakdowns, shifts or maintenance: their power never counts.
    """
    return scenario(
        stations={
            "a": {"process_time": 2, "energy": A_POWER},
            "b": {"process_time": 3, "buffer": 0, "energy": B_POWER},
        },
        products={"w": {"release": [{"at": 0, "quantity": 4}], "route": ["a", "b"]}},
        time_unit=time_unit,
    )


@pytest.mark.parametrize(("time_unit", "hours"), [("h", 1.0), ("min", 1 / 60), ("s", 1 / 3600), ("days", 24.0)])
def test_energy_is_time_in_state_times_power(time_unit: str, hours: float) -> None:
    kpis = run_replication(two_machines(time_unit), 0).kpis  # type: ignore[arg-type]
    a = (8 * 10 + 3 * 3 + 3 * 2) * hours  # kWh: busy, blocked, idle
    b = (12 * 5 + 2 * 1) * hours
    assert kpis["stations.a.utilization"] == pytest.approx(8 / 14, abs=1e-12)
    assert kpis["stations.a.energy"] == pytest.approx(a / 14, rel=1e-12)
    assert kpis["stations.b.energy"] == pytest.approx(b / 14, rel=1e-12)
    assert kpis["energy"] == pytest.approx((a + b) / 14, rel=1e-12)
    assert kpis["energy_per_job"] == pytest.approx((a + b) / 4, rel=1e-12)


def test_energy_kpis_only_where_declared() -> None:
    s = scenario(stations={"a": {"process_time": 1}}, products={"w": {"release": [{"at": 0}], "route": ["a"]}})
    kpis = run_replication(s, 0).kpis
    assert not [name for name in kpis if "energy" in name]
