"""What a canonical event log says happened: jobs, their visits to stations, machine outages.

A log is rows of events; calibration, hygiene and the observed KPIs all need the same
reconstruction of it, built here once and vectorised (a million events take a few seconds):

- **visits**: one row per (job, station, n-th visit of the job to that station) with the times
  of its ``enter``, ``setup``, ``start``, ``finish`` and ``scrap`` rows (NaN where the log has
  none), the machine, and ``leave``: when the job left the station (its next visit's entry,
  its exit or scrap; NaN while it is still there at the end of the log). Pairing by visit
  number rather than by row order makes ties and shuffled rows harmless.
- **jobs**: one row per job with its product, ``arrive``, ``exit``, ``scrap``, ``assembled``
  (consumed as a component by an assembly: it left the plant inside its parent job) and
  ``due``; a job has left the plant when any of ``exit``, ``scrap``, ``assembled`` is set.
- **reworks**: one row per ``rework`` of a job (the job's next ``enter`` opens a new visit).
- **outages**: one row per ``down`` or ``maintenance`` of a machine with its ``up`` (NaN if
  still out) and its ``kind``; only ``down`` rows are failures, maintenance is planned.

Rows marked in a ``repair`` column (made by :mod:`twin.sync.hygiene`) carry ``synthetic``
flags into the visits and jobs, so fits can leave invented times out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LEAVE_EVENTS", "OUTAGE_EVENTS", "VISIT_EVENTS", "History", "build_history", "machine_key"]

VISIT_EVENTS = ("enter", "setup", "start", "finish", "scrap")
"""Job events that happen at a station, one of each per visit."""

LEAVE_EVENTS = ("exit", "scrap", "assembled")
"""Job events with which a job leaves the plant (complete, scrapped, inside an assembly)."""

OUTAGE_EVENTS = ("down", "maintenance")
"""Machine events that take a machine out until its next ``up``."""


def machine_key(station: pd.Series, machine: pd.Series) -> pd.Series:
    """One text key per machine of the plant (machine ids are unique only within a station)."""
    return station.astype(str) + "\x1f" + machine.astype(str)


@dataclass(frozen=True)
class History:
    """The reconstruction of one log (see the module doc); times in the log's time base."""

    visits: pd.DataFrame
    """job, product, station, machine, visit, enter, setup, start, finish, scrap, leave,
    synthetic (any of its times made by a repair); ordered by job, then visit order."""
    jobs: pd.DataFrame
    """job (index), product, arrive, exit, scrap, assembled, due, cut (arrived before the log
    began)."""
    outages: pd.DataFrame
    """station, machine, kind (``down`` or ``maintenance``), down (when it went out), up, cut
    (down before the log began: ``down`` is the log's start)."""
    reworks: pd.DataFrame
    """job, station, time: one row per ``rework`` (a job sent back to an earlier step)."""
    start: float
    """Time of the first event of the log."""
    end: float
    """Time of the last event of the log."""

    def in_plant(self) -> pd.Series:
        """Per job (by the ``jobs`` index): still in the plant when the log ended."""
        gone = self.jobs[list(LEAVE_EVENTS)].notna().any(axis=1)
        result: pd.Series = ~gone
        return result

    @property
    def length(self) -> float:
        """Length of the window the log covers."""
        return self.end - self.start

    def machines(self) -> dict[str, list[str]]:
        """Machine ids seen per station (at work or in an outage), in natural order (m2 before m10)."""
        found: dict[str, set[str]] = {}
        for table in (self.visits, self.outages):
            known = table[table["machine"] != ""]
            for station, machine in known[["station", "machine"]].drop_duplicates().itertuples(index=False):
                found.setdefault(str(station), set()).add(str(machine))
        return {station: sorted(ids, key=_natural) for station, ids in found.items()}


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Sort key that orders the numbers inside names by value."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


_VISIT_RANK = {kind: i for i, kind in enumerate(VISIT_EVENTS)}


def _visit_numbers(job: np.ndarray, station: np.ndarray, times: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Which visit of its job to its station each row belongs to: the ``enter`` rows seen so
    far (0 before the first: a visit under way when the log began). A second ``start`` of one
    visit (processing resumed after an interruption) stays in that visit."""
    import pandas as pd

    rank = pd.Series(event).map(_VISIT_RANK).to_numpy(np.int64)
    order = np.lexsort((rank, times, station, job))
    group = job[order].astype(np.int64) * (int(station.max()) + 1 if len(station) else 1) + station[order]
    entered = (event[order] == "enter").astype(np.int64)
    count = np.cumsum(entered)
    first = np.ones(len(order), bool)
    first[1:] = group[1:] != group[:-1]
    before = np.maximum.accumulate(np.where(first, count - entered, 0))
    visit = np.empty(len(order), np.int64)
    visit[order] = count - before
    return visit


def _visit_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Pivot visit events into one row per (job, station, visit number)."""
    import pandas as pd

    job_code, jobs = pd.factorize(rows["job"])
    station_code, stations = pd.factorize(rows["station"])
    event = rows["event"].to_numpy().astype(str)
    times = rows["time"].to_numpy(float)
    visit = _visit_numbers(job_code, station_code, times, event)
    depth = int(visit.max()) + 1 if len(visit) else 1
    key = (job_code.astype(np.int64) * max(len(stations), 1) + station_code) * depth + visit
    synthetic = rows["repair"].to_numpy() != "" if "repair" in rows.columns else np.zeros(len(rows), bool)
    columns: dict[str, pd.Series] = {}
    for kind in VISIT_EVENTS:
        mine = event == kind
        grouped = pd.Series(times[mine], index=key[mine]).groupby(level=0)
        # A repeated row of a visit: the first entry, setup and start; the last finish.
        columns[kind] = grouped.max() if kind in ("finish", "scrap") else grouped.min()
        columns[f"_{kind}_synthetic"] = pd.Series(synthetic[mine], index=key[mine]).groupby(level=0).max()
    machine = rows["machine"].to_numpy()
    for kind in ("start", "setup", "finish", "scrap"):
        mine = (event == kind) & (machine != "")
        columns[f"_{kind}_machine"] = pd.Series(machine[mine], index=key[mine]).groupby(level=0).first()
    table = pd.DataFrame(columns)
    codes = table.index.to_numpy()
    table["visit"] = codes % depth
    pair = codes // depth
    table["station"] = stations.to_numpy()[pair % max(len(stations), 1)]
    table["job"] = jobs.to_numpy()[pair // max(len(stations), 1)]
    table["machine"] = ""
    for kind in ("scrap", "finish", "setup", "start"):
        found = table[f"_{kind}_machine"].notna().to_numpy()
        table.loc[found, "machine"] = table.loc[found, f"_{kind}_machine"]
    flags = [f"_{kind}_synthetic" for kind in VISIT_EVENTS]
    table["synthetic"] = table[flags].fillna(False).astype(bool).any(axis=1)
    return table.drop(columns=[c for c in table.columns if c.startswith("_")]).reset_index(drop=True)


def _job_table(rows: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    synthetic = rows["repair"] != "" if "repair" in rows.columns else pd.Series(False, index=rows.index)
    first = {}
    for kind in ("arrive", *LEAVE_EVENTS):
        mine = rows[rows["event"] == kind]
        first[kind] = mine.drop_duplicates("job").set_index("job")["time"]
    arrivals = rows[rows["event"] == "arrive"].drop_duplicates("job").set_index("job")
    named = rows[rows["product"] != ""].drop_duplicates("job").set_index("job")["product"]
    jobs = pd.DataFrame(index=pd.Index(rows["job"].unique(), name="job"))
    jobs["product"] = named.reindex(jobs.index).fillna("").astype(str)
    for kind, times in first.items():
        jobs[kind] = times.reindex(jobs.index).to_numpy(float)
    jobs["due"] = arrivals["due"].reindex(jobs.index).to_numpy(float) if "due" in arrivals else np.nan
    cut_rows = rows[(rows["event"] == "arrive") & synthetic]
    jobs["cut"] = jobs.index.isin(cut_rows["job"]) | jobs["arrive"].isna()
    return jobs


def _outage_table(rows: pd.DataFrame, start: float) -> pd.DataFrame:
    """Pair each machine's ``down`` or ``maintenance`` with its next ``up``; a leading ``up``
    means the machine was down when the log began."""
    import pandas as pd

    rows = rows.assign(_key=machine_key(rows["station"], rows["machine"]))
    rows = rows.sort_values(["_key", "time"], kind="stable")
    key = rows["_key"].to_numpy()
    is_down = rows["event"].isin(OUTAGE_EVENTS).to_numpy()
    times = rows["time"].to_numpy()
    same_next = np.zeros(len(rows), bool)
    same_next[:-1] = key[1:] == key[:-1]
    next_is_up = np.zeros(len(rows), bool)
    next_is_up[:-1] = ~is_down[1:]
    up_after = np.where(same_next & next_is_up, np.append(times[1:], np.nan), np.nan)
    downs = rows[is_down]
    synthetic = downs["repair"].to_numpy() != "" if "repair" in downs.columns else np.zeros(len(downs), bool)
    return pd.DataFrame(
        {
            "station": downs["station"].to_numpy(),
            "machine": downs["machine"].to_numpy(),
            "kind": downs["event"].to_numpy().astype(str),
            "down": downs["time"].to_numpy(float),
            "up": up_after[is_down],
            "cut": synthetic & (downs["time"].to_numpy() <= start),
        }
    )


def build_history(frame: pd.DataFrame) -> History:
    """Reconstruct jobs, visits and outages from a canonical log frame (see the module doc).

    Raises:
        ValueError: the frame has no rows.
    """
    if frame.empty:
        raise ValueError("an empty log has no history")
    start, end = float(frame["time"].min()), float(frame["time"].max())
    event = frame["event"]
    station_rows = frame[event.isin(VISIT_EVENTS)]
    visits = _visit_table(station_rows)
    jobs = _job_table(frame[frame["job"] != ""])
    visits["product"] = jobs["product"].reindex(visits["job"]).to_numpy()
    first = visits["enter"].fillna(visits["setup"]).fillna(visits["start"]).fillna(visits["finish"])
    last = visits["scrap"].fillna(visits["finish"]).fillna(visits["start"])
    last = last.fillna(visits["setup"]).fillna(visits["enter"])
    # Visits of a job in time order; at a tie the one that also ends first (a job finishing at
    # one station the instant it enters the next) comes first.
    visits = visits.assign(_first=first.fillna(visits["scrap"]), _last=last)
    visits = visits.sort_values(["job", "_first", "_last", "visit"], kind="stable")
    same_job_next = np.zeros(len(visits), bool)
    job = visits["job"].to_numpy()
    same_job_next[:-1] = job[1:] == job[:-1]
    following = np.append(visits["_first"].to_numpy()[1:], np.nan)
    ended = jobs["exit"].fillna(jobs["assembled"]).reindex(visits["job"]).to_numpy(float)
    leave = np.where(same_job_next, following, ended)
    leave = np.where(np.isnan(visits["scrap"].to_numpy()), leave, visits["scrap"].to_numpy())
    visits["leave"] = leave
    visits = visits.drop(columns=["_first", "_last"]).reset_index(drop=True)
    order = ["job", "product", "station", "machine", "visit", *VISIT_EVENTS, "leave", "synthetic"]
    outages = _outage_table(frame[event.isin((*OUTAGE_EVENTS, "up"))], start)
    reworks = frame.loc[event == "rework", ["job", "station", "time"]].reset_index(drop=True)
    return History(visits[order], jobs, outages, reworks, start, end)
