"""Stations (a buffer in front of identical parallel machines) and their machines.

The hot path (a job arrives, a machine takes it, the operation ends, the job moves on) runs
as plain callbacks on SimPy timeouts rather than one generator process per job: it is the
same event calendar, without the cost of creating and resuming a process per operation.

Blocking after service: a finished job moves to the next station only when that station has
room (``len(queue) < buffer + free machines able to start``); until then its machine is ``BLOCKED`` and the
pair waits, first come first served, in the next station's ``waiting`` line.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from simpy import Environment, Timeout

from twin.scenario.distributions import Sampler
from twin.sim.job import Job
from twin.sim.log import EventLog, JobEvent, MachineState

if TYPE_CHECKING:
    from twin.sim.operators import OperatorPool

__all__ = ["Dispatcher", "Machine", "Plantlike", "Station"]

Dispatcher = Callable[[Sequence[Job], float], "int | None"]
"""Picks the index of the next job from a queue; ``None`` defers the choice to an outside
controller, which later calls :meth:`Station.assign` (how the Gymnasium env takes decisions)."""

_ENTER, _START, _FINISH, _EXIT, _SCRAP, _SETUP_EVENT = (
    int(JobEvent.ENTER),
    int(JobEvent.START),
    int(JobEvent.FINISH),
    int(JobEvent.EXIT),
    int(JobEvent.SCRAP),
    int(JobEvent.SETUP),
)
_IDLE, _BUSY, _SETUP, _BLOCKED, _DOWN, _OFF = (int(s) for s in MachineState)

_SAME_INSTANT = 1e-12
"""Relative time difference below which two events count as simultaneous (float rounding)."""

# What a machine is doing with its job.
_NONE, _IN_SETUP, _PROCESSING, _HOLDING = range(4)


class Plantlike(Protocol):
    """What stations need of the plant around them."""

    def job_left(self, job: Job) -> None:
        """A job left the plant (complete or scrapped)."""

    def decision_needed(self, station: Station) -> None:
        """A deferred dispatcher wants an outside decision at ``station``."""


class FailureModel:
    """Samplers of a machine's breakdowns; ``busy`` counts time to failure in processing time."""

    def __init__(self, ttf: Sampler, ttr: Sampler, busy: bool) -> None:
        self.ttf = ttf
        self.ttr = ttr
        self.busy = busy


class Station:
    """A buffer of waiting jobs in front of ``len(machines)`` identical machines."""

    def __init__(
        self,
        env: Environment,
        log: EventLog,
        plant: Plantlike,
        index: int,
        name: str,
        buffer: int | None,
        dispatcher: Dispatcher,
        first_machine_id: int,
        machines: int,
        failures: Callable[[int], FailureModel] | None = None,
        setup_time: Callable[[str, str], float] | None = None,
        scrap: tuple[float, Sampler] | None = None,
        pool: OperatorPool | None = None,
    ) -> None:
        self.env = env
        self.log = log
        self.plant = plant
        self.index = index
        self.name = name
        self.capacity: float = math.inf if buffer is None else buffer
        self.dispatcher = dispatcher
        self.setup_time = setup_time
        self.scrap = scrap
        self.pool = pool
        self.queue: list[Job] = []
        self.waiting: deque[tuple[Job, Machine | None]] = deque()
        """Jobs held upstream (on a blocked machine, or at the plant entrance) for room here."""
        self.awaiting_decision = False
        self.machines = [
            Machine(self, i, first_machine_id + i, failures(i) if failures else None) for i in range(machines)
        ]
        self.free: deque[Machine] = deque(self.machines)
        """Machines ready for a job, longest idle first."""

    def has_room(self) -> bool:
        """Whether one more job may enter: the buffer counts only jobs not on a machine, and a
        free machine makes room only if it can start at once (an operator is free for it)."""
        startable = len(self.free)
        if self.pool is not None:
            startable = min(startable, max(self.pool.available, 0))
        return len(self.queue) < self.capacity + startable

    def idle_state(self) -> int:
        """State of a machine with nothing to do: off shift when its operators are."""
        return _OFF if self.pool is not None and self.pool.capacity == 0 else _IDLE

    def offer(self, job: Job, holder: Machine | None) -> bool:
        """Accept ``job`` if there is room, else queue it in ``waiting``; True if accepted."""
        if self.has_room():
            self.accept(job)
            return True
        self.waiting.append((job, holder))
        if self.free and self.pool is not None:
            self.pool.has_free(self)  # refused for want of an operator: be called back when one is free
        return False

    def accept(self, job: Job) -> None:
        """Put ``job`` into the buffer (room was checked) and start work if a machine is free."""
        now = self.env.now
        job.entered = now
        self.log.job(now, job.id, self.index, -1, _ENTER)
        self.queue.append(job)
        if self.free:
            self.dispatch()

    def dispatch(self) -> None:
        """Give waiting jobs to free machines, then let held jobs upstream move in."""
        queue, free, pool = self.queue, self.free, self.pool
        while queue and free and not self.awaiting_decision:
            if pool is not None and not pool.has_free(self):
                break
            index = self.dispatcher(queue, self.env.now) if len(queue) > 1 else 0
            if index is None:
                if pool is not None:
                    pool.take()  # the operator is held for the pending decision, as for a rule's
                self.awaiting_decision = True
                self.plant.decision_needed(self)
                break
            self._start(index)
        # While a decision is out, the free machine still counts as room; pulling a held job
        # in now would show the decision a candidate a rule deciding on the spot never sees.
        if not self.awaiting_decision:
            self.pull()

    def assign(self, index: int) -> None:
        """Carry out a deferred decision: the job at ``index`` of the queue goes next.

        Raises:
            ValueError: no decision is pending here, or ``index`` is outside the queue.
        """
        if not self.awaiting_decision:
            raise ValueError(f"station {self.name!r} has no pending decision")
        if not 0 <= index < len(self.queue):
            raise ValueError(f"job index {index} outside the queue of {len(self.queue)} at {self.name!r}")
        self.awaiting_decision = False
        self._start(index, operator_held=True)
        self.dispatch()

    def _start(self, index: int, operator_held: bool = False) -> None:
        if self.pool is not None and not operator_held:
            self.pool.take()
        job = self.queue.pop(index)
        self.free.popleft().start(job)

    def pull(self) -> None:
        """Move held jobs from upstream into this station while there is room."""
        waiting = self.waiting
        while waiting and self.has_room():
            job, holder = waiting.popleft()
            self.accept(job)
            if holder is not None:
                holder.release()
        if waiting and self.free and self.pool is not None:
            self.pool.has_free(self)  # no operator to start a job: be called back when one is free

    def refresh_idle_states(self) -> None:
        """Relabel free machines after a shift change (idle <-> off shift)."""
        state = self.idle_state()
        for machine in self.free:
            machine.set_state(state)


class Machine:
    """One machine: takes a job, sets up, processes, fails and recovers, blocks, releases."""

    __slots__ = (
        "down",
        "env",
        "failing",
        "failure",
        "gid",
        "index",
        "job",
        "last_family",
        "left",
        "log",
        "phase",
        "phase_start",
        "state",
        "station",
        "token",
        "ttf_left",
    )

    def __init__(self, station: Station, index: int, gid: int, failure: FailureModel | None) -> None:
        self.station = station
        self.env = station.env
        self.log = station.log
        self.index = index
        self.gid = gid
        self.job: Job | None = None
        self.phase = _NONE
        self.phase_start = 0.0
        self.left = 0.0
        """Time still needed by the current phase when it (re)started."""
        self.token = 0
        """Identifies the pending timer; a calendar failure bumps it to cancel that timer."""
        self.failing = False
        self.down = False
        self.last_family: str | None = None
        self.failure = failure
        self.ttf_left: float | None = None
        self.state = station.idle_state()
        self.log.state(self.env.now, gid, self.state)
        if failure is not None:
            if failure.busy:
                self.ttf_left = failure.ttf()
            else:
                Timeout(self.env, failure.ttf()).callbacks.append(self._calendar_failure)

    def time_left(self, now: float) -> float:
        """Time still to run of the setup or operation in hand at ``now`` (0 when there is none
        running: free, blocked or down)."""
        if self.state not in (_BUSY, _SETUP):
            return 0.0
        return max(0.0, self.left - (now - self.phase_start))

    def set_state(self, state: int) -> None:
        """Log a state change (nothing if unchanged)."""
        if state != self.state:
            self.state = state
            self.log.state(self.env.now, self.gid, state)

    def start(self, job: Job) -> None:
        """Take ``job``: set up if its family differs from the last one, then process it."""
        self.job = job
        setup_time = self.station.setup_time
        if setup_time is not None:
            previous, self.last_family = self.last_family, job.family
            duration = setup_time(previous, job.family) if previous is not None else 0.0
            if duration > 0:
                self.log.job(self.env.now, job.id, self.station.index, self.index, _SETUP_EVENT)
                self.phase = _IN_SETUP
                self.set_state(_SETUP)
                self._run(duration)
                return
        self._process()

    def _process(self) -> None:
        job = self.job
        assert job is not None
        self.log.job(self.env.now, job.id, self.station.index, self.index, _START)
        self.phase = _PROCESSING
        self.set_state(_BUSY)
        self._run(job.times[job.step])

    def _run(self, duration: float) -> None:
        """Run the current phase for ``duration`` more, or until a busy-time failure."""
        self.phase_start = self.env.now
        self.left = duration
        self.token += 1
        ttf = self.ttf_left
        delay = duration
        self.failing = False
        if ttf is not None and self.phase == _PROCESSING and ttf < duration:
            self.failing = True
            delay = ttf
        Timeout(self.env, delay, self.token).callbacks.append(self._timer)

    def _timer(self, event: Timeout) -> None:
        if event._value != self.token:
            return  # this timer was cancelled by a calendar failure
        if self.failing:
            assert self.ttf_left is not None
            self.left -= self.ttf_left
            self.ttf_left = None
            self._fail()
            return
        if self.ttf_left is not None and self.phase == _PROCESSING:
            self.ttf_left -= self.left
        if self.phase == _IN_SETUP:
            self._process()
        else:
            self._finish()

    def _finish(self) -> None:
        job = self.job
        assert job is not None
        station = self.station
        self.log.job(self.env.now, job.id, station.index, self.index, _FINISH)
        self.phase = _NONE
        if station.pool is not None:
            station.pool.release()
        if station.scrap is not None and station.scrap[1]() < station.scrap[0]:
            self.log.job(self.env.now, job.id, station.index, self.index, _SCRAP)
            station.plant.job_left(job)
            self.release()
            return
        job.step += 1
        if job.step == len(job.plan):
            self.log.job(self.env.now, job.id, -1, -1, _EXIT)
            station.plant.job_left(job)
            self.release()
            return
        if job.plan[job.step].station.offer(job, self):
            self.release()
        else:
            self.phase = _HOLDING
            self.set_state(_BLOCKED)

    def release(self) -> None:
        """The job has left this machine: become free (unless down) and take the next job."""
        self.job = None
        self.phase = _NONE
        if self.down:
            return
        station = self.station
        self.set_state(station.idle_state())
        station.free.append(self)
        station.dispatch()

    def _fail(self) -> None:
        self.down = True
        self.set_state(_DOWN)
        assert self.failure is not None
        Timeout(self.env, self.failure.ttr()).callbacks.append(self._repaired)

    def _repaired(self, event: Timeout) -> None:
        self.down = False
        assert self.failure is not None
        if self.failure.busy:
            self.ttf_left = self.failure.ttf()
        else:
            Timeout(self.env, self.failure.ttf()).callbacks.append(self._calendar_failure)
        if self.phase in (_IN_SETUP, _PROCESSING):
            self.set_state(_SETUP if self.phase == _IN_SETUP else _BUSY)
            self._run(self.left)
        elif self.phase == _HOLDING:
            self.set_state(_BLOCKED)
        else:
            self.release()

    def _calendar_failure(self, event: Timeout) -> None:
        if self.phase in (_IN_SETUP, _PROCESSING):
            now = self.env.now
            left = self.phase_start + self.left - now
            if left <= _SAME_INSTANT * max(1.0, now):
                # The phase ends at this very instant: let it end first (its timer is already
                # due), then fail, after the events of this instant.
                Timeout(self.env, 0).callbacks.append(self._calendar_failure)
                return
            self.token += 1  # cancel the running phase; it resumes with what is left
            self.left = left
        elif self.phase == _NONE:
            self.station.free.remove(self)
        self._fail()
