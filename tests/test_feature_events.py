"""The event table and the timeline with every feature on (the motor plant): vehicle rows,
the new job events, and levels that agree with the KPIs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import twin
from twin.measure.kpi import STATE_KPIS, kpi_names
from twin.measure.timeline import buffer_levels, lead_times, state_intervals, wip_levels
from twin.scenario import load_scenario
from twin.sim.log import VehicleState

MOTOR_PLANT = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "motor_plant.yaml"


@pytest.fixture(scope="module")
def result() -> twin.Result:
    s = load_scenario(MOTOR_PLANT, ["horizon=4320", "warmup=1440"])
    return twin.simulate(s, replications=1, seed=2)


def test_every_feature_kpi_is_reported(result: twin.Result) -> None:
    names = kpi_names(result.scenario)
    assert list(result.kpis.columns[1:]) == names
    for name in ("energy", "energy_per_job", "reworked", "transport.utilization", "transport.empty_share",
                 "transport.wait_mean", "stations.oven.batch_mean", "stations.oven.energy",
                 "stations.housing_mill.maintenance"):  # fmt: skip
        assert name in names
        assert np.isfinite(result.kpis[name].iloc[0]), name


def test_event_table_has_vehicle_rows_and_the_new_job_events(result: twin.Result) -> None:
    events = result.events
    assert events is not None
    assert {"TRANSPORT_START", "TRANSPORT_END", "REWORK", "ASSEMBLED"} <= set(events["event"])
    vehicles = events[events["event"] == "VEHICLE"]
    assert set(vehicles["machine"]) == {0, 1, 2, 3}
    assert set(vehicles["state"]) == {state.label for state in VehicleState}
    moving = vehicles[vehicles["state"] != "idle"]
    assert (moving["job"] >= 0).all() and (moving["product"] != "").all()
    assert (vehicles.loc[vehicles["state"] == "idle", "job"] == -1).all()
    assert "maintenance" in set(events.loc[events["event"] == "STATE", "state"])
    assert events.groupby("replication")["time"].apply(lambda t: bool(np.all(np.diff(t) >= 0))).all()


def test_timeline_agrees_with_the_kpis(result: twin.Result) -> None:
    events = result.events
    assert events is not None
    kpis = result.kpis.iloc[0]
    s = result.scenario
    start, end = s.warmup, float(s.horizon or 0)
    assert wip_levels(events, np.array([start, end]))["wip"].iloc[0] == pytest.approx(kpis["wip_mean"])
    assert lead_times(events, start)["lead_time"].mean() == pytest.approx(kpis["lead_time_mean"])
    intervals = state_intervals(events, end)
    clipped = intervals.assign(start=intervals["start"].clip(start, end), end=intervals["end"].clip(start, end))
    spent = (clipped["end"] - clipped["start"]).groupby([clipped["station"], clipped["state"]]).sum()
    for name, station in s.stations.items():
        for state, kpi in STATE_KPIS.items():
            share = spent.get((name, state.label), 0.0) / (station.machines * (end - start))
            assert share == pytest.approx(kpis[f"stations.{name}.{kpi}"], abs=1e-9), (name, kpi)
    # The kit store drains at ASSEMBLED: the level at assembly does not grow.
    levels = buffer_levels(events, np.linspace(start, end, 25), ["assembly"])["level"].to_numpy()
    assert levels[12:].mean() == pytest.approx(levels[:12].mean(), rel=0.15)
