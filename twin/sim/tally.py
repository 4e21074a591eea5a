"""KPI statistics accumulated as the model runs, for runs that do not need the event log.

:class:`KpiTally` takes the same calls as :class:`~twin.sim.log.EventLog` (``job``, ``state``,
``vehicle``, ``new_job``) but keeps only the sums the KPIs of ``twin run`` need over the window
``[start, end]``: counts and lead times of the jobs that leave, the time-weighted WIP, the time
each machine spends in each state, the waits of the operations that start, the finished and
scrapped operations per station and product. Memory is a few numbers per station and machine
plus four per job, whatever the run's length; the log's is ~17 bytes a record.

The window's start is known when the plant is built and its end is the horizon, so a record
at time ``t`` adds only what lies in ``[start, t]``; :meth:`close` adds the open intervals up
to the end. :func:`twin.measure.kpi.tally_kpis` turns these sums into KPIs with the same
definitions as :func:`twin.measure.kpi.compute_kpis` has on the log (a test runs both on every
scenario of the library).
"""

from __future__ import annotations

import math
from array import array

from twin.sim.log import JobEvent, MachineState

__all__ = ["KpiTally"]

_ARRIVE, _ENTER, _START, _FINISH, _EXIT, _SCRAP, _SETUP, _REWORK, _ASSEMBLED = (
    int(JobEvent.ARRIVE),
    int(JobEvent.ENTER),
    int(JobEvent.START),
    int(JobEvent.FINISH),
    int(JobEvent.EXIT),
    int(JobEvent.SCRAP),
    int(JobEvent.SETUP),
    int(JobEvent.REWORK),
    int(JobEvent.ASSEMBLED),
)
_STATES = len(MachineState)


class KpiTally:
    """Running sums of one replication's KPIs over ``[start, end]``.

    Args:
        start: start of the window (the warm-up); records before it count only as the state
            they leave behind.
        machines: machines in the plant (numbered as the log numbers them).
        stations: stations in the plant.
        products: products in the scenario.
        batch_stations: indices of the stations that process batches (their batches are counted).
    """

    def __init__(self, start: float, machines: int, stations: int, products: int, batch_stations: set[int]) -> None:
        self.start = start
        self.products = products
        self.job_product = array("h")
        """Product index of each job, by job id."""
        self.job_due = array("d")
        """Due date of each job (``inf`` if none), by job id."""
        self._arrival = array("d")
        self._entered = array("d")
        self._taken = array("d")
        """When the job left the buffer for a setup (NaN: no setup since it entered)."""
        self.completed = 0
        self.lead_sum = 0.0
        self.late_sum = 0.0
        self.scrapped = 0
        self.reworked = 0
        self.wip_area = 0.0
        self._wip = 0
        self._wip_since = start
        self.state_time = [0.0] * (machines * _STATES)
        """Time in each state, machine-major: ``state_time[machine * states + state]``."""
        self._state = [-1] * machines
        self._since = [0.0] * machines
        self.wait_sum = [0.0] * stations
        self.wait_count = [0] * stations
        self.finished_ops = [0] * (stations * products)
        """Operations finished in the window, ``finished[station * products + product]``."""
        self.station_scrapped = [0] * stations
        self.station_reworked = [0] * stations
        self.batch_starts = dict.fromkeys(batch_stations, 0)
        self.batches = dict.fromkeys(batch_stations, 0)
        self._batch_start: dict[tuple[int, int], float] = {}

    def new_job(self, product: int, due: float) -> int:
        """Register a job and return its id (ids count from 0 in creation order)."""
        self.job_product.append(product)
        self.job_due.append(due)
        self._arrival.append(0.0)
        self._entered.append(0.0)
        self._taken.append(math.nan)
        return len(self.job_product) - 1

    def on_arrive(self, time: float, product: int, due: float) -> int:
        """``new_job(product, due)``, then ``job(time, id, -1, -1, ARRIVE)``, in one call; the id."""
        self.job_product.append(product)
        self.job_due.append(due)
        self._arrival.append(time)
        self._entered.append(0.0)
        self._taken.append(math.nan)
        if time > self._wip_since:
            self.wip_area += self._wip * (time - self._wip_since)
            self._wip_since = time
        self._wip += 1
        return len(self.job_product) - 1

    def job(self, time: float, job: int, station: int, machine: int, kind: int) -> None:
        """Account for a job event (the arguments of :meth:`EventLog.job`)."""
        if kind == _ENTER:
            self._entered[job] = time
            self._taken[job] = math.nan
        elif kind == _START:
            if time >= self.start:
                taken = self._taken[job]
                self.wait_sum[station] += (time if taken != taken else taken) - self._entered[job]
                self.wait_count[station] += 1
                if station in self.batches:
                    self._batch(time, station, machine)
        elif kind == _FINISH:
            if time >= self.start:
                self.finished_ops[station * self.products + self.job_product[job]] += 1
        elif kind == _ARRIVE:
            self._arrival[job] = time
            self._move(time, 1)
        elif kind == _EXIT:
            self._move(time, -1)
            if time >= self.start:
                self.completed += 1
                self.lead_sum += time - self._arrival[job]
                self.late_sum += max(0.0, time - self.job_due[job])
        elif kind == _SETUP:
            self._taken[job] = time
        elif kind == _SCRAP:
            self._move(time, -1)
            if time >= self.start:
                self.scrapped += 1
                self.station_scrapped[station] += 1
        elif kind == _ASSEMBLED:
            self._move(time, -1)
        elif kind == _REWORK and time >= self.start:
            self.reworked += 1
            self.station_reworked[station] += 1

    def on_enter(self, time: float, job: int, station: int) -> None:
        """``job(time, job, station, -1, ENTER)``, in one call (the hot path's)."""
        self._entered[job] = time
        self._taken[job] = math.nan

    def on_start(self, time: float, job: int, station: int, machine: int) -> None:
        """``job(time, job, station, machine, START)``, in one call."""
        if time >= self.start:
            taken = self._taken[job]
            self.wait_sum[station] += (time if taken != taken else taken) - self._entered[job]
            self.wait_count[station] += 1
            if station in self.batches:
                self._batch(time, station, machine)

    def on_finish(self, time: float, job: int, station: int, machine: int) -> None:
        """``job(time, job, station, machine, FINISH)``, in one call."""
        if time >= self.start:
            self.finished_ops[station * self.products + self.job_product[job]] += 1

    def on_exit(self, time: float, job: int) -> None:
        """``job(time, job, -1, -1, EXIT)``, in one call."""
        self._move(time, -1)
        if time >= self.start:
            self.completed += 1
            self.lead_sum += time - self._arrival[job]
            self.late_sum += max(0.0, time - self.job_due[job])

    def _move(self, time: float, change: int) -> None:
        """WIP changes by ``change`` at ``time``."""
        if time > self._wip_since:
            self.wip_area += self._wip * (time - self._wip_since)
            self._wip_since = time
        self._wip += change

    def _batch(self, time: float, station: int, machine: int) -> None:
        """A job of a batch started: the jobs of one batch start on one machine at one instant."""
        self.batch_starts[station] += 1
        key = (station, machine)
        if self._batch_start.get(key) != time:
            self._batch_start[key] = time
            self.batches[station] += 1

    def state(self, time: float, machine: int, state: int) -> None:
        """Account for plant-wide machine number ``machine`` entering ``state``."""
        previous = self._state[machine]
        if previous >= 0 and time > self.start:
            since = self._since[machine]
            self.state_time[machine * _STATES + previous] += time - (since if since > self.start else self.start)
        self._state[machine] = state
        self._since[machine] = time

    def vehicle(self, time: float, vehicle: int, state: int, job: int, station: int) -> None:
        """Vehicle records are not tallied: a plant with a fleet keeps its event log."""
        raise RuntimeError("a plant with a vehicle fleet records its event log, not a KPI tally")

    def close(self, end: float) -> None:
        """Add the intervals still open at ``end`` (the end of the run); call once."""
        start = self.start
        if end > self._wip_since:
            self.wip_area += self._wip * (end - self._wip_since)
            self._wip_since = end
        for machine, state in enumerate(self._state):
            if state >= 0 and end > start:
                since = self._since[machine]
                self.state_time[machine * _STATES + state] += end - (since if since > start else start)
                self._since[machine] = end
