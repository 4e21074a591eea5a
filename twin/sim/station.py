"""Stations (a buffer in front of identical parallel machines) and their machines.

The hot path (a job arrives, a machine takes it, the operation ends, the job moves on) runs
as plain callbacks on SimPy timeouts rather than one generator process per job: it is the
same event calendar, without the cost of creating and resuming a process per operation.

Blocking after service: a finished job moves to the next station only when that station has
room (``len(queue) + incoming < buffer + free machines able to start``); until then its machine is ``BLOCKED`` and the
pair waits, first come first served, in the next station's ``waiting`` line.

Optional features hook in at a few named points, each a ``None`` check on the plain path:
``Station.kits`` (assembly), ``Station.batching``, ``Station.rework``, ``Station.legs``
(transport into the station, with ``incoming`` the room reserved for jobs on their way) and
``Machine.upkeep`` (preventive maintenance); their state lives in their own modules.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, MutableSequence, Sequence
from typing import TYPE_CHECKING, Protocol

from simpy import Environment, Timeout

from twin.scenario.distributions import Sampler
from twin.sim.job import Job
from twin.sim.log import JobEvent, MachineState, Recorder

if TYPE_CHECKING:
    from twin.sim.assembly import AssemblyKits
    from twin.sim.batching import Batching
    from twin.sim.maintenance import Upkeep
    from twin.sim.operators import OperatorPool
    from twin.sim.rework import Rework
    from twin.sim.transport import Leg

__all__ = ["HOLDING", "IN_SETUP", "NONE", "PROCESSING", "Dispatcher", "Machine", "Plantlike", "Station"]

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
_IDLE, _BUSY, _SETUP, _BLOCKED, _DOWN, _OFF, _MAINTENANCE = (int(s) for s in MachineState)

_SAME_INSTANT = 1e-12
"""Relative time difference below which two events count as simultaneous (float rounding)."""

# What a machine is doing with its job (``Machine.phase``).
NONE, IN_SETUP, PROCESSING, HOLDING = range(4)

# Why the pending timer of a phase fires: the phase ran out, or a busy-time clock did.
_RUN_OUT, _FAIL, _MAINTAIN = range(3)


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
        log: Recorder,
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
        machine_type: type[Machine] | None = None,
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
        self.queue: MutableSequence[Job] = []
        self.waiting: deque[tuple[Job, Machine | None]] = deque()
        """Jobs held upstream (on a blocked machine, or at the plant entrance) for room here."""
        self.awaiting_decision = False
        self.incoming = 0
        """Jobs on their way here by transport, for which room is reserved."""
        self.kits: AssemblyKits | None = None
        self.batching: Batching | None = None
        self.rework: Rework | None = None
        self.legs: dict[int, Leg] | None = None
        """Transport legs into this station, by the index of the station they come from."""
        self.gated = pool is not None
        """Whether free machines need a check before they count as room (see :meth:`has_room`)."""
        make = machine_type or Machine
        self.machines = [
            make(self, i, first_machine_id + i, failures(i) if failures else None) for i in range(machines)
        ]
        self.free: deque[Machine] = deque(self.machines)
        """Machines ready for a job, longest idle first."""

    def equip(
        self,
        kits: AssemblyKits | None = None,
        batching: Batching | None = None,
        rework: Rework | None = None,
        legs: dict[int, Leg] | None = None,
    ) -> None:
        """Attach the optional features the scenario declares for this station."""
        self.kits, self.batching, self.rework = kits, batching, rework
        self.legs = legs or None
        self.gated = self.pool is not None or kits is not None or batching is not None

    def has_room(self) -> bool:
        """Whether one more job may enter: the buffer counts only jobs not on a machine (and
        those on their way here), and a free machine makes room only if it can start at once
        (an operator is free for it, a kit of components is complete); a free batch machine
        makes room for a whole batch."""
        startable = len(self.free)
        if self.gated:
            startable = self._startable(startable)
        return len(self.queue) + self.incoming < self.capacity + startable

    def _startable(self, free: int) -> int:
        if self.pool is not None:
            free = min(free, max(self.pool.available, 0))
        if self.kits is not None:
            free = min(free, self.kits.complete())
        return free * self.batching.size if self.batching is not None else free

    def needs_room(self, job: Job) -> bool:
        """Whether ``job`` takes a place in the buffer (a component waits in the kit store)."""
        return self.kits is None or not self.kits.takes(job)

    def idle_state(self) -> int:
        """State of a machine with nothing to do: off shift when its operators are."""
        return _OFF if self.pool is not None and self.pool.capacity == 0 else _IDLE

    def offer(self, job: Job, holder: Machine | None) -> bool:
        """Let ``job`` in if there is room, else queue it in ``waiting``; True if it left its
        holder (False also while it waits on the holder for a vehicle)."""
        if self.has_room() or not self.needs_room(job):
            if self.legs is None or holder is None:
                self.accept(job)
                return True
            return self._admit(job, holder)
        self.waiting.append((job, holder))
        if self.free and self.pool is not None:
            self.pool.has_free(self)  # refused for want of an operator: be called back when one is free
        return False

    def _admit(self, job: Job, holder: Machine | None) -> bool:
        """Let ``job`` in (room was checked): by transport when a leg leads here from its
        holder's station, else straight into the buffer; True if it left its holder."""
        if self.legs is not None and holder is not None:
            leg = self.legs.get(holder.station.index)
            if leg is not None:
                return leg.carry(job, holder)
        self.accept(job)
        return True

    def reserve(self, job: Job) -> None:
        """Hold room for ``job``, now on its way here."""
        if self.needs_room(job):
            self.incoming += 1

    def deliver(self, job: Job) -> None:
        """``job`` has arrived by transport into its reserved room."""
        if self.needs_room(job):
            self.incoming -= 1
        self.accept(job)

    def accept(self, job: Job) -> None:
        """Put ``job`` into the buffer (room was checked) and start work if a machine is free."""
        now = self.env.now
        job.entered = now
        self.log.job(now, job.id, self.index, -1, _ENTER)
        if self.kits is not None and self.kits.takes(job):
            self.kits.store(job)
            return
        self.queue.append(job)
        if self.free:
            self.dispatch()

    def dispatch(self) -> None:
        """Give waiting jobs to free machines, then let held jobs upstream move in."""
        if self.batching is not None:
            self.batching.dispatch()
            return
        queue, free, pool, kits = self.queue, self.free, self.pool, self.kits
        while queue and free and not self.awaiting_decision:
            if pool is not None and not pool.has_free(self):
                break
            if kits is not None and not kits.complete():
                exempt = kits.exempt(queue)  # a reworked job already holds its components
                if exempt is None:
                    break
                self._start(exempt)
                continue
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
        machine = self.free.popleft()
        if self.kits is not None:
            self.kits.consume(job, machine.index)
        machine.start(job)

    def pull(self) -> None:
        """Move held jobs from upstream into this station while there is room."""
        waiting = self.waiting
        while waiting and self.has_room():
            job, holder = waiting.popleft()
            if self._admit(job, holder) and holder is not None:
                holder.release()
        if waiting and self.free and self.pool is not None:
            self.pool.has_free(self)  # no operator to start a job: be called back when one is free

    def refresh_idle_states(self) -> None:
        """Relabel free machines after a shift change (idle <-> off shift)."""
        state = self.idle_state()
        for machine in self.free:
            machine.set_state(state)


class Machine:
    """One machine: takes a job, sets up, processes, fails and recovers, is maintained, blocks,
    releases."""

    __slots__ = (
        "down",
        "env",
        "fail_epoch",
        "failure",
        "gid",
        "index",
        "job",
        "last_family",
        "left",
        "log",
        "phase",
        "phase_start",
        "pm_left",
        "state",
        "station",
        "stop",
        "token",
        "ttf_left",
        "upkeep",
    )

    def __init__(self, station: Station, index: int, gid: int, failure: FailureModel | None) -> None:
        self.station = station
        self.env = station.env
        self.log = station.log
        self.index = index
        self.gid = gid
        self.job: Job | None = None
        self.phase = NONE
        self.phase_start = 0.0
        self.left = 0.0
        """Time still needed by the current phase when it (re)started."""
        self.token = 0
        """Identifies the pending timer; a calendar failure bumps it to cancel that timer."""
        self.stop = _RUN_OUT
        """Why the pending timer fires: the phase ran out, or a busy-time clock did."""
        self.down = False
        """Out of service: down for repair, or in maintenance."""
        self.last_family: str | None = None
        self.failure = failure
        self.ttf_left: float | None = None
        """Processing time left until a busy-basis failure (None: no such clock)."""
        self.pm_left: float | None = None
        """Processing time left until busy-basis maintenance is due (None: no such clock)."""
        self.upkeep: Upkeep | None = None
        self.fail_epoch = 0
        """Identifies the pending calendar failure; maintenance bumps it to cancel that one."""
        self.state = station.idle_state()
        self.log.state(self.env.now, gid, self.state)
        if failure is not None:
            self._renew()

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
                self.phase = IN_SETUP
                self.set_state(_SETUP)
                self._run(duration)
                return
        self._process()

    def resume_from_state(self, job: Job, left: float, setup_left: float | None = None) -> None:
        """Warm start (:mod:`twin.sim.warmstart`): take ``job`` in the middle of its setup
        (``setup_left`` to go, then its whole operation) or of its operation (``left`` to go);
        the machine is no longer free. The warm start logs the job's records."""
        self.job = job
        self.last_family = job.family
        if setup_left is not None:
            self.phase = IN_SETUP
            self.set_state(_SETUP)
            self._run(setup_left)
            return
        self.phase = PROCESSING
        self.set_state(_BUSY)
        self._run(left)

    def warm_failure_clock(self, left: float) -> None:
        """Warm start: the next failure comes after ``left`` (drawn given the machine's age)
        instead of the fresh time to failure drawn when the machine was built."""
        assert self.failure is not None
        if self.failure.busy:
            self.ttf_left = left
            return
        self.fail_epoch += 1  # cancel the calendar failure drawn at build time
        Timeout(self.env, left, self.fail_epoch).callbacks.append(self._calendar_failure)

    def warm_down(self, repair_left: float) -> None:
        """Warm start: the machine is down now, with ``repair_left`` of its repair to go; what
        it holds resumes after the repair."""
        self.fail_epoch += 1  # no calendar failure while down; a fresh one after the repair
        self.ttf_left = None
        self.halt()
        self._out_of_service(_DOWN, repair_left, self._repaired)

    def _process(self) -> None:
        job = self.job
        assert job is not None
        self.log.job(self.env.now, job.id, self.station.index, self.index, _START)
        self.phase = PROCESSING
        self.set_state(_BUSY)
        self._run(job.times[job.step])

    def _run(self, duration: float) -> None:
        """Run the current phase for ``duration`` more, or until a busy-time clock runs out."""
        self.phase_start = self.env.now
        self.left = duration
        self.token += 1
        delay = duration
        self.stop = _RUN_OUT
        if self.phase == PROCESSING:
            ttf = self.ttf_left
            if ttf is not None and ttf < delay:
                self.stop = _FAIL
                delay = ttf
            due = self.pm_left
            if due is not None and due < delay and self.upkeep is not None and self.upkeep.interrupt:
                self.stop = _MAINTAIN
                delay = due
        Timeout(self.env, delay, self.token).callbacks.append(self._timer)

    def _timer(self, event: Timeout) -> None:
        if event._value != self.token:
            return  # this timer was cancelled by a calendar failure or maintenance
        stop = self.stop
        if stop == _RUN_OUT:
            if self.phase == PROCESSING and (self.ttf_left is not None or self.pm_left is not None):
                self._wear(self.left)
            if self.phase == IN_SETUP:
                self._process()
            else:
                self._finish()
            return
        spent = self.ttf_left if stop == _FAIL else self.pm_left
        assert spent is not None
        self.left -= spent
        self._wear(spent)
        if stop == _FAIL:
            self.ttf_left = None
            self._fail()
        else:
            self.maintain()

    def _wear(self, spent: float) -> None:
        """``spent`` processing time runs down the busy-time clocks."""
        if self.ttf_left is not None:
            self.ttf_left -= spent
        if self.pm_left is not None:
            self.pm_left -= spent
            assert self.upkeep is not None
            self.upkeep.wore()

    def _finish(self) -> None:
        job = self.job
        assert job is not None
        station = self.station
        self.log.job(self.env.now, job.id, station.index, self.index, _FINISH)
        self.phase = NONE
        if station.pool is not None:
            station.pool.release()
        if self.move_on(job):
            self.release()
        else:
            self.hold()

    def move_on(self, job: Job) -> bool:
        """Send ``job``, just finished here, on its way: scrapped, back for rework, out of the
        plant or to its next station. True if it left this machine."""
        station = self.station
        if station.scrap is not None and station.scrap[1]() < station.scrap[0]:
            self.log.job(self.env.now, job.id, station.index, self.index, _SCRAP)
            station.plant.job_left(job)
            return True
        if station.rework is not None and station.rework.sends_back(job, self.index, self.env.now):
            return job.plan[job.step].station.offer(job, self)
        job.step += 1
        if job.step == len(job.plan):
            self.log.job(self.env.now, job.id, -1, -1, _EXIT)
            station.plant.job_left(job)
            return True
        return job.plan[job.step].station.offer(job, self)

    def hold(self) -> None:
        """Keep the finished job (or jobs) that could not leave: blocked, unless maintenance
        is due, which it can do meanwhile."""
        self.phase = HOLDING
        self.set_state(_BLOCKED)
        if self.upkeep is not None and self.upkeep.due:
            self.maintain()

    def release(self) -> None:
        """The job has left this machine: become free (unless out of service or due for
        maintenance) and take the next job."""
        self.job = None
        self.phase = NONE
        if self.down:
            return
        if self.upkeep is not None and self.upkeep.due:
            self.maintain()
            return
        station = self.station
        self.set_state(station.idle_state())
        station.free.append(self)
        station.dispatch()

    def in_operation(self) -> bool:
        """Whether a setup or an operation is in progress (or interrupted, while down)."""
        return self.phase in (IN_SETUP, PROCESSING)

    def ends_now(self) -> bool:
        """Whether the setup or operation in hand ends at this very instant (float rounding
        included), so that it should end before anything interrupts it."""
        now = self.env.now
        return self.phase_start + self.left - now <= _SAME_INSTANT * max(1.0, now)

    def halt(self) -> None:
        """Stop what the machine is doing now, to take it out of service: a running phase is
        cancelled and keeps the time it has left; a free machine stops being free."""
        if self.phase in (IN_SETUP, PROCESSING):
            left = self.phase_start + self.left - self.env.now
            self.token += 1  # cancel the running phase; it resumes with what is left
            if self.phase == PROCESSING and (self.ttf_left is not None or self.pm_left is not None):
                self._wear(self.left - left)
            self.left = left
        elif self.phase == NONE:
            self.station.free.remove(self)

    def _out_of_service(self, state: int, duration: float, back: Callable[[Timeout], None]) -> None:
        self.down = True
        self.set_state(state)
        Timeout(self.env, duration).callbacks.append(back)

    def _resume(self) -> None:
        """Back in service: carry on with what the machine was doing when it stopped."""
        if self.phase in (IN_SETUP, PROCESSING):
            self.set_state(_SETUP if self.phase == IN_SETUP else _BUSY)
            self._run(self.left)
        elif self.phase == HOLDING:
            self.set_state(_BLOCKED)
        else:
            self.release()

    def _renew(self) -> None:
        """Start a fresh time to failure (after a repair or a maintenance, and at time 0)."""
        failure = self.failure
        if failure is None:
            return
        if failure.busy:
            self.ttf_left = failure.ttf()
        else:
            Timeout(self.env, failure.ttf(), self.fail_epoch).callbacks.append(self._calendar_failure)

    def _fail(self) -> None:
        assert self.failure is not None
        if self.upkeep is not None:
            self.upkeep.failed()
        self._out_of_service(_DOWN, self.failure.ttr(), self._repaired)

    def _repaired(self, event: Timeout) -> None:
        self.down = False
        self._renew()
        if self.upkeep is not None and self.upkeep.repaired():
            return
        self._resume()

    def _calendar_failure(self, event: Timeout) -> None:
        if event._value != self.fail_epoch:
            return  # cancelled: a maintenance renewed the machine meanwhile
        if self.phase in (IN_SETUP, PROCESSING) and self.ends_now():
            # The phase ends at this very instant: let it end first (its timer is already
            # due), then fail, after the events of this instant.
            Timeout(self.env, 0, self.fail_epoch).callbacks.append(self._calendar_failure)
            return
        self.halt()
        self._fail()

    def maintain(self) -> None:
        """Go into maintenance now (what the machine was doing is already stopped); it comes
        back as good as new, with a fresh time to failure."""
        upkeep = self.upkeep
        assert upkeep is not None
        self.fail_epoch += 1  # no calendar failure during maintenance; a fresh one after it
        self._out_of_service(_MAINTENANCE, upkeep.begin(), self._maintained)

    def _maintained(self, event: Timeout) -> None:
        self.down = False
        assert self.upkeep is not None
        self.upkeep.restart()
        self._renew()
        self._resume()
