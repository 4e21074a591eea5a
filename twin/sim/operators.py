"""Shared operator pools with a repeating shift calendar.

A station that names a pool needs one of its operators for each setup and operation. At a
shift change the pool's size changes; an operator whose shift ends while busy finishes the
operation in hand and then leaves (so ``available`` may dip below zero until then). Stations
waiting for an operator are served first come, first served.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from simpy import Environment, Timeout

from twin.scenario import OperatorPool as PoolSpec

if TYPE_CHECKING:
    from twin.sim.station import Station

__all__ = ["OperatorPool", "shift_changes"]


def shift_changes(spec: PoolSpec) -> list[tuple[float, int]]:
    """``(time within the period, operators from then on)``, sorted, starting at time 0."""
    if spec.shifts is None:
        return [(0.0, spec.count)]
    level: dict[float, int] = {0.0: 0}
    for shift in sorted(spec.shifts.shifts, key=lambda s: s.start):
        level.setdefault(shift.end % spec.shifts.period, 0)
        level[shift.start] = spec.count if shift.count is None else shift.count
    return sorted(level.items())


class OperatorPool:
    """Operators available to a set of stations; ``capacity`` follows the shift calendar."""

    def __init__(self, env: Environment, spec: PoolSpec) -> None:
        self.env = env
        self.changes = shift_changes(spec)
        self.period = spec.shifts.period if spec.shifts is not None else None
        index, cycle_start = self._position(env.now)
        self.capacity = self.changes[index][1]
        self.available = self.capacity
        self.waiting: deque[Station] = deque()
        self.stations: list[Station] = []
        if self.period is not None and len(self.changes) > 1:
            self._schedule(index + 1, cycle_start)

    def _position(self, now: float) -> tuple[int, float]:
        """The shift level in force at ``now`` and the start of its cycle (a plant warm
        started at ``now > 0`` joins the calendar where it is then)."""
        if self.period is None or now <= 0:
            return 0, 0.0
        cycle_start = (now // self.period) * self.period
        within = now - cycle_start
        index = max(i for i, (at, _) in enumerate(self.changes) if at <= within)
        return index, cycle_start

    def _schedule(self, index: int, cycle_start: float) -> None:
        if index == len(self.changes):
            index, cycle_start = 0, cycle_start + self.period  # type: ignore[operator]
        at, count = self.changes[index]
        event = Timeout(self.env, cycle_start + at - self.env.now)
        event.callbacks.append(lambda _: self._change(count, index, cycle_start))

    def _change(self, count: int, index: int, cycle_start: float) -> None:
        self.available += count - self.capacity
        self.capacity = count
        for station in self.stations:
            station.refresh_idle_states()
        self._serve()
        self._schedule(index + 1, cycle_start)

    def has_free(self, station: Station) -> bool:
        """Whether an operator can be taken now; if not, ``station`` is queued for one."""
        if self.available > 0:
            return True
        if station not in self.waiting:
            self.waiting.append(station)
        return False

    def take(self) -> None:
        """One operator starts attending a machine."""
        self.available -= 1

    def release(self) -> None:
        """An operator is done with a machine; serve the stations waiting for one."""
        self.available += 1
        self._serve()

    def _serve(self) -> None:
        while self.available > 0 and self.waiting:
            self.waiting.popleft().dispatch()
