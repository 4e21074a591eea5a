"""Time series and intervals from an event table, for charts of one run.

Every function takes the table :func:`twin.measure.experiment.events_frame` makes (and a run's
``events.parquet`` holds): columns ``replication``, ``time``, ``event``, ``job``, ``product``,
``station``, ``machine``, ``state``, time-ordered within each replication. Functions that
describe one replication expect the rows of one replication (select them first, e.g. with
``events[events.replication == r]``). Every time is in the scenario's ``time_unit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from twin.measure.kpi import STATE_KPIS, step_average
from twin.scenario import Scenario

__all__ = [
    "PERIOD_MINUTES",
    "buffer_levels",
    "lead_times",
    "operations",
    "output_per_period",
    "period_edges",
    "state_intervals",
    "state_shares",
    "wip_levels",
]


def state_intervals(events: pd.DataFrame, end: float) -> pd.DataFrame:
    """Each machine's states as intervals: ``station``, ``machine``, ``state``, ``start``,
    ``end`` (a state lasts until the machine's next state record, the last one until ``end``),
    stations in the order the log first names them (the scenario's: every machine's first
    state is logged at the start, station by station), not alphabetically. Zero-length
    intervals (several changes at one instant) are dropped."""
    states = events.loc[events["event"] == "STATE", ["station", "machine", "state", "time"]]
    rank = {name: i for i, name in enumerate(pd.unique(states["station"]))}
    states = states.assign(_rank=states["station"].map(rank))
    states = states.sort_values(["_rank", "machine", "time"], kind="stable").drop(columns="_rank")
    following = states.groupby(["station", "machine"], sort=False)["time"].shift(-1).fillna(end)
    frame = pd.DataFrame(
        {
            "station": states["station"].to_numpy(),
            "machine": states["machine"].to_numpy(),
            "state": states["state"].to_numpy(),
            "start": states["time"].to_numpy(float),
            "end": np.minimum(following.to_numpy(float), end),
        }
    )
    return frame[frame["end"] > frame["start"]].reset_index(drop=True)


def operations(events: pd.DataFrame) -> pd.DataFrame:
    """Every operation that started: ``job``, ``product``, ``station``, ``machine``,
    ``operation`` (the job's n-th operation, from 0), ``start`` and ``end`` (its FINISH; NaN
    while still in process). An operation interrupted by a breakdown spans the repair."""
    ops = events.loc[
        events["event"].isin(("START", "FINISH")), ["job", "product", "station", "machine", "event", "time"]
    ]
    # Stable sort by job keeps each job's time order: its records alternate START, FINISH.
    ops = ops.sort_values("job", kind="stable").reset_index(drop=True)
    starts = np.flatnonzero(ops["event"].to_numpy() == "START")
    following = np.minimum(starts + 1, len(ops) - 1)
    finished = (
        (starts + 1 < len(ops))
        & (ops["event"].to_numpy()[following] == "FINISH")
        & (ops["job"].to_numpy()[following] == ops["job"].to_numpy()[starts])
    )
    frame = ops.iloc[starts][["job", "product", "station", "machine"]].reset_index(drop=True)
    frame["operation"] = frame.groupby("job").cumcount()
    frame["start"] = ops["time"].to_numpy(float)[starts]
    frame["end"] = np.where(finished, ops["time"].to_numpy(float)[following], np.nan)
    return frame


def _binned(times: np.ndarray, steps: np.ndarray, edges: np.ndarray) -> np.ndarray:
    order = np.argsort(times, kind="stable")
    return step_average(times[order], np.cumsum(steps[order]), edges)


def wip_levels(events: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    """Mean work in process (jobs in the plant) per time interval of one replication:
    ``start``, ``end``, ``wip``."""
    moves = events[events["event"].isin(("ARRIVE", "EXIT", "SCRAP", "ASSEMBLED"))]
    steps = np.where(moves["event"].to_numpy() == "ARRIVE", 1.0, -1.0)
    wip = _binned(moves["time"].to_numpy(float), steps, edges)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "wip": wip})


def buffer_levels(events: pd.DataFrame, edges: np.ndarray, stations: Sequence[str]) -> pd.DataFrame:
    """Mean number of jobs waiting in each station's buffer per time interval of one
    replication: ``station``, ``start``, ``end``, ``level``.

    A job enters the buffer at its ENTER record and leaves it at the next SETUP or START
    record of its visit (whichever comes first), as in :mod:`twin.measure.kpi`; a component
    at an assembly station leaves the kit store at its ASSEMBLED record.
    """
    kinds = ("ENTER", "SETUP", "START", "ASSEMBLED")
    visits = events.loc[events["event"].isin(kinds), ["job", "station", "event", "time"]]
    visits = visits.sort_values("job", kind="stable")
    kind = visits["event"].to_numpy()
    previous = np.concatenate(([""], kind[:-1]))
    same_job = np.concatenate(([False], visits["job"].to_numpy()[1:] == visits["job"].to_numpy()[:-1]))
    leaves = (kind != "ENTER") & (previous == "ENTER") & same_job
    steps = np.where(kind == "ENTER", 1.0, np.where(leaves, -1.0, 0.0))
    frames = []
    for station in stations:
        mine = visits["station"].to_numpy() == station
        level = _binned(visits["time"].to_numpy(float)[mine], steps[mine], edges)
        frames.append(pd.DataFrame({"station": station, "start": edges[:-1], "end": edges[1:], "level": level}))
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["station", "start", "end", "level"])
    )


def lead_times(events: pd.DataFrame, start: float = 0.0) -> pd.DataFrame:
    """Lead time (arrival to completion) of every job completed at or after ``start``:
    ``replication``, ``job``, ``product``, ``arrival``, ``exit``, ``lead_time``."""
    keys = ["replication", "job"]
    arrivals = events.loc[events["event"] == "ARRIVE", [*keys, "time"]].rename(columns={"time": "arrival"})
    exits = events.loc[(events["event"] == "EXIT") & (events["time"] >= start), [*keys, "product", "time"]]
    frame = exits.rename(columns={"time": "exit"}).merge(arrivals, on=keys, how="inner")
    frame["lead_time"] = frame["exit"] - frame["arrival"]
    return frame[["replication", "job", "product", "arrival", "exit", "lead_time"]].reset_index(drop=True)


def state_shares(means: Mapping[str, float], stations: Sequence[str]) -> pd.DataFrame:
    """Share of machine time in each state per station, from a run's KPI means
    (``stations.<s>.utilization``, ``.starved``, ...): ``station``, ``state`` (a
    :class:`~twin.sim.log.MachineState` label), ``share``. Missing KPIs count as 0."""
    rows = []
    for station in stations:
        for state, kpi in STATE_KPIS.items():
            value = means.get(f"stations.{station}.{kpi}", 0.0)
            rows.append({"station": station, "state": state.label, "share": 0.0 if value != value else float(value)})
    return pd.DataFrame(rows, columns=["station", "state", "share"])


PERIOD_MINUTES = {"shift": 480.0, "day": 1440.0}
"""Length of the output periods in minutes when the scenario has no shift calendar: three
8-hour shifts a day."""

_MINUTES_PER_UNIT = {
    "s": 1 / 60, "sec": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
    "min": 1.0, "minute": 1.0, "minutes": 1.0,
    "h": 60.0, "hr": 60.0, "hour": 60.0, "hours": 60.0,
    "d": 1440.0, "day": 1440.0, "days": 1440.0,
}  # fmt: skip


def period_edges(scenario: Scenario, end: float, period: str) -> np.ndarray | None:
    """Edges of the shifts or days (``period``) over ``[0, end]`` in the scenario's time unit,
    or None when its unit is not a known unit of time (``time units``).

    Shifts are those of the scenario's first operator pool with a shift calendar, repeated
    every calendar period; without one, 8-hour shifts from time 0 (:data:`PERIOD_MINUTES`).

    Raises:
        ValueError: ``period`` is neither ``shift`` nor ``day``.
    """
    if period not in PERIOD_MINUTES:
        raise ValueError(f"period must be shift or day (got {period})")
    if period == "shift":
        calendar = next((pool.shifts for pool in scenario.operators.values() if pool.shifts is not None), None)
        if calendar is not None:
            starts = sorted({0.0, *(s.start for s in calendar.shifts), *(s.end for s in calendar.shifts)})
            starts = [t for t in starts if t < calendar.period]
            cycles = int(np.ceil(end / calendar.period))
            edges = [c * calendar.period + t for c in range(cycles) for t in starts]
            return np.array([t for t in edges if t < end] + [end])
    minutes = _MINUTES_PER_UNIT.get(scenario.time_unit.strip().lower())
    if minutes is None:
        return None
    length = PERIOD_MINUTES[period] / minutes
    return np.append(np.arange(0.0, end, length), end)


def output_per_period(events: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    """Jobs completed (EXIT records) in each interval ``[edges[i], edges[i+1])`` of one
    replication: ``start``, ``end``, ``completed``."""
    exits = events.loc[events["event"] == "EXIT", "time"].to_numpy(float)
    counts, _ = np.histogram(exits, bins=edges)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "completed": counts.astype(int)})
