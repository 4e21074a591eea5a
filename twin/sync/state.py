"""The plant state cut from an event log, one event at a time.

:class:`StateTracker` folds event-log rows (the columns of :mod:`twin.sync.eventlog`) into
the floor's present: which jobs are where, what every machine does and since when. It is the
one builder of states from events: ``twin state LOG --at T`` feeds it a file's rows, the live
mirror feeds it MQTT messages. An event that cannot have happened in the state so far (a
``start`` of a job that is not in the plant, a ``finish`` on a machine that is not processing
it) is rejected with a reason and changes nothing; nothing raises. A few microseconds per
event, so hundreds of thousands of events a second.

What a log does not say is assumed as documented on each event: a job in transit has left
its machine (for a vehicle it may still wait on it); a log that starts mid-way introduces a
job at its first event (when the row names its product). The model of the state is
:class:`twin.scenario.state.PlantState`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.scenario.state import JobState, MachineStatus, PlantState

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CutState", "JobState", "MachineStatus", "PlantState", "StateTracker", "state_at", "state_from_frame"]

_TIME_SLACK = 1e-9
"""Relative tolerance for an event that comes a rounding error before the tracker's time."""


@dataclass
class _Job:
    product: str
    arrival: float | None
    due: float | None
    where: str = "entrance"
    station: str = ""
    machine: str = ""
    step: int = -1
    path: list[str] = field(default_factory=list)
    """Stations of the route steps seen so far (the route as far as the log shows it)."""
    rework: bool = False
    """Sent back for rework: the next ``enter`` goes to an earlier step."""
    processing: bool = False
    elapsed: float = 0.0
    """Processing time spent before ``since`` (the current run started then)."""
    since: float = 0.0


@dataclass
class _Machine:
    state: str = "idle"
    since: float = 0.0
    jobs: list[str] = field(default_factory=list)
    resume: str = "idle"
    """The state to return to on ``up``."""
    renewed: float = 0.0
    """Its last ``up``, or its first event: what its age counts from."""
    worked: float = 0.0
    """Processing time since ``renewed``, up to ``since``."""
    last_product: str | None = None
    """Product of the last job it set up for or processed."""


class StateTracker:
    """Folds events into a plant state; :meth:`apply` one event, :meth:`state` to read it.

    Counts of what it did: ``applied`` and ``rejected`` (and ``reasons``, the count per
    rejection reason kind).
    """

    def __init__(self, time: float = 0.0) -> None:
        self.time = time
        self.jobs: dict[str, _Job] = {}
        self.machines: dict[tuple[str, str], _Machine] = {}
        self.applied = 0
        self.rejected = 0
        self.completed = 0
        """Jobs that left the plant complete (``exit``)."""
        self.scrapped = 0
        self._handlers: dict[str, Callable[[float, str, str, str, str, float | None], str | None]] = {
            "arrive": self._arrive,
            "enter": self._enter,
            "setup": self._setup,
            "start": self._start,
            "finish": self._finish,
            "exit": self._exit,
            "scrap": self._scrap,
            "down": self._down,
            "up": self._up,
            "maintenance": self._maintenance,
            "transport_start": self._transport_start,
            "transport_end": self._transport_end,
            "rework": self._rework,
            "assembled": self._assembled,
        }

    def apply(self, row: Mapping[str, Any]) -> str | None:
        """Apply one event (a mapping with the log's columns; ``due`` optional); returns None
        when applied, else why it was rejected (the state is then unchanged)."""
        due = row.get("due")
        return self.apply_event(
            row.get("time"),
            str(row.get("event") or ""),
            str(row.get("job") or ""),
            str(row.get("product") or ""),
            str(row.get("station") or ""),
            str(row.get("machine") or ""),
            None if due is None or due == "" else due,
        )

    def apply_event(
        self,
        time: Any,
        event: str,
        job: str = "",
        product: str = "",
        station: str = "",
        machine: str = "",
        due: Any = None,
    ) -> str | None:
        """:meth:`apply` with the columns as arguments (the fast path for a file's rows)."""
        try:
            now = float(time)
        except (TypeError, ValueError):
            return self._reject(f"time is not a number (got {time!r})")
        if not math.isfinite(now):
            return self._reject(f"time is not finite (got {time!r})")
        if now < self.time - _TIME_SLACK * max(1.0, abs(self.time)):
            return self._reject(f"event at {now:g} before the state's time {self.time:g}")
        handler = self._handlers.get(event)
        if handler is None:
            return self._reject(f"unknown event '{event}'")
        try:
            due_time = None if due is None else float(due)
        except (TypeError, ValueError):
            return self._reject(f"due is not a number (got {due!r})")
        if due_time is not None and not math.isfinite(due_time):
            due_time = None
        reason = handler(now, job, product, station, machine, due_time)
        if reason is not None:
            return self._reject(reason)
        self.time = max(self.time, now)
        self.applied += 1
        return None

    def _reject(self, reason: str) -> str:
        self.rejected += 1
        return reason

    # Job events -----------------------------------------------------------------------

    def _known(self, job: str, product: str, now: float) -> _Job | str:
        """The job, or a new one when the log begins after it arrived (its product needed)."""
        if not job:
            return "job is empty"
        found = self.jobs.get(job)
        if found is not None:
            return found
        if not product:
            return f"job '{job}' is not in the plant"
        found = self.jobs[job] = _Job(product, None, None)
        return found

    def _arrive(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        if not job or not product:
            return "arrive needs a job and its product"
        if job in self.jobs:
            return f"job '{job}' arrived twice"
        self.jobs[job] = _Job(product, now, due)
        return None

    def _leave_machine(self, name: str, job: _Job, now: float) -> None:
        if job.where != "machine":
            return
        holder = self.machines.get((job.station, job.machine))
        if holder is None:
            return
        if name in holder.jobs:
            holder.jobs.remove(name)
        if not holder.jobs:
            if holder.state in ("down", "maintenance"):
                holder.resume = "idle"
            else:
                self._set(holder, "idle", now)

    def _enter(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        found = self._known(job, product, now)
        if isinstance(found, str):
            return found
        if found.where == "machine" and found.processing:
            return f"job '{job}' entered '{station}' while processing at '{found.station}'"
        self._leave_machine(job, found, now)
        if found.rework and station in found.path[: found.step + 1]:
            found.step = max(i for i, s in enumerate(found.path[: found.step + 1]) if s == station)
        else:
            found.step += 1
            if found.step < len(found.path):
                found.path[found.step] = station
            else:
                found.path.append(station)
        found.rework = False
        found.where, found.station, found.machine = "buffer", station, ""
        found.elapsed = 0.0
        return None

    def _onto(self, job: str, product: str, station: str, machine: str, now: float) -> tuple[_Job, _Machine] | str:
        found = self._known(job, product, now)
        if isinstance(found, str):
            return found
        if found.where == "buffer" and found.station != station:
            return f"job '{job}' is in the buffer of '{found.station}', not '{station}'"
        if found.where == "machine" and (found.station, found.machine) != (station, machine):
            return f"job '{job}' is on machine '{found.machine}' of '{found.station}'"
        holder = self.machines.setdefault((station, machine), _Machine(since=now, renewed=now))
        if holder.state in ("down", "maintenance"):
            return f"machine '{machine}' of '{station}' is {holder.state}"
        if found.where == "entrance" or found.step < 0:
            found.step = 0
            found.path = [station]
        return found, holder

    def _put(self, job: str, found: _Job, holder: _Machine, station: str, machine: str) -> None:
        found.where, found.station, found.machine = "machine", station, machine
        holder.last_product = found.product
        if job not in holder.jobs:
            holder.jobs.append(job)

    def _setup(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        placed = self._onto(job, product, station, machine, now)
        if isinstance(placed, str):
            return placed
        found, holder = placed
        self._put(job, found, holder, station, machine)
        self._set(holder, "setup", now)
        return None

    def _start(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        placed = self._onto(job, product, station, machine, now)
        if isinstance(placed, str):
            return placed
        found, holder = placed
        if found.processing:
            return f"job '{job}' started twice"
        self._put(job, found, holder, station, machine)
        found.processing, found.elapsed, found.since = True, 0.0, now
        self._set(holder, "busy", now)
        return None

    def _finish(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        found = self.jobs.get(job)
        if found is None or not found.processing or (found.station, found.machine) != (station, machine):
            return f"job '{job}' is not processing on machine '{machine}' of '{station}'"
        holder = self.machines[(station, machine)]
        if holder.state in ("down", "maintenance"):
            return f"machine '{machine}' of '{station}' is {holder.state}"
        found.processing, found.elapsed = False, 0.0
        if holder.state == "busy" and all(not self.jobs[j].processing for j in holder.jobs):
            self._set(holder, "blocked", now)
        return None

    def _gone(self, job: str, now: float) -> _Job | str:
        found = self.jobs.get(job)
        if found is None:
            return f"job '{job}' is not in the plant"
        if found.processing:
            return f"job '{job}' is still processing at '{found.station}'"
        self._leave_machine(job, found, now)
        del self.jobs[job]
        return found

    def _exit(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        gone = self._gone(job, now)
        if isinstance(gone, str):
            return gone
        self.completed += 1
        return None

    def _scrap(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        gone = self._gone(job, now)
        if isinstance(gone, str):
            return gone
        self.scrapped += 1
        return None

    def _assembled(
        self, now: float, job: str, product: str, station: str, machine: str, due: float | None
    ) -> str | None:
        """A component consumed by an assembly leaves the plant inside the assembled job."""
        gone = self._gone(job, now)
        return gone if isinstance(gone, str) else None

    def _rework(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        found = self.jobs.get(job)
        if found is None or found.station != station or found.processing:
            return f"job '{job}' has not finished at '{station}'"
        found.rework = True
        return None

    def _transport_start(
        self, now: float, job: str, product: str, station: str, machine: str, due: float | None
    ) -> str | None:
        """Handed to transport: it leaves its machine (a vehicle may in fact load it later)."""
        found = self.jobs.get(job)
        if found is None or found.processing:
            return f"job '{job}' has not finished at '{station}'"
        self._leave_machine(job, found, now)
        found.where, found.station, found.machine = "transit", station, ""
        return None

    def _transport_end(
        self, now: float, job: str, product: str, station: str, machine: str, due: float | None
    ) -> str | None:
        found = self.jobs.get(job)
        if found is None or found.where != "transit":
            return f"job '{job}' is not in transit"
        return None

    # Machine events ---------------------------------------------------------------------

    def _set(self, holder: _Machine, state: str, now: float) -> None:
        if holder.state != state:
            if holder.state == "busy":
                holder.worked += now - holder.since
            holder.state, holder.since = state, now

    def _pause(self, holder: _Machine, now: float) -> None:
        for name in holder.jobs:
            job = self.jobs[name]
            if job.processing:
                job.elapsed += now - job.since
                job.since = now

    def _out(self, state: str, now: float, station: str, machine: str) -> str | None:
        if not station or not machine:
            return f"{state} needs a station and a machine"
        holder = self.machines.setdefault((station, machine), _Machine(since=now, renewed=now))
        if holder.state == state:
            return f"machine '{machine}' of '{station}' is already {state}"
        if holder.state not in ("down", "maintenance"):
            holder.resume = holder.state
            self._pause(holder, now)
        self._set(holder, state, now)
        return None

    def _down(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        return self._out("down", now, station, machine)

    def _maintenance(
        self, now: float, job: str, product: str, station: str, machine: str, due: float | None
    ) -> str | None:
        return self._out("maintenance", now, station, machine)

    def _up(self, now: float, job: str, product: str, station: str, machine: str, due: float | None) -> str | None:
        holder = self.machines.get((station, machine))
        if holder is None or holder.state not in ("down", "maintenance"):
            return f"machine '{machine}' of '{station}' is not down"
        for name in holder.jobs:
            if self.jobs[name].processing:
                self.jobs[name].since = now
        self._set(holder, holder.resume if holder.jobs else "idle", now)
        holder.renewed, holder.worked = now, 0.0
        return None

    # Starting from a known state ------------------------------------------------------------

    @classmethod
    def from_state(cls, state: PlantState, routes: Mapping[str, list[str]] | None = None) -> StateTracker:
        """A tracker that starts from ``state`` (the mirror's ``--state-in``): the events that
        follow are applied to it as if it had folded the log up to ``state.time``.

        A job on a busy machine, or on a down one with processing elapsed, is processing since
        ``state.time`` with its ``elapsed`` before that; ``routes`` (product -> stations) give
        the stations of the steps a job has passed, which rework needs; without them the
        job's current station stands for them.
        """
        tracker = cls(state.time)
        machines = {(m.station, m.machine): m for m in state.machines}
        for status in state.machines:
            running = state.time - status.since if status.state == "busy" else 0.0
            renewed = state.time - status.age if status.age is not None else status.since
            worked = (status.worked or 0.0) - running  # the tracker adds the busy time since ``since``
            tracker.machines[(status.station, status.machine)] = _Machine(
                status.state, status.since, renewed=renewed, worked=worked, last_product=status.last_product
            )
        for job in state.jobs:
            step = -1 if job.where == "entrance" else job.step
            route = (routes or {}).get(job.product)
            path = list(route[: step + 1]) if route and len(route) > step else [job.station or ""] * (step + 1)
            found = _Job(job.product, job.arrival, job.due, job.where, job.station or "", job.machine or "", step, path)
            tracker.jobs[job.id] = found
            if job.where != "machine":
                continue
            holder = tracker.machines.setdefault((found.station, found.machine), _Machine(since=state.time))
            holder.jobs.append(job.id)
            held = machines.get((found.station, found.machine))
            kind = "idle" if held is None else held.state
            interrupted = kind in ("down", "maintenance") and job.elapsed > 0
            if kind == "busy" or interrupted:
                found.processing, found.elapsed, found.since = True, job.elapsed, state.time
            if interrupted:
                holder.resume = "busy"
        return tracker

    # Reading ------------------------------------------------------------------------------

    def state(self, at: float | None = None) -> PlantState:
        """The plant state at ``at`` (default: the time of the last event applied), which must
        not be before the last event; processing in hand counts as elapsed up to ``at``.

        Raises:
            ValueError: ``at`` is before the last event applied.
        """
        now = self.time if at is None else float(at)
        if now < self.time:
            raise ValueError(f"the state is at {self.time:g}; cannot read it at the earlier {now:g}")
        jobs = []
        for name, job in self.jobs.items():
            elapsed = job.elapsed
            if job.processing:
                holder = self.machines[(job.station, job.machine)]
                running = holder.state not in ("down", "maintenance")
                elapsed += (now - job.since) if running else 0.0
            jobs.append(
                JobState(
                    id=name,
                    product=job.product,
                    step=max(job.step, 0),
                    where=job.where,
                    station=job.station or None,
                    machine=job.machine or None,
                    elapsed=elapsed if job.where == "machine" else 0.0,
                    due=job.due,
                    arrival=job.arrival,
                )
            )
        machines = [
            MachineStatus(
                station=station,
                machine=machine,
                state=m.state,
                since=m.since,
                age=now - m.renewed,
                worked=m.worked + (now - m.since if m.state == "busy" else 0.0),
                last_product=m.last_product,
            )
            for (station, machine), m in self.machines.items()
        ]
        return PlantState(time=now, jobs=jobs, machines=machines)


@dataclass(frozen=True)
class CutState:
    """A state cut from a log, with the counts of what the tracker did."""

    state: PlantState
    applied: int
    rejected: dict[str, int]
    """Rejected events by reason (the names of jobs and machines in it left out)."""


def state_from_frame(frame: pd.DataFrame, at: float) -> CutState:
    """The state at ``at`` of a canonical log frame (rows at or before ``at`` applied)."""
    rows = frame[frame["time"].to_numpy() <= at]
    tracker = StateTracker(float(rows["time"].iloc[0]) if len(rows) else at)
    due = rows["due"].to_numpy() if "due" in rows.columns else [None] * len(rows)
    reasons: dict[str, int] = {}
    columns = (rows[c].tolist() for c in ("time", "event", "job", "product", "station", "machine"))
    for (time, event, job, product, station, machine), due_time in zip(zip(*columns, strict=True), due, strict=True):
        reason = tracker.apply_event(time, event, job, product, station, machine, due_time)
        if reason is not None:
            kind = re.sub(r"'[^']*'", "'...'", reason)
            reasons[kind] = reasons.get(kind, 0) + 1
    return CutState(tracker.state(at), tracker.applied, reasons)


def state_at(log: str | Path, at: float, time_unit: str = "min") -> CutState:
    """The state at ``at`` of the event log file ``log`` (read by :func:`twin.sync.eventlog.read_log`).

    Raises:
        LogError: the log cannot be read.
    """
    from twin.sync.eventlog import read_log

    return state_from_frame(read_log(log, time_unit=time_unit), at)
