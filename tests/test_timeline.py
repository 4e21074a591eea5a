"""Series and intervals of twin.timeline agree with hand-computed cases and with the KPIs."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from tests.helpers import scenario
from twin.measure.kpi import STATE_KPIS, step_average
from twin.measure.timeline import (
    buffer_levels,
    lead_times,
    operations,
    state_intervals,
    state_shares,
    wip_levels,
)


def test_step_average_of_a_hand_drawn_step_function() -> None:
    # 1 before t=1, 3 from t=1, 0 from t=4.
    means = step_average(np.array([1.0, 4.0]), np.array([3.0, 0.0]), np.array([0.0, 2.0, 4.0, 6.0]), initial=1.0)
    assert means == pytest.approx([2.0, 3.0, 0.0])


def test_buffer_and_wip_levels_of_three_jobs_released_together() -> None:
    # Three jobs at t=0 on one machine taking 3 each: 2 wait during [0,3), 1 during [3,6).
    s = scenario({"m": {"process_time": 3}}, {"p": {"release": [{"at": 0, "quantity": 3}], "route": ["m"]}})
    events = twin.simulate(s, replications=1).events
    edges = np.array([0.0, 3.0, 6.0, 9.0])
    assert buffer_levels(events, edges, ["m"])["level"].tolist() == pytest.approx([2.0, 1.0, 0.0])
    assert wip_levels(events, edges)["wip"].tolist() == pytest.approx([3.0, 2.0, 1.0])
    ops = operations(events)
    assert ops[["job", "operation", "start", "end"]].values.tolist() == [[0, 0, 0, 3], [1, 0, 3, 6], [2, 0, 6, 9]]
    assert lead_times(events)["lead_time"].tolist() == [3.0, 6.0, 9.0]


@pytest.fixture(scope="module")
def line() -> twin.Result:
    s = scenario(
        {
            "a": {"process_time": {"dist": "exponential", "mean": 0.8}, "failures": {"ttf": 50, "ttr": 5}},
            "b": {"buffer": 1, "machines": 2, "process_time": {"dist": "exponential", "mean": 1.7}},
        },
        {"p": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["a", "b"]}},
        horizon=500,
        warmup=50,
    )
    return twin.simulate(s, replications=1, seed=4)


def test_state_intervals_add_up_to_the_state_kpis(line: twin.Result) -> None:
    events = line.events
    assert events is not None
    intervals = state_intervals(events, 500.0)
    clipped = intervals.assign(start=intervals["start"].clip(50, 500), end=intervals["end"].clip(50, 500))
    spent = (clipped["end"] - clipped["start"]).groupby([clipped["station"], clipped["state"]]).sum()
    kpis = line.kpis.iloc[0]
    for station, machines in (("a", 1), ("b", 2)):
        for state, kpi in STATE_KPIS.items():
            share = spent.get((station, state.label), 0.0) / (machines * 450)
            assert share == pytest.approx(kpis[f"stations.{station}.{kpi}"], abs=1e-9)


def test_lead_times_and_wip_agree_with_the_kpis(line: twin.Result) -> None:
    events = line.events
    assert events is not None
    kpis = line.kpis.iloc[0]
    assert lead_times(events, 50.0)["lead_time"].mean() == pytest.approx(kpis["lead_time_mean"])
    assert wip_levels(events, np.array([50.0, 500.0]))["wip"].iloc[0] == pytest.approx(kpis["wip_mean"])
    ops = operations(events)
    assert (ops["end"].dropna() >= ops["start"][ops["end"].notna()]).all()
    assert ops["end"].notna().sum() == (events["event"] == "FINISH").sum()


def test_state_shares_reads_the_state_kpis(line: twin.Result) -> None:
    shares = state_shares(line.summary()["mean"].to_dict(), ["a", "b"])
    assert shares.groupby("station")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    assert set(shares["state"]) == {state.label for state in STATE_KPIS}
