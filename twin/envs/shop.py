"""Many copies of one deterministic job shop, scheduled together by Giffler-Thompson steps.

The SimPy plant is the twin's model of a shop floor, with breakdowns, buffers and operators;
a textbook job shop (fixed durations, every job at time 0, unlimited buffers) needs none of
it, and a search that runs the same instance 128 times wants the copies stepped together.
:class:`ShopBatch` holds ``K`` copies of an instance as arrays (one row per copy) and
advances them decision by decision:

- ``decisions="active"`` (Giffler-Thompson 1960): among the jobs' next operations, find the
  one that would complete first (earliest completion ``c*``) and its machine ``m*``; the
  candidates are the next operations on ``m*`` that could start before ``c*``, including
  those of jobs still busy elsewhere (they start when they arrive; the machine waits). Every
  schedule so built is active, and some sequence of choices builds an optimal one.
- ``decisions="non_delay"``: among the next operations, the earliest possible start ``t*``
  and its machine; the candidates are the operations that can start on it at ``t*``: which
  waiting job a free machine starts now (the SimPy env's decision). Non-delay schedules may
  all miss the optimum.

A decision with a single candidate is carried out at once (it is never shown). The
observations follow :class:`twin.envs.observation.Layout`, so the policies that read
``twin/Dispatch-v0`` read these too (the meaning of each feature: ``DispatchEnv``'s docstring,
"Active-Schedule Decisions": active decisions carry a makespan slack in the slack slot).
Copies are independent: every array operation is per row, so a copy's schedule does not
depend on which other copies share its batch.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from twin.envs.observation import (
    GLOBAL_PROGRESS,
    GLOBAL_WIP,
    JOB_NEXT_QUEUE,
    JOB_PRESENT,
    JOB_PROCESS_TIME,
    JOB_REMAINING_OPS,
    JOB_REMAINING_WORK,
    JOB_SLACK,
    JOB_WAITED,
    STATION_BUSY,
    STATION_FEATURES,
    STATION_IN_PROGRESS,
    STATION_QUEUE,
    STATION_WORK,
    Layout,
)
from twin.jobshop.instances import JobShopInstance
from twin.jobshop.schedules import ScheduledOperation

__all__ = ["DECISION_KINDS", "DecisionKind", "ShopBatch"]

DecisionKind = Literal["non_delay", "active"]
DECISION_KINDS: tuple[str, ...] = get_args(DecisionKind)


class ShopBatch:
    """``copies`` copies of ``instance``, each at its next decision (see the module doc).

    Attributes:
        mask: ``(K, J)`` bool, the candidate jobs of each copy's decision (none when done).
        machine: ``(K,)`` the deciding machine ``m*`` of each copy (-1 when done).
        time: ``(K,)`` the decision's instant: the earliest start among its candidates.
        decisions: ``(K,)`` decisions taken so far (shown ones, not the single candidates).

    Raises:
        ValueError: an unknown decision kind or ``copies`` below 1.
    """

    def __init__(self, instance: JobShopInstance, copies: int = 1, decisions: DecisionKind = "active") -> None:
        if decisions not in DECISION_KINDS:
            raise ValueError(f"decisions must be one of {', '.join(DECISION_KINDS)} (got {decisions!r})")
        if copies < 1:
            raise ValueError(f"copies must be >= 1 (got {copies})")
        self.instance = instance
        self.kind: DecisionKind = decisions
        self.copies = copies
        jobs, machines = instance.n_jobs, instance.machines
        self.n_ops = np.array([len(ops) for ops in instance.jobs], dtype=np.int64)
        width = int(self.n_ops.max()) + 1  # a done job points at a padding column
        self.op_machine = np.zeros((jobs, width), dtype=np.int64)
        self.op_duration = np.zeros((jobs, width), dtype=np.float64)
        for j, ops in enumerate(instance.jobs):
            for o, (m, d) in enumerate(ops):
                self.op_machine[j, o], self.op_duration[j, o] = m, d
        # remaining[j, o]: the work of operations o.. of job j
        self.remaining = np.cumsum(self.op_duration[:, ::-1], axis=1)[:, ::-1].copy()
        work = self.remaining[:, 0]
        self.op_max = max(float(self.op_duration.max()), 1e-9)
        self.work_max = max(float(work.max()), 1e-9)
        self.work_mean = max(float(work.mean()), 1e-9)
        self.route_max = int(self.n_ops.max())
        self.total_work = max(float(work.sum()), 1e-9)
        self.lower_bound = float(max(instance.lower_bound(), 1))
        self.layout = Layout(machines, jobs)
        self._rows = np.arange(copies)
        self._jobs = np.arange(jobs)
        self.next_op = np.zeros((copies, jobs), dtype=np.int64)
        self.job_ready = np.zeros((copies, jobs))
        self.machine_free = np.zeros((copies, machines))
        load = np.bincount(self.op_machine.ravel(), weights=self.op_duration.ravel(), minlength=machines)
        self.unscheduled = np.tile(load, (copies, 1))  # each machine's work not yet scheduled
        self.start = np.full((copies, jobs, width), np.nan)
        self.decisions = np.zeros(copies, dtype=np.int64)
        self.mask = np.zeros((copies, jobs), dtype=bool)
        self.machine = np.full(copies, -1, dtype=np.int64)
        self.time = np.zeros(copies)
        self._est = np.zeros((copies, jobs))
        self._advance()

    # State

    @property
    def done(self) -> np.ndarray:
        """``(K,)`` whether each copy has scheduled every operation."""
        done: np.ndarray = ~np.any(self.mask, axis=1)
        return done

    @property
    def makespan(self) -> np.ndarray:
        """``(K,)`` the end of the last operation scheduled so far."""
        makespan: np.ndarray = np.max(self.machine_free, axis=1)
        return makespan

    def candidates(self, row: int) -> np.ndarray:
        """The candidate jobs of copy ``row``, in slot order (ascending job number)."""
        return np.flatnonzero(self.mask[row])

    def schedule(self, row: int) -> list[ScheduledOperation]:
        """The operations copy ``row`` has scheduled, sorted by job and operation."""
        out = []
        for j, ops in enumerate(self.instance.jobs):
            for o, (machine, duration) in enumerate(ops):
                start = self.start[row, j, o]
                if not np.isnan(start):
                    out.append(ScheduledOperation(j, o, machine, float(start), float(start + duration)))
        return out

    # Stepping

    def step(self, slots: np.ndarray) -> None:
        """Carry out each unfinished copy's decision: ``slots[k]`` is the position of the
        chosen job among copy ``k``'s candidates; a slot past them takes the first. Done
        copies are left alone."""
        order = np.cumsum(self.mask, axis=1) - 1  # slot of each candidate job
        count = self.mask.sum(axis=1)
        slots = np.where((slots >= 0) & (slots < count), slots, 0)
        chosen = np.argmax(self.mask & (order == slots[:, None]), axis=1)
        live = count > 0
        self.decisions += live
        self._schedule(self._rows[live], chosen[live])
        self._advance()

    def _schedule(self, rows: np.ndarray, jobs: np.ndarray) -> None:
        ops = self.next_op[rows, jobs]
        machines = self.op_machine[jobs, ops]
        start = self._est[rows, jobs]
        end = start + self.op_duration[jobs, ops]
        self.start[rows, jobs, ops] = start
        self.machine_free[rows, machines] = end
        self.unscheduled[rows, machines] -= self.op_duration[jobs, ops]
        self.job_ready[rows, jobs] = end
        self.next_op[rows, jobs] = ops + 1

    def _conflicts(self) -> None:
        """Each copy's candidates, deciding machine and instant (module doc)."""
        op = self.next_op
        left = op < self.n_ops
        machines = self.op_machine[self._jobs, op]
        est = np.maximum(self.job_ready, np.take_along_axis(self.machine_free, machines, axis=1))
        est = np.where(left, est, np.inf)
        self._est = est
        if self.kind == "active":
            ect = est + self.op_duration[self._jobs, op]
            first = np.argmin(ect, axis=1)
            bound = ect[self._rows, first]
            near = (est < bound[:, None]) | (self._jobs[None, :] == first[:, None])
        else:
            first = np.argmin(est, axis=1)
            near = est <= est[self._rows, first][:, None]
        machine = machines[self._rows, first]
        mask = left & near & (machines == machine[:, None])
        any_left: np.ndarray = np.any(left, axis=1)
        self.mask = mask & any_left[:, None]
        self.machine = np.where(any_left, machine, -1)
        self.time = np.where(any_left, np.where(mask, est, np.inf).min(axis=1), self.makespan)

    def _advance(self) -> None:
        """Carry out single-candidate decisions until every copy has a choice or is done."""
        while True:
            self._conflicts()
            single = self.mask.sum(axis=1) == 1
            if not single.any():
                return
            rows = self._rows[single]
            self._schedule(rows, np.argmax(self.mask[rows], axis=1))

    # Observations

    def observe(self, max_queue: int | None = None) -> np.ndarray:
        """``(K, 3 + 6 M + 7 Q)`` float32 observations of the current decisions, ``Q`` =
        ``max_queue`` (default: the number of jobs); candidates past ``Q`` are not shown.
        A done copy's row is zeros but for progress 1."""
        jobs, machines = self.instance.n_jobs, self.instance.machines
        q = max_queue or jobs
        layout = Layout(machines, q)
        k = self.copies
        obs = np.zeros((k, layout.size), dtype=np.float32)
        rows, now = self._rows, self.time
        op = self.next_op
        left = op < self.n_ops
        at = np.where(left, self.op_machine[self._jobs, op], machines)  # machines: none
        duration = self.op_duration[self._jobs, op]
        waiting = left & (self.job_ready <= now[:, None])
        # per machine: jobs waiting for it, their work, its busy time left
        onehot = np.zeros((k, jobs, machines + 1))
        onehot[rows[:, None], self._jobs[None, :], at] = 1.0
        onehot = onehot[:, :, :machines]
        queue = np.einsum("kj,kjm->km", waiting.astype(float), onehot)
        work = np.einsum("kj,kjm->km", waiting * duration, onehot)
        busy_left = np.maximum(self.machine_free - now[:, None], 0.0)
        stations = np.zeros((k, machines, STATION_FEATURES))
        stations[:, :, STATION_QUEUE] = queue / q
        stations[:, :, STATION_BUSY] = busy_left > 0
        stations[:, :, STATION_WORK] = work / (self.op_max * q)
        stations[:, :, STATION_IN_PROGRESS] = busy_left / self.op_max
        obs[:, layout.station(0) : layout.candidate(0)] = stations.reshape(k, -1)
        remaining = self.remaining[self._jobs, op]
        obs[:, GLOBAL_PROGRESS] = 1.0 - remaining.sum(axis=1) / self.total_work
        obs[:, GLOBAL_WIP] = left.sum(axis=1) / (machines * q)
        live = self.machine >= 0
        obs[rows[live], layout.deciding + self.machine[live]] = 1.0
        # candidates, in slot order
        order = np.argsort(~self.mask, axis=1, kind="stable")[:, :q]
        present = np.take_along_axis(self.mask, order, axis=1)
        following = self.op_machine[self._jobs, np.minimum(op + 1, self.op_machine.shape[1] - 1)]
        has_next = op + 1 < self.n_ops
        next_queue = np.where(has_next, np.take_along_axis(queue, np.minimum(following, machines - 1), axis=1), 0.0)
        features = np.zeros((k, jobs, 7))
        features[:, :, JOB_PRESENT] = 1.0
        features[:, :, JOB_PROCESS_TIME] = duration / self.op_max
        features[:, :, JOB_REMAINING_WORK] = remaining / self.work_max
        features[:, :, JOB_REMAINING_OPS] = (self.n_ops - op) / self.route_max
        features[:, :, JOB_WAITED] = (now[:, None] - self.job_ready) / self.work_mean
        features[:, :, JOB_SLACK] = self._slack(left, remaining) if self.kind == "active" else 1.0
        features[:, :, JOB_NEXT_QUEUE] = next_queue / q
        slots = np.take_along_axis(features, order[:, :, None], axis=1) * present[:, :, None]
        width = slots.shape[1]
        obs[:, layout.candidate(0) : layout.candidate(width)] = slots.reshape(k, -1)
        obs[~live] = 0.0
        obs[~live, GLOBAL_PROGRESS] = 1.0
        np.clip(obs, -1.0, 1.0, out=obs)
        return obs

    def _slack(self, left: np.ndarray, remaining: np.ndarray) -> np.ndarray:
        """``(K, J)`` each job's slack against the makespan's lower bound, over ``work_mean``.

        A textbook shop has no due dates; what a job can afford to lose is how far its earliest
        completion (its next operation's earliest start plus its remaining work) lies below
        the partial schedule's lower bound on the makespan: the largest of the jobs' earliest
        completions and the machines' (free at plus their unscheduled work). The critical
        job's slack is 0, and delaying a job by more than its slack raises the bound.
        """
        finish = np.where(left, self._est + remaining, self.job_ready)
        bound = np.maximum(finish.max(axis=1), (self.machine_free + self.unscheduled).max(axis=1))
        slack: np.ndarray = (bound[:, None] - finish) / self.work_mean
        return slack

    def action_masks(self, max_queue: int | None = None) -> np.ndarray:
        """``(K, Q)`` the valid slots of each copy's decision (slot 0 alone for a done copy)."""
        q = max_queue or self.instance.n_jobs
        count = np.minimum(self.mask.sum(axis=1), q)
        masks: np.ndarray = np.arange(q)[None, :] < count[:, None]
        masks[count == 0, 0] = True
        return masks
