"""A reusable timeout for a callback that has at most one wake-up pending at a time.

A lean machine's operation and a product's arrival stream each wait for one thing at a time.
``Timeout(env, delay).callbacks.append(callback)`` builds a new event (and a bound method)
for every wait; an :class:`Alarm` is built once and set again after it rang: SimPy clears a
processed event's ``callbacks``, and setting the alarm puts its one callback back and
schedules it, as :class:`simpy.Timeout` does (same priority, next event id), so the calendar
orders its wake-ups exactly as it would order the timeouts. That halves what a wait costs.

A pending alarm cannot be taken back: :meth:`Alarm.cancel` silences it, and the owner sets
a fresh alarm for its next wait.
"""

from __future__ import annotations

from collections.abc import Callable

from simpy import Environment, Event
from simpy.events import NORMAL

__all__ = ["Alarm"]


class Alarm(Event):
    """Calls ``callback`` (with the alarm) ``delay`` after each :meth:`set`."""

    def __init__(self, env: Environment, callback: Callable[[Event], None]) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        self._ring = [callback]
        self._schedule = env.schedule
        self.callbacks = None  # type: ignore[assignment]  # not set: as a processed event

    def set(self, delay: float) -> None:
        """Ring ``delay`` from now (the alarm must not be pending)."""
        self.callbacks = self._ring
        self._schedule(self, NORMAL, delay)

    @property
    def pending(self) -> bool:
        """Whether it is set and has not rung yet."""
        return self.callbacks is not None

    def cancel(self) -> None:
        """Ring without calling back (it stays on the calendar, as a cancelled timeout would)."""
        self.callbacks = []
