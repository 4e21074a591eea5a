"""The twin's semantics hand-written as callbacks: the reference the twin's hot path is held to.

A serial line of single-machine stations, each a buffer of ``buffer`` places in front of its
machine, exactly as the twin models it:

* room at a station: ``len(queue) < buffer + (1 if the machine is free)``; an arrival that
  finds no room at the first station waits at the plant entrance;
* blocking after service: a finished job moves on only when the next station has room; its
  machine is blocked until then and the job waits, first come first served, in that
  station's ``waiting`` line; when room frees, held jobs move in and their machines free;
* calendar-time breakdowns: time to failure counted from the end of the last repair; a
  failure interrupts the operation in hand, which resumes with the time it had left when
  the machine is repaired; a failed free machine takes no job until repaired; a failed
  blocked machine frees only after its repair;
* process times drawn per job on arrival, one per station.

It logs nothing but a count of completed jobs and their total lead time (what the twin's
KPIs-only path has to beat). The same model runs on two calendars: SimPy's
(``Timeout(...).callbacks.append``, the technique the twin uses) and a hand-written ``heapq``
loop (the floor of what Python can do), so the gap between them is SimPy's own cost.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable
from typing import Any

from plain_line import LineSpec, StationSpec
from simpy import Environment, Timeout

__all__ = ["CallbackLine", "CbJob", "CbStation", "HeapCalendar", "SimpyCalendar", "run_callback"]

Callback = Callable[[Any], None]


class SimpyCalendar:
    """SimPy's event calendar, driven by callbacks on timeouts (no processes)."""

    def __init__(self) -> None:
        self.env = Environment()

    @property
    def now(self) -> float:
        """The simulated time."""
        return float(self.env.now)

    def after(self, delay: float, callback: Callback) -> None:
        """Call ``callback`` (with the fired event) ``delay`` from now."""
        Timeout(self.env, delay).callbacks.append(callback)

    def run(self, until: float) -> None:
        """Run up to ``until``."""
        self.env.run(until=until)


class HeapCalendar:
    """A hand-written event calendar: a ``heapq`` of (time, sequence, callback)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.heap: list[tuple[float, int, Callback]] = []
        self.count = 0

    def after(self, delay: float, callback: Callback) -> None:
        """Call ``callback`` (with None) ``delay`` from now; ties fire in scheduling order."""
        self.count += 1
        heapq.heappush(self.heap, (self.now + delay, self.count, callback))

    def run(self, until: float) -> None:
        """Run the events before ``until``, then stop the clock there."""
        heap, pop = self.heap, heapq.heappop
        while heap and heap[0][0] < until:
            self.now, _, callback = pop(heap)
            callback(None)
        self.now = until


class CbJob:
    """A job: its process times, where it is on its route, when it arrived."""

    __slots__ = ("arrived", "step", "times")

    def __init__(self, times: list[float], arrived: float) -> None:
        self.times = times
        self.step = 0
        self.arrived = arrived


class CbStation:
    """A buffer and one machine with the twin's blocking and breakdown semantics."""

    def __init__(self, line: CallbackLine, index: int, spec: StationSpec, rng: random.Random) -> None:
        self.line = line
        self.cal = line.cal
        self.index = index
        self.capacity = float("inf") if spec.buffer is None else spec.buffer
        self.queue: deque[CbJob] = deque()
        self.waiting: deque[tuple[CbJob, CbStation | None]] = deque()
        self.free = True
        self.job: CbJob | None = None
        self.down = False
        self.running = False
        self.resume_left = False
        """Whether a failure interrupted an operation (which resumes on repair)."""
        self.ends = 0.0
        self.left = 0.0
        self.token = 0
        self.rng = rng
        self.fail_rate = 1.0 / spec.ttf if spec.ttf is not None else 0.0
        self.repair_rate = 1.0 / spec.ttr if spec.ttr else 0.0
        if spec.ttf is not None:
            self.cal.after(rng.expovariate(self.fail_rate), self.failure)

    def offer(self, job: CbJob, holder: CbStation | None) -> bool:
        """Take ``job`` if there is room, else hold it in ``waiting``; True if it moved in."""
        if len(self.queue) < self.capacity + self.free:
            self.queue.append(job)
            if self.free:
                self.take()
            return True
        self.waiting.append((job, holder))
        return False

    def take(self) -> None:
        """The free machine takes the first job; then held jobs upstream move in."""
        job = self.queue.popleft()
        self.free = False
        self.job = job
        self.run(job.times[job.step])
        waiting = self.waiting
        while waiting and len(self.queue) < self.capacity + self.free:
            held, holder = waiting.popleft()
            self.queue.append(held)
            if holder is not None:
                holder.release()

    def run(self, duration: float) -> None:
        """Process for ``duration`` more."""
        self.running = True
        self.left = duration
        self.ends = self.cal.now + duration
        self.token += 1
        token = self.token
        self.cal.after(duration, lambda _: self.finish() if token == self.token else None)

    def finish(self) -> None:
        """The operation ended: move the job on, or block."""
        self.running = False
        job = self.job
        assert job is not None
        job.step += 1
        line = self.line
        if job.step == line.length:
            line.completed += 1
            line.lead_time += self.cal.now - job.arrived
            self.release()
        elif line.stations[job.step].offer(job, self):
            self.release()

    def release(self) -> None:
        """The job left: free the machine (unless it is down) and take the next one."""
        self.job = None
        if self.down:
            return
        self.free = True
        if self.queue:
            self.take()
        else:
            waiting = self.waiting
            while waiting and len(self.queue) < self.capacity + self.free:
                held, holder = waiting.popleft()
                self.offer(held, None)
                if holder is not None:
                    holder.release()

    def failure(self, _: object) -> None:
        """A calendar failure: interrupt the operation, or take the free machine away."""
        self.down = True
        if self.running:
            self.left = self.ends - self.cal.now
            self.token += 1
            self.running = False
            self.resume_left = True
        else:
            self.resume_left = False
            self.free = False
        self.cal.after(self.rng.expovariate(self.repair_rate), self.repaired)

    def repaired(self, _: object) -> None:
        """Back in service: resume the operation, stay blocked, or become free."""
        self.down = False
        self.cal.after(self.rng.expovariate(self.fail_rate), self.failure)
        if self.resume_left:
            self.run(self.left)
        elif self.job is None:
            self.release()


class CallbackLine:
    """A serial line of :class:`CbStation` fed by Poisson arrivals on calendar ``cal``."""

    def __init__(self, cal: SimpyCalendar | HeapCalendar, line: LineSpec, seed: int) -> None:
        specs = line.stations
        arrival_mean = line.arrival_mean
        self.cal = cal
        rng = random.Random(seed)
        self.rng = rng
        self.stations = [CbStation(self, i, spec, random.Random(seed * 1000 + i + 1)) for i, spec in enumerate(specs)]
        self.length = len(specs)
        self.rates = [1.0 / spec.mean for spec in specs]
        self.arrival_rate = 1.0 / arrival_mean
        self.completed = 0
        self.lead_time = 0.0
        cal.after(rng.expovariate(self.arrival_rate), self.arrive)

    def arrive(self, _: object) -> None:
        """A job arrives, draws its process times and heads for the first station."""
        rng = self.rng
        job = CbJob([rng.expovariate(rate) for rate in self.rates], self.cal.now)
        self.stations[0].offer(job, None)
        self.cal.after(rng.expovariate(self.arrival_rate), self.arrive)


def run_callback(calendar: str, line: LineSpec, horizon: float, seed: int) -> tuple[int, float]:
    """Run the callback line on ``calendar`` (``simpy`` or ``heapq``) to ``horizon``:
    completed jobs and their total lead time."""
    cal: SimpyCalendar | HeapCalendar = SimpyCalendar() if calendar == "simpy" else HeapCalendar()
    model = CallbackLine(cal, line, seed)
    cal.run(horizon)
    return model.completed, model.lead_time
