"""Repairing what real event logs have wrong, and counting it.

:func:`repair_log` takes a canonical frame (:func:`twin.sync.eventlog.read_log`) and returns
the repaired frame with a :class:`HygieneReport`. Repairs never invent what a fit would use
as data: rows they add carry their reason in a ``repair`` column (``""`` on the log's own
rows), and the visits built from them are flagged ``synthetic`` and left out of the fits.

- **duplicates**: the same row twice (by ``source`` and ``seq`` when the log has them, else
  by every contract column) is kept once;
- **disorder**: rows earlier than a row above them in the file are put in time order; those
  later than ``window`` are counted apart;
- **a finish without its start**: the start is put where the machine and the job were both
  free (the job's entry, or the machine's previous job leaving, whichever is later);
- **a start without its finish** (when the job moved on): the finish is put where it left;
- **jobs cut by the window**: a job seen without its ``arrive`` was in the plant before the
  log began: it arrives (and enters, and starts if it was in process) at the log's first
  time; jobs still in the plant at the end are counted;
- **outages**: a second ``down`` (or ``maintenance``) without an ``up`` between is dropped; an
  ``up`` first of its machine means it was down when the log began; other ``up`` rows without
  a ``down`` or ``maintenance`` before them are dropped;
- **machines that never report**: machines a scenario declares that the log never shows, and
  machines seen only failing and being repaired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.sync.history import OUTAGE_EVENTS, build_history, machine_key

if TYPE_CHECKING:
    import pandas as pd

    from twin.sync.history import History

__all__ = ["HygieneReport", "repair_log"]


@dataclass
class HygieneReport:
    """What :func:`repair_log` found and did, as counts (rows or jobs) and notes."""

    rows: int = 0
    """Rows read."""
    duplicates: int = 0
    reordered: int = 0
    """Rows that came after a later row in the file."""
    reordered_beyond_window: int = 0
    max_lateness: float = 0.0
    finish_without_start: int = 0
    start_without_finish: int = 0
    entries_added: int = 0
    """Visits whose ``enter`` row was missing."""
    cut_at_start: int = 0
    """Jobs in the plant when the log began."""
    open_at_end: int = 0
    """Jobs still in the plant when the log ended."""
    repeated_downs: int = 0
    up_without_down: int = 0
    down_at_start: int = 0
    silent_machines: dict[str, int] = field(default_factory=dict)
    """Per station: machines a scenario declares that the log never shows."""
    outage_only_machines: list[str] = field(default_factory=list)
    """Machines seen failing and being repaired but never working (``station/machine``)."""

    @property
    def repaired(self) -> int:
        """Rows added or dropped by the repairs."""
        return (
            self.duplicates
            + self.finish_without_start
            + self.start_without_finish
            + self.entries_added
            + self.cut_at_start
            + self.repeated_downs
            + self.up_without_down
            + self.down_at_start
        )

    def to_json(self) -> dict[str, Any]:
        """The report as plain data (the calibration report's ``hygiene`` section)."""
        document = {name: getattr(self, name) for name in self.__dataclass_fields__}
        document["repaired"] = self.repaired
        return document

    def lines(self) -> list[str]:
        """One human line per thing found (empty when the log was clean)."""
        words = {
            "duplicates": "duplicate rows dropped",
            "reordered": "rows out of time order put in order",
            "reordered_beyond_window": "of them later than the reorder window",
            "finish_without_start": "finishes without their start: start added",
            "start_without_finish": "starts without their finish (the job moved on): finish added",
            "entries_added": "visits without their entry: entry added",
            "cut_at_start": "jobs already in the plant when the log began",
            "open_at_end": "jobs still in the plant when the log ended",
            "repeated_downs": "repeated 'down' rows dropped",
            "up_without_down": "'up' rows without a 'down' dropped",
            "down_at_start": "machines down when the log began",
        }
        found = [f"{getattr(self, k)} {text}" for k, text in words.items() if getattr(self, k)]
        found += [f"{s}: {n} declared machines never report" for s, n in self.silent_machines.items()]
        found += [f"{m}: only fails and is repaired, never works" for m in self.outage_only_machines]
        return found


def _rows(base: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    """New log rows in the frame's columns: text columns "" and others missing unless given."""
    import pandas as pd

    count = len(next(iter(columns.values())))
    data: dict[str, Any] = {}
    for column in base.columns:
        if column in columns:
            data[column] = np.asarray(columns[column])
        elif pd.api.types.is_string_dtype(base[column].dtype) or base[column].dtype == object:
            data[column] = np.full(count, "", dtype=object)
        else:
            data[column] = base[column].iloc[:0].reindex(range(count)).to_numpy()
    return pd.DataFrame(data, columns=base.columns)


def _deduplicate(frame: pd.DataFrame, report: HygieneReport) -> pd.DataFrame:
    if "seq" in frame.columns and frame["seq"].notna().any():
        keyed = frame["seq"].notna()
        source = frame["source"] if "source" in frame.columns else ""
        dup = keyed & frame.assign(_source=source).duplicated(["_source", "seq"])
    else:
        dup = frame.duplicated(["time", "event", "job", "product", "station", "machine"])
    report.duplicates = int(dup.sum())
    return frame[~dup.to_numpy()]


def _count_disorder(frame: pd.DataFrame, window: float, report: HygieneReport) -> None:
    in_file = frame["time"].sort_index().to_numpy()
    before = np.maximum.accumulate(np.concatenate(([-np.inf], in_file[:-1])))
    late = before - in_file
    report.reordered = int((late > 0).sum())
    report.reordered_beyond_window = int((late > window).sum())
    report.max_lateness = float(late.max()) if len(late) and late.max() > 0 else 0.0


def _visit_repairs(history: History, frame: pd.DataFrame, report: HygieneReport) -> list[pd.DataFrame]:
    """Rows that complete the visits: missing starts, finishes and entries, cut jobs' arrivals."""
    visits = history.visits
    t0 = history.start
    added = []
    cut_jobs = history.jobs.index[history.jobs["arrive"].isna()]
    report.cut_at_start = len(cut_jobs)
    if len(cut_jobs):
        products = history.jobs.loc[cut_jobs, "product"]
        added.append(
            _rows(
                frame,
                time=np.full(len(cut_jobs), t0),
                event=np.full(len(cut_jobs), "arrive"),
                job=np.asarray(cut_jobs),
                product=products.to_numpy(),
                repair=np.full(len(cut_jobs), "cut at start"),
            )
        )
    first_of_job = ~visits["job"].duplicated().to_numpy()
    # A cut job's first visit without an entry was under way when the log began.
    cut = visits["job"].isin(cut_jobs).to_numpy() & first_of_job & visits["enter"].isna().to_numpy()
    no_enter = visits["enter"].isna().to_numpy() & visits["finish"].notna().to_numpy() | (
        visits["enter"].isna().to_numpy() & visits["start"].notna().to_numpy()
    )
    enter_time = np.where(cut, t0, visits["setup"].fillna(visits["start"]).fillna(visits["finish"]).to_numpy())
    pick = no_enter
    report.entries_added = int(pick.sum())
    if pick.any():
        added.append(
            _rows(
                frame,
                time=enter_time[pick],
                event=np.full(pick.sum(), "enter"),
                job=visits["job"].to_numpy()[pick],
                product=visits["product"].to_numpy()[pick],
                station=visits["station"].to_numpy()[pick],
                repair=np.full(pick.sum(), "enter missing"),
            )
        )
    # Where each machine was last freed before this visit: the previous visit's leave.
    key = machine_key(visits["station"], visits["machine"]).to_numpy()
    when = visits["start"].fillna(visits["finish"]).to_numpy()
    order = np.lexsort((when, key))
    freed = np.full(len(visits), -np.inf)
    leave = visits["leave"].fillna(visits["finish"]).to_numpy()
    same = key[order][1:] == key[order][:-1]
    freed[order[1:]] = np.where(same, leave[order][:-1], -np.inf)
    next_start = np.full(len(visits), np.nan)
    next_start[order[:-1]] = np.where(same, visits["start"].to_numpy()[order][1:], np.nan)
    no_start = visits["start"].isna().to_numpy() & visits["finish"].notna().to_numpy()
    known_entry = visits["setup"].fillna(visits["enter"]).to_numpy(float)
    entered = np.where(cut, t0, np.where(np.isnan(known_entry), enter_time, known_entry))
    start = np.fmax(np.nan_to_num(entered, nan=t0), np.where(cut, t0, freed))
    start = np.minimum(start, visits["finish"].to_numpy())
    report.finish_without_start = int((no_start & ~cut).sum())
    if no_start.any():
        added.append(
            _rows(
                frame,
                time=start[no_start],
                event=np.full(no_start.sum(), "start"),
                job=visits["job"].to_numpy()[no_start],
                product=visits["product"].to_numpy()[no_start],
                station=visits["station"].to_numpy()[no_start],
                machine=visits["machine"].to_numpy()[no_start],
                repair=np.where(cut[no_start], "cut at start", "finish without start"),
            )
        )
    no_finish = visits["start"].notna().to_numpy() & visits["finish"].isna().to_numpy()
    bound = np.fmin(visits["leave"].to_numpy(), next_start)
    fixable = no_finish & ~np.isnan(bound)
    report.start_without_finish = int(fixable.sum())
    if fixable.any():
        added.append(
            _rows(
                frame,
                time=bound[fixable],
                event=np.full(fixable.sum(), "finish"),
                job=visits["job"].to_numpy()[fixable],
                product=visits["product"].to_numpy()[fixable],
                station=visits["station"].to_numpy()[fixable],
                machine=visits["machine"].to_numpy()[fixable],
                repair=np.full(fixable.sum(), "start without finish"),
            )
        )
    report.open_at_end = int(history.in_plant().sum())
    return added


def _outage_repairs(frame: pd.DataFrame, t0: float, report: HygieneReport) -> tuple[np.ndarray, list[pd.DataFrame]]:
    """Rows to drop (repeated downs, stray ups) and rows to add (downs at the log's start)."""
    machine_rows = frame[frame["event"].isin((*OUTAGE_EVENTS, "up"))]
    ordered = machine_rows.assign(_key=machine_key(machine_rows["station"], machine_rows["machine"]))
    ordered = ordered.sort_values(["_key", "time"], kind="stable")
    key = ordered["_key"].to_numpy()
    down = ordered["event"].isin(OUTAGE_EVENTS).to_numpy()
    first = np.ones(len(ordered), bool)
    first[1:] = key[1:] != key[:-1]
    previous_down = np.zeros(len(ordered), bool)
    previous_down[1:] = down[:-1] & ~first[1:]
    # A run of equal events keeps its first; an up first of its machine starts with an outage.
    repeated = down & previous_down
    stray_up = ~down & ~first & ~previous_down
    leading_up = ~down & first
    report.repeated_downs = int(repeated.sum())
    report.up_without_down = int(stray_up.sum())
    report.down_at_start = int(leading_up.sum())
    drop = ordered.index.to_numpy()[repeated | stray_up]
    added = []
    if leading_up.any():
        ups = ordered[leading_up]
        added.append(
            _rows(
                frame,
                time=np.full(len(ups), t0),
                event=np.full(len(ups), "down"),
                station=ups["station"].to_numpy(),
                machine=ups["machine"].to_numpy(),
                repair=np.full(len(ups), "down at start"),
            )
        )
    return drop, added


def repair_log(
    frame: pd.DataFrame, declared_machines: dict[str, int] | None = None, window: float = 1.0
) -> tuple[pd.DataFrame, HygieneReport]:
    """Repair a canonical log frame (see the module doc); returns the repaired frame, in time
    order with a ``repair`` column, and what was done.

    Args:
        declared_machines: machines per station a scenario declares, to find silent ones.
        window: disorder up to this much time is ordinary; later rows are counted apart.
    """
    import pandas as pd

    report = HygieneReport(rows=len(frame))
    attrs = dict(frame.attrs)
    frame = frame.copy()
    frame["repair"] = ""
    _count_disorder(frame, window, report)
    frame = _deduplicate(frame, report)
    t0 = float(frame["time"].min())
    drop, outage_rows = _outage_repairs(frame, t0, report)
    frame = frame[~frame.index.isin(drop)] if len(drop) else frame
    history = build_history(frame)
    added = _visit_repairs(history, frame, report) + outage_rows
    if declared_machines:
        named = frame[frame["machine"] != ""].drop_duplicates(["station", "machine"])
        seen = named.groupby("station").size()
        for station, count in declared_machines.items():
            missing = count - int(seen.get(station, 0))
            if missing > 0:
                report.silent_machines[station] = missing
    named = frame[frame["machine"] != ""]
    keys = machine_key(named["station"], named["machine"])
    working = set(keys[named["job"].to_numpy() != ""])
    failing = named[named["job"].to_numpy() == ""].drop_duplicates(["station", "machine"])
    report.outage_only_machines = [
        f"{s}/{m}" for s, m in zip(failing["station"], failing["machine"], strict=True) if f"{s}\x1f{m}" not in working
    ]
    if added:
        extra = pd.concat(added, ignore_index=True)
        extra.index = pd.Index(np.zeros(len(extra), dtype=np.int64), name="row")
        frame = pd.concat([frame, extra])
    rank = frame["event"].map(
        {
            "arrive": 0,
            "down": 1,
            "maintenance": 1,
            "up": 1,
            "finish": 2,
            "scrap": 3,
            "exit": 3,
            "assembled": 3,
            "rework": 3,
            "transport_start": 3,
            "transport_end": 4,
            "enter": 4,
            "setup": 5,
            "start": 6,
        }
    )
    frame = frame.assign(_rank=rank.to_numpy()).sort_values(["time", "_rank"], kind="stable").drop(columns="_rank")
    for column in ("event", "job", "product", "station", "machine", "repair"):
        frame[column] = frame[column].astype(str)
    frame.attrs = attrs
    return frame, report
