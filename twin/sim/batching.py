"""Batch processing: a machine that processes several jobs together (an oven, a washer).

A free machine of a batch station starts a batch when ``size`` jobs wait, or, with
``max_wait``, once the first job in the buffer has waited that long (then with every job
waiting, up to ``size``). The station's dispatching rule picks the jobs one after the other
(``fifo``: the oldest). A batch sets up once (for its first job's family), takes as long as
the longest process time of its jobs, and fails, is maintained and resumes as one operation.
When it ends, each job moves on by itself; the machine is ``blocked`` until the last one has
left. Every job of a batch logs its own SETUP, START and FINISH, at the same times.

A batch station never defers its choice to an outside controller: it forms batches by its
own rule (the Gymnasium env decides at the other stations).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simpy import Timeout

from twin.sim.log import JobEvent, MachineState
from twin.sim.station import IN_SETUP, NONE, PROCESSING, Machine

if TYPE_CHECKING:
    from twin.sim.job import Job
    from twin.sim.station import FailureModel, Station

__all__ = ["BatchMachine", "Batching"]

_SETUP, _START, _FINISH = int(JobEvent.SETUP), int(JobEvent.START), int(JobEvent.FINISH)
_BUSY = int(MachineState.BUSY)

_SAME_INSTANT = 1e-12
"""Relative time difference below which a wait counts as reaching ``max_wait``."""


class Batching:
    """When a batch station's free machines start their batches, and with which jobs."""

    __slots__ = ("max_wait", "size", "station", "wake_at")

    def __init__(self, station: Station, size: int, max_wait: float | None) -> None:
        self.station = station
        self.size = size
        self.max_wait = max_wait
        self.wake_at = math.inf
        """When the pending ``max_wait`` timer fires (inf: none pending)."""

    def dispatch(self) -> None:
        """Start every batch that is ready on a free machine, then let held jobs upstream in."""
        station = self.station
        queue, free, pool = station.queue, station.free, station.pool
        while queue and free:
            if pool is not None and not pool.has_free(station):
                break
            count = self._ready()
            if not count:
                break
            if pool is not None:
                pool.take()
            jobs = self._pick(count)
            machine = free.popleft()
            assert isinstance(machine, BatchMachine)
            machine.start_batch(jobs)
        station.pull()

    def _ready(self) -> int:
        """Jobs the next batch takes now (0: not ready yet; a timer then wakes the station)."""
        queue = self.station.queue
        if len(queue) >= self.size:
            return self.size
        if self.max_wait is None:
            return 0
        now = self.station.env.now
        due = queue[0].entered + self.max_wait
        if due - now <= _SAME_INSTANT * max(1.0, now):
            return len(queue)
        if due < self.wake_at:
            self.wake_at = due
            Timeout(self.station.env, due - now).callbacks.append(self._wake)
        return 0

    def _wake(self, _: object) -> None:
        self.wake_at = math.inf
        self.station.dispatch()

    def _pick(self, count: int) -> list[Job]:
        station = self.station
        queue, now = station.queue, station.env.now
        jobs = []
        for _ in range(count):
            index = station.dispatcher(queue, now) if len(queue) > 1 else 0
            if index is None:
                raise RuntimeError(f"batch station {station.name!r} forms batches by its own rule; it cannot defer")
            jobs.append(queue.pop(index))
        return jobs


class BatchMachine(Machine):
    """A machine that processes a batch of jobs as one operation."""

    __slots__ = ("batch", "held")

    def __init__(self, station: Station, index: int, gid: int, failure: FailureModel | None) -> None:
        super().__init__(station, index, gid, failure)
        self.batch: list[Job] = []
        self.held = 0
        """Jobs of the finished batch still on the machine."""

    def start_batch(self, jobs: list[Job]) -> None:
        """Take ``jobs`` as one batch (set up for the first one's family)."""
        self.batch = jobs
        self.start(jobs[0])
        if self.phase == IN_SETUP:  # the others set up with it
            for job in jobs[1:]:
                self.log.job(self.env.now, job.id, self.station.index, self.index, _SETUP)

    def _process(self) -> None:
        now, station = self.env.now, self.station.index
        for job in self.batch:
            self.log.job(now, job.id, station, self.index, _START)
        self.phase = PROCESSING
        self.set_state(_BUSY)
        self._run(max(job.times[job.step] for job in self.batch))

    def _finish(self) -> None:
        now, station = self.env.now, self.station
        jobs, self.batch = self.batch, []
        for job in jobs:
            self.log.job(now, job.id, station.index, self.index, _FINISH)
        self.phase = NONE
        if station.pool is not None:
            station.pool.release()
        self.held = len(jobs) + 1  # one more while sending them on, so no release frees the machine early
        for job in jobs:
            if self.move_on(job):
                self.held -= 1
        self.held -= 1
        if self.held:
            self.hold()
        else:
            super().release()

    def release(self) -> None:
        """A job of the batch left the machine; the machine is free once all have."""
        if self.held:
            self.held -= 1
            if self.held:
                return
        super().release()
