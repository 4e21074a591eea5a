"""Stations keep the scenario's (route) order, not the alphabet's, in state charts and Gantt
rows (issue 12)."""

from __future__ import annotations

import pandas as pd

import twin
from dashboard import charts
from twin.measure.timeline import state_intervals
from twin.scenario import parse_scenario

ORDER = parse_scenario(
    {
        "name": "order",
        "horizon": 50,
        "products": {"p": {"arrival": {"dist": "exponential", "mean": 1.5}, "route": ["zeta", "alpha", "mid"]}},
        "stations": {
            "zeta": {"process_time": 0.5},
            "alpha": {"process_time": 0.6, "machines": 2},
            "mid": {"process_time": 0.7},
        },
    }
)


def test_state_intervals_keep_the_scenario_order() -> None:
    events = twin.simulate(ORDER, replications=1, keep_events=True).events
    assert events is not None
    intervals = state_intervals(events, 50.0)
    assert list(dict.fromkeys(intervals["station"])) == ["zeta", "alpha", "mid"]


def test_gantt_rows_follow_the_given_order() -> None:
    ops = pd.DataFrame(
        {
            "station": ["alpha", "mid", "zeta"],
            "job": ["j0", "j1", "j2"],
            "start": [0.0, 1.0, 2.0],
            "end": [1.0, 2.0, 3.0],
        }
    )
    spec = charts.gantt(
        ops, "station", "job", "t", "min", "Station", "Job", row_order=["zeta", "alpha", "mid"]
    ).to_dict()
    assert spec["encoding"]["y"]["sort"] == ["zeta", "alpha", "mid"]
    natural = charts.gantt(ops, "station", "job", "t", "min", "Station", "Job").to_dict()
    assert natural["encoding"]["y"]["sort"] == ["alpha", "mid", "zeta"]
