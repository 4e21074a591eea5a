"""The lean hot path: stations and machines specialised at build time to a plain station.

Most stations of most scenarios use none of the optional features: no operators, setups,
scrap, assembly kits, batching, rework, transport legs or maintenance. :class:`LeanStation`
and :class:`LeanMachine` are :class:`~twin.sim.station.Station` and
:class:`~twin.sim.station.Machine` for those: the same model, event for event and record for
record (a test compares the logs bit for bit), with the checks for absent features taken out,
the operation's steps folded into fewer calls (each reads ``now`` once and writes each
record with one call of the recorder), each machine's operations waiting on one reusable
:class:`~twin.sim.alarm.Alarm` rather than a new timeout apiece, and a ``deque`` for a FIFO buffer (``popleft`` where a
list would shift every waiting job). With a :class:`~twin.sim.tally.KpiTally` instead of the
log, a machine that frees with jobs waiting skips the idle record of zero length.

:class:`~twin.sim.plant.Plant` picks them per station (:func:`lean_station`); a lean
station's machines are lean unless their breakdowns count busy time (those keep the general
machine, which lean stations drive through the same public calls); a calendar-time failure
interrupts a lean machine's operation, which it finishes on its own path after the repair.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from simpy import Environment, Event

from twin.dispatching import fifo
from twin.scenario import Scenario
from twin.scenario import Station as StationSpec
from twin.sim.alarm import Alarm
from twin.sim.job import Job
from twin.sim.log import MachineState, Recorder
from twin.sim.station import HOLDING, NONE, PROCESSING, Dispatcher, FailureModel, Machine, Plantlike, Station
from twin.sim.tally import KpiTally

__all__ = ["LeanMachine", "LeanStation", "lean_station"]

_IDLE, _BUSY, _BLOCKED = int(MachineState.IDLE), int(MachineState.BUSY), int(MachineState.BLOCKED)


def lean_station(scenario: Scenario, spec: StationSpec) -> bool:
    """Whether a station of ``scenario`` declared by ``spec`` can run the lean hot path: it
    uses no optional feature and no transport leads into it (its dispatcher may be a rule or
    an outside controller that defers its choices, as the Gymnasium env does)."""
    return not (
        scenario.transport is not None
        or spec.operator is not None
        or spec.setup is not None
        or spec.scrap > 0
        or spec.assemble is not None
        or spec.batch is not None
        or spec.rework is not None
        or spec.maintenance is not None
    )


class LeanStation(Station):
    """A :class:`Station` without optional features (a deferred choice is carried out by
    :meth:`Station.assign`, as at any station)."""

    def __init__(
        self,
        env: Environment,
        log: Recorder,
        plant: Plantlike,
        index: int,
        name: str,
        buffer: int | None,
        dispatcher: Dispatcher,
        first_machine_id: int,
        machines: int,
        failures: Callable[[int], FailureModel] | None = None,
        busy_failures: bool = False,
    ) -> None:
        machine_type = Machine if busy_failures else LeanMachine
        super().__init__(
            env,
            log,
            plant,
            index,
            name,
            buffer,
            dispatcher,
            first_machine_id,
            machines,
            failures,
            None,
            None,
            None,
            machine_type,
        )
        self.fifo = dispatcher is fifo
        """Whether the next job is always the first: a deque then serves the buffer."""
        if self.fifo:
            self.queue = deque()

    def has_room(self) -> bool:
        """Whether one more job may enter (no kits, operators or transport to count)."""
        return len(self.queue) < self.capacity + len(self.free)

    def offer(self, job: Job, holder: Machine | None) -> bool:
        """Let ``job`` in if there is room, else queue it in ``waiting``; True if it moved in."""
        queue = self.queue
        if len(queue) < self.capacity + len(self.free):
            now = self.env.now
            job.entered = now
            self.log.on_enter(now, job.id, self.index)
            queue.append(job)
            if self.free:
                self.dispatch()
            return True
        self.waiting.append((job, holder))
        return False

    def accept(self, job: Job) -> None:
        """Put ``job`` into the buffer (room was checked) and start work if a machine is free."""
        now = self.env.now
        job.entered = now
        self.log.on_enter(now, job.id, self.index)
        self.queue.append(job)
        if self.free:
            self.dispatch()

    def dispatch(self) -> None:
        """Give waiting jobs to free machines, then let held jobs upstream move in."""
        queue, free = self.queue, self.free
        if self.fifo:
            while queue and free:
                free.popleft().start(queue.popleft())  # type: ignore[attr-defined]
        else:
            dispatcher = self.dispatcher
            while queue and free and not self.awaiting_decision:
                index = dispatcher(queue, self.env.now) if len(queue) > 1 else 0
                if index is None:  # an outside controller decides: see Station.dispatch
                    self.awaiting_decision = True
                    self.plant.decision_needed(self)
                    return
                job = queue[index]
                del queue[index]
                free.popleft().start(job)
            if self.awaiting_decision:
                return
        waiting = self.waiting
        while waiting and len(queue) < self.capacity + len(free):
            job, holder = waiting.popleft()
            self.accept(job)
            if holder is not None:
                holder.release()


class LeanMachine(Machine):
    """A :class:`Machine` at a lean station: it never sets up or is maintained, and fails, if
    at all, on a calendar-time basis. Its operation waits on an :class:`~twin.sim.alarm.Alarm`
    (one per machine, set again for each operation) instead of a new timeout; a failure stops
    the operation through the general ``halt``, which silences the alarm, and the repaired
    machine resumes it on a fresh alarm, so the rest of it ends here too."""

    __slots__ = ("alarm", "tallied")

    def __init__(self, station: Station, index: int, gid: int, failure: FailureModel | None) -> None:
        super().__init__(station, index, gid, failure)
        self.tallied = isinstance(self.log, KpiTally)
        """Whether the run keeps KPI sums, not the log: then a machine that frees with jobs
        waiting (it takes one at once) records no idle state of zero length, which adds
        nothing to the sums (the log keeps every record)."""
        self.alarm = Alarm(self.env, self._done)
        """Rings when the operation in hand ends."""

    def start(self, job: Job) -> None:
        """Take ``job`` and process it."""
        now = self.env.now
        self.job = job
        log = self.log
        log.on_start(now, job.id, self.station.index, self.index)
        self.phase = PROCESSING
        if self.state != _BUSY:
            self.state = _BUSY
            log.state(now, self.gid, _BUSY)
        duration = job.times[job.step]
        self.phase_start = now
        self.left = duration
        self.alarm.set(duration)

    def _done(self, event: Event) -> None:
        """The operation ended: the job moves on, leaves the plant, or blocks the machine."""
        now = self.env.now
        job = self.job
        assert job is not None
        station = self.station
        log = self.log
        log.on_finish(now, job.id, station.index, self.index)
        job.step += 1
        plan = job.plan
        if job.step == len(plan):
            log.on_exit(now, job.id)
            station.plant.job_left(job)
        elif not plan[job.step].station.offer(job, self):
            self.phase = HOLDING
            if self.state != _BLOCKED:
                self.state = _BLOCKED
                log.state(now, self.gid, _BLOCKED)
            return
        # The job left: free the machine (release(), inlined) and take the next job.
        self.job = None
        self.phase = NONE
        if self.state != _IDLE and not (self.tallied and station.queue):
            self.state = _IDLE
            log.state(now, self.gid, _IDLE)
        station.free.append(self)
        station.dispatch()

    def release(self) -> None:
        """The job has left this machine: become free (unless it is down) and take the next job."""
        self.job = None
        self.phase = NONE
        if self.down:
            return
        station = self.station
        if self.state != _IDLE and not (self.tallied and station.queue):
            self.state = _IDLE
            self.log.state(self.env.now, self.gid, _IDLE)
        station.free.append(self)
        station.dispatch()

    def halt(self) -> None:
        """Stop what the machine is doing (:meth:`Machine.halt`); an operation's alarm is
        silenced and replaced, as the general machine cancels its timer."""
        if self.alarm.pending:
            self.alarm.cancel()
            self.alarm = Alarm(self.env, self._done)
        super().halt()

    def _resume(self) -> None:
        """Back in service: an interrupted operation runs what it had left, on the alarm (the
        general machine's ``_run``, without its busy-time clocks, which a lean machine has none of)."""
        if self.phase != PROCESSING:
            super()._resume()
            return
        self.set_state(_BUSY)
        self.phase_start = self.env.now
        self.alarm.set(self.left)
