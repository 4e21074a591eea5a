"""`StateTracker.from_state`: a tracker started from a state cut at T, fed the rest of the
log, ends where the tracker that folded the whole log ends (the mirror's --state-in)."""

from __future__ import annotations

import pytest

from twin.measure.experiment import simulate
from twin.scenario import parse_scenario
from twin.sync.eventlog import events_to_log
from twin.sync.state import StateTracker, state_from_frame

LINE = parse_scenario(
    {
        "name": "restart-line",
        "horizon": 300,
        "seed": 2,
        "products": {"part": {"arrival": {"dist": "exponential", "mean": 1.2}, "route": ["cut", "drill"],
                              "due_date": {"slack": 10}}},
        "stations": {
            "cut": {"machines": 2, "process_time": {"dist": "exponential", "mean": 2.0},
                    "failures": {"ttf": {"dist": "exponential", "mean": 40}, "ttr": 5}},
            "drill": {"buffer": 3, "process_time": {"dist": "uniform", "low": 0.6, "high": 1.2}},
        },
    }
)  # fmt: skip


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8])
def test_a_tracker_from_a_state_ends_where_the_whole_log_ends(share: float) -> None:
    rows = events_to_log(simulate(LINE, replications=1, seed=2).events, LINE).reset_index(drop=True)
    cut = float(rows["time"].iloc[int(len(rows) * share)])
    tracker = StateTracker.from_state(state_from_frame(rows, cut).state, {"part": ["cut", "drill"]})
    for row in rows[rows["time"] > cut].to_dict("records"):
        assert tracker.apply(row) is None, row
    end = float(rows["time"].max())
    continued, whole = tracker.state(), state_from_frame(rows, end).state
    assert [(m.station, m.machine, m.state, m.since) for m in continued.machines] == [
        (m.station, m.machine, m.state, m.since) for m in whole.machines
    ]
    for name in ("age", "worked"):  # sums across the cut: equal up to rounding
        assert [getattr(m, name) for m in continued.machines] == pytest.approx(
            [getattr(m, name) for m in whole.machines], abs=1e-9
        )
    assert [(j.id, j.where, j.station, j.machine, j.step, j.due) for j in continued.jobs] == [
        (j.id, j.where, j.station, j.machine, j.step, j.due) for j in whole.jobs
    ]
    assert [j.elapsed for j in continued.jobs] == pytest.approx([j.elapsed for j in whole.jobs], abs=1e-9)
