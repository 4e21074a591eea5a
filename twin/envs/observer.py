"""The observation of ``twin/Dispatch-v0``, kept up to date from one decision to the next.

Rebuilt from the whole plant at every decision, the observation cost more than the
simulation between two decisions. :class:`Observer` keeps it in one array and, at each
decision, recomputes only the stations whose event-log records since the previous decision
show a change: a job record at the station (a job entered its buffer, started, finished,
...) or a state record of one of its machines. The model logs every job movement and every
machine state change, so those are all the changes its queues and machine states can have.
What moves with the clock alone is computed at every decision: the time left of the
operations in progress, the work in the plant (a held job leaves a machine that is down
without a record there), the candidates' waits and slacks.

:meth:`Observer.start` is the slow path, every station computed from the plant, run at the
start of an episode; a test checks that the two paths agree at every decision of whole
episodes. The features and their scales are the env's docstring's (:mod:`twin.envs.dispatch`),
their places :class:`~twin.envs.observation.Layout`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin.envs.observation import (
    GLOBAL_PENDING,
    GLOBAL_PROGRESS,
    GLOBAL_WIP,
    JOB_FEATURES,
    JOB_NEXT_QUEUE,
    JOB_PRESENT,
    JOB_PROCESS_TIME,
    JOB_REMAINING_OPS,
    JOB_REMAINING_WORK,
    JOB_SLACK,
    JOB_WAITED,
    STATION_BUSY,
    STATION_IN_PROGRESS,
    STATION_QUEUE,
    STATION_UNAVAILABLE,
    STATION_WORK,
    Layout,
)
from twin.sim.log import MachineState

if TYPE_CHECKING:
    from twin.sim.plant import Plant
    from twin.sim.station import Machine, Station

__all__ = ["Observer", "Scales"]

_BUSY, _SETUP, _IDLE = int(MachineState.BUSY), int(MachineState.SETUP), int(MachineState.IDLE)


@dataclass(frozen=True)
class Scales:
    """What the features are divided by (mean times of the scenario, see the env's docstring)."""

    op_max: float
    work_max: float
    work_mean: float
    route_max: int
    total_work: float
    """Mean work content of a closed scenario (for the progress feature)."""
    horizon: float | None
    """The episode's length of an open plant (None: closed, progress by work done)."""


class Observer:
    """The observation of one plant at its decisions, updated from what changed (see module doc).

    Call :meth:`start` when the plant reaches its first decision, then :meth:`observe` at
    each decision. The array :meth:`observe` returns is the caller's to keep: the observer
    writes its own copy.
    """

    def __init__(self, layout: Layout, scales: Scales) -> None:
        self.layout = layout
        self.scales = scales
        self._obs = np.zeros(layout.size, dtype=np.float32)
        self._low = np.full(layout.size, -1.0, dtype=np.float32)
        self._high = np.full(layout.size, 1.0, dtype=np.float32)
        """The bounds every feature is clipped to, as arrays (cheaper to apply than scalars)."""
        self._plant: Plant | None = None
        self._stations: list[Station] = []
        self._bases = [layout.station(s) for s in range(layout.stations)]
        self._owner: list[int] = []
        self._op_capacity: list[float] = []
        """Machines times ``op_max``, per station (the scale of the time left in progress)."""
        """Station index of each plant-wide machine number."""
        self._running: dict[int, list[Machine]] = {}
        """Machines busy or in setup, in machine order, of each station that has any."""
        self._waiting: list[float] = []
        """Mean work left of the jobs in each station's buffer, summed in queue order."""
        self._jobs_seen = 0
        self._states_seen = 0
        self._deciding = -1
        self._candidates_end = 0

    def start(self, plant: Plant) -> None:
        """Compute every station from the plant (the slow path, at the first decision)."""
        self._plant = plant
        self._stations = list(plant.stations.values())
        self._owner = [s for s, station in enumerate(self._stations) for _ in station.machines]
        self._op_capacity = [len(station.machines) * self.scales.op_max for station in self._stations]
        self._running = {}
        self._waiting = [0.0] * len(self._stations)
        self._obs.fill(0.0)
        self._deciding = -1
        self._candidates_end = 0
        log = plant.log
        self._jobs_seen, self._states_seen = len(log.job_station), len(log.state_machine)
        for s in range(len(self._stations)):
            self._refresh(s)

    def observe(self, station: Station, pending: int) -> np.ndarray:
        """The observation at the decision of ``station``, with ``pending`` other decisions
        due at this instant."""
        plant = self._plant
        assert plant is not None, "call start() first"
        self._catch_up(plant)
        obs, scales, layout = self._obs, self.scales, self.layout
        now = plant.env.now
        q = layout.max_queue
        n = layout.stations
        for s, running in self._running.items():
            remaining = 0.0
            for machine in running:  # busy or in setup (Machine.time_left, inlined)
                remaining += max(0.0, machine.left - (now - machine.phase_start))
            obs[self._bases[s] + STATION_IN_PROGRESS] = remaining / self._op_capacity[s]
        if scales.horizon is None:
            in_process = 0.0
            for s, other in enumerate(self._stations):
                for machine in other.machines:
                    held = machine.job
                    if held is not None:
                        in_process += held.plan[held.step].remaining_work
                in_process += self._waiting[s]
            unreleased = plant.to_release * scales.work_mean
            obs[GLOBAL_PROGRESS] = 1.0 - (in_process + unreleased) / max(scales.total_work, 1e-9)
        else:
            obs[GLOBAL_PROGRESS] = (now - plant.start) / scales.horizon
        obs[GLOBAL_WIP] = plant.in_system / (n * q)
        obs[GLOBAL_PENDING] = pending / n
        deciding = station.index
        if deciding != self._deciding:
            if self._deciding >= 0:
                obs[layout.deciding + self._deciding] = 0.0
            obs[layout.deciding + deciding] = 1.0
            self._deciding = deciding
        self._write_candidates(station, now)
        out = np.maximum(obs, self._low)
        np.minimum(out, self._high, out=out)
        return out

    def _catch_up(self, plant: Plant) -> None:
        """Recompute the stations that the log's new records touch."""
        log = plant.log
        jobs, states = log.job_station, log.state_machine
        touched = set(jobs[self._jobs_seen :])
        if len(states) > self._states_seen:
            touched.update(map(self._owner.__getitem__, states[self._states_seen :]))
        touched.discard(-1)
        self._jobs_seen, self._states_seen = len(jobs), len(states)
        for s in touched:
            self._refresh(s)

    def _refresh(self, s: int) -> None:
        """Station ``s``'s features that change only with its records."""
        station = self._stations[s]
        scales, q = self.scales, self.layout.max_queue
        queue = station.queue
        # The same sums, in the same order, as job.remaining_work / job.process_time would give.
        waiting = 0.0
        work = 0.0
        for job in queue:
            step = job.plan[job.step]
            waiting += step.remaining_work
            work += step.mean
        running: list[Machine] = []
        unavailable = 0
        machines = station.machines
        for machine in machines:
            state = machine.state
            if state in (_BUSY, _SETUP):
                running.append(machine)
            elif state != _IDLE:
                unavailable += 1
        count = len(machines)
        base = self._bases[s]
        obs = self._obs
        obs[base + STATION_QUEUE] = len(queue) / q
        obs[base + STATION_BUSY] = len(running) / count
        obs[base + STATION_UNAVAILABLE] = unavailable / count
        obs[base + STATION_WORK] = work / (scales.op_max * count * q)
        if running:
            self._running[s] = running
        else:
            obs[base + STATION_IN_PROGRESS] = 0.0
            self._running.pop(s, None)
        self._waiting[s] = waiting

    def _write_candidates(self, station: Station, now: float) -> None:
        """The deciding station's first ``max_queue`` jobs, zeros in the slots after them."""
        scales, layout, obs = self.scales, self.layout, self._obs
        q = layout.max_queue
        op_max, work_max, work_mean, route_max = scales.op_max, scales.work_max, scales.work_mean, scales.route_max
        base = layout.candidate(0)
        for job in station.queue[:q]:
            plan, step = job.plan, job.step
            current = plan[step]
            remaining = current.remaining_work
            following = plan[step + 1].station if step + 1 < len(plan) else None
            obs[base + JOB_PRESENT] = 1.0
            obs[base + JOB_PROCESS_TIME] = current.mean / op_max
            obs[base + JOB_REMAINING_WORK] = remaining / work_max
            obs[base + JOB_REMAINING_OPS] = (len(plan) - step) / route_max
            obs[base + JOB_WAITED] = (now - job.entered) / work_mean
            obs[base + JOB_SLACK] = 1.0 if math.isinf(job.due) else (job.due - now - remaining) / work_mean
            obs[base + JOB_NEXT_QUEUE] = 0.0 if following is None else len(following.queue) / q
            base += JOB_FEATURES
        if base < self._candidates_end:
            obs[base : self._candidates_end] = 0.0
        self._candidates_end = base
