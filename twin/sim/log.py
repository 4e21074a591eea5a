"""The event log: every job movement and machine state change, as compact columns.

The model appends to typed ``array`` columns (17 bytes a job record, 13 a state record, 17 a
vehicle record) rather than Python objects, so a 50-station line moving 100,000 jobs fits in a few hundred MB.
KPIs (``twin.measure.kpi``) are pure functions of this log; :meth:`EventLog.columns` hands them numpy
views without copying.
"""

from __future__ import annotations

from array import array
from enum import IntEnum
from typing import Protocol

import numpy as np

__all__ = ["EventLog", "JobEvent", "MachineState", "Recorder", "VehicleState"]


class JobEvent(IntEnum):
    """What happened to a job."""

    ARRIVE = 0
    """Entered the plant."""
    ENTER = 1
    """Entered a station's input buffer."""
    START = 2
    """Processing started on a machine (after any setup); without a setup the job left the
    buffer at this moment."""
    FINISH = 3
    """Processing finished; the job stays on the machine until it can move on."""
    EXIT = 4
    """Left the plant complete."""
    SCRAP = 5
    """Scrapped at a station; it leaves the plant."""
    SETUP = 6
    """Taken from the buffer onto a machine that first sets up for it (START follows)."""
    TRANSPORT_START = 7
    """Handed to transport towards its next station, where room is now reserved for it: it
    leaves on a fixed-time transport, or waits on its machine for a vehicle (``station`` and
    ``machine`` are where it is)."""
    TRANSPORT_END = 8
    """Delivered to its next station (an ENTER there follows at once)."""
    REWORK = 9
    """Found to need rework when it finished at this station: it goes back to an earlier one."""
    ASSEMBLED = 10
    """Consumed as a component by the job starting at this station and machine; it leaves
    the plant inside that job."""


class MachineState(IntEnum):
    """State of one machine; every change is logged."""

    IDLE = 0
    """Nothing to work on (starved), or waiting for an operator."""
    BUSY = 1
    SETUP = 2
    BLOCKED = 3
    """Holding a finished job that has no room downstream (blocking after service)."""
    DOWN = 4
    OFF_SHIFT = 5
    """Its operators are off shift."""
    MAINTENANCE = 6
    """In preventive maintenance."""

    @property
    def label(self) -> str:
        """Lower-case name, as used in tables and plots."""
        return self.name.lower()


class VehicleState(IntEnum):
    """State of one transport vehicle; every change is logged."""

    IDLE = 0
    """Parked where it delivered its last job (or at home), waiting for a request."""
    EMPTY = 1
    """Travelling empty to a pickup."""
    LOADING = 2
    LOADED = 3
    """Travelling with a job."""
    UNLOADING = 4

    @property
    def label(self) -> str:
        """Lower-case name, as used in tables and plots."""
        return self.name.lower()


_ARRIVE, _ENTER, _START, _FINISH, _EXIT = (
    int(JobEvent.ARRIVE),
    int(JobEvent.ENTER),
    int(JobEvent.START),
    int(JobEvent.FINISH),
    int(JobEvent.EXIT),
)


class Recorder(Protocol):
    """What the model writes its events to: an :class:`EventLog`, or a
    :class:`~twin.sim.tally.KpiTally` that keeps only what the KPIs need."""

    def job(self, time: float, job: int, station: int, machine: int, kind: int) -> None:
        """A job event; ``station``/``machine`` are -1 where they do not apply."""

    def state(self, time: float, machine: int, state: int) -> None:
        """Plant-wide machine number ``machine`` entered ``state``."""

    def on_enter(self, time: float, job: int, station: int) -> None:
        """``job(time, job, station, -1, ENTER)``, in one call (the hot path's)."""

    def on_start(self, time: float, job: int, station: int, machine: int) -> None:
        """``job(time, job, station, machine, START)``, in one call."""

    def on_finish(self, time: float, job: int, station: int, machine: int) -> None:
        """``job(time, job, station, machine, FINISH)``, in one call."""

    def on_exit(self, time: float, job: int) -> None:
        """``job(time, job, -1, -1, EXIT)``, in one call."""

    def vehicle(self, time: float, vehicle: int, state: int, job: int, station: int) -> None:
        """``vehicle`` entered ``state`` (for ``job``, at or towards ``station``)."""

    def new_job(self, product: int, due: float) -> int:
        """Register a job; its id."""

    def on_arrive(self, time: float, product: int, due: float) -> int:
        """``new_job(product, due)``, then ``job(time, id, -1, -1, ARRIVE)``, in one call; the id."""


class EventLog:
    """Append-only columns of job records and machine-state records, in time order."""

    def __init__(self) -> None:
        self.job_time = array("d")
        self.job_id = array("i")
        self.job_station = array("h")
        self.job_machine = array("h")
        self.job_kind = array("b")
        self.state_time = array("d")
        self.state_machine = array("i")
        self.state_code = array("b")
        self.job_product = array("h")
        """Product index of each job, by job id."""
        self.job_due = array("d")
        """Due date of each job (``inf`` if none), by job id."""
        self.vehicle_time = array("d")
        self.vehicle_id = array("h")
        self.vehicle_state = array("b")
        self.vehicle_job = array("i")
        """Job loaded or travelled to (-1 when idle)."""
        self.vehicle_station = array("h")
        """Station the vehicle is at (idle, loading, unloading) or heading for (travelling)."""

    def job(self, time: float, job: int, station: int, machine: int, kind: int) -> None:
        """Record a job event; ``station``/``machine`` are -1 where they do not apply."""
        self.job_time.append(time)
        self.job_id.append(job)
        self.job_station.append(station)
        self.job_machine.append(machine)
        self.job_kind.append(kind)

    def on_enter(self, time: float, job: int, station: int) -> None:
        """Record that ``job`` entered the buffer of ``station``."""
        self.job_time.append(time)
        self.job_id.append(job)
        self.job_station.append(station)
        self.job_machine.append(-1)
        self.job_kind.append(_ENTER)

    def on_start(self, time: float, job: int, station: int, machine: int) -> None:
        """Record that ``job`` started processing on ``machine`` of ``station``."""
        self.job_time.append(time)
        self.job_id.append(job)
        self.job_station.append(station)
        self.job_machine.append(machine)
        self.job_kind.append(_START)

    def on_finish(self, time: float, job: int, station: int, machine: int) -> None:
        """Record that ``job`` finished processing on ``machine`` of ``station``."""
        self.job_time.append(time)
        self.job_id.append(job)
        self.job_station.append(station)
        self.job_machine.append(machine)
        self.job_kind.append(_FINISH)

    def on_exit(self, time: float, job: int) -> None:
        """Record that ``job`` left the plant complete."""
        self.job_time.append(time)
        self.job_id.append(job)
        self.job_station.append(-1)
        self.job_machine.append(-1)
        self.job_kind.append(_EXIT)

    def state(self, time: float, machine: int, state: int) -> None:
        """Record that plant-wide machine number ``machine`` entered ``state``."""
        self.state_time.append(time)
        self.state_machine.append(machine)
        self.state_code.append(state)

    def vehicle(self, time: float, vehicle: int, state: int, job: int, station: int) -> None:
        """Record that ``vehicle`` entered ``state`` (for ``job``, at or towards ``station``)."""
        self.vehicle_time.append(time)
        self.vehicle_id.append(vehicle)
        self.vehicle_state.append(state)
        self.vehicle_job.append(job)
        self.vehicle_station.append(station)

    def new_job(self, product: int, due: float) -> int:
        """Register a job and return its id (ids count from 0 in creation order)."""
        self.job_product.append(product)
        self.job_due.append(due)
        return len(self.job_product) - 1

    def on_arrive(self, time: float, product: int, due: float) -> int:
        """Register a job that enters the plant at ``time`` and record its arrival; its id."""
        self.job_product.append(product)
        self.job_due.append(due)
        job = len(self.job_product) - 1
        self.job_time.append(time)
        self.job_id.append(job)
        self.job_station.append(-1)
        self.job_machine.append(-1)
        self.job_kind.append(_ARRIVE)
        return job

    def columns(self) -> dict[str, np.ndarray]:
        """Zero-copy numpy views of every column (valid while the log is not appended to)."""
        return {
            name: np.frombuffer(column, dtype=column.typecode) if len(column) else np.array([], dtype=column.typecode)
            for name, column in vars(self).items()
        }

    @property
    def nbytes(self) -> int:
        """Memory held by the columns."""
        return sum(column.itemsize * len(column) for column in vars(self).values())
