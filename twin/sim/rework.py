"""Rework: a share of the jobs finished at a station goes back to an earlier station.

A job reworked at route step ``k`` goes back to its last visit to the ``to`` station at or
before ``k`` and does every operation from there on again, each with a process time drawn
afresh (from a stream of its own, so first-pass times keep their common random numbers).
Scrap and rework exclude each other: of the jobs finished here, ``scrap`` are scrapped and
``probability`` reworked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twin.scenario.distributions import Sampler
from twin.scenario.flows import rework_step
from twin.sim.log import JobEvent, Recorder

if TYPE_CHECKING:
    from twin.sim.job import Job

__all__ = ["Rework"]

_REWORK = int(JobEvent.REWORK)


class Rework:
    """Where and how often the jobs finished at one station go back.

    Args:
        log: the event log.
        station: index of the station.
        to: name of the station jobs go back to.
        chance: probability of rework among the jobs not scrapped.
        draw: uniform [0, 1) draws of this station's rework stream.
        redraw: ``redraw(product, step)`` draws a new process time for a route step.
    """

    __slots__ = ("chance", "draw", "log", "redraw", "station", "targets", "to")

    def __init__(
        self,
        log: Recorder,
        station: int,
        to: str,
        chance: float,
        draw: Sampler,
        redraw: Callable[[int, int], float],
    ) -> None:
        self.log = log
        self.station = station
        self.to = to
        self.chance = chance
        self.draw = draw
        self.redraw = redraw
        self.targets: dict[tuple[int, int], int] = {}
        """(product, step) -> step to go back to."""

    def sends_back(self, job: Job, machine: int, now: float) -> bool:
        """Whether ``job``, finished on ``machine``, is reworked; if so it is logged, set back
        to its earlier step, and given new process times from there to here."""
        if self.draw() >= self.chance:
            return False
        self.log.job(now, job.id, self.station, machine, _REWORK)
        key = (job.product, job.step)
        target = self.targets.get(key)
        if target is None:
            found = rework_step([step.station.name for step in job.plan], job.step, self.to)
            assert found is not None, "checked by the scenario's cross-checks"
            target = self.targets[key] = found
        for step in range(target, job.step + 1):
            job.times[step] = self.redraw(job.product, step)
        job.step = target
        return True
