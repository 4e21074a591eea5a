"""Preventive maintenance of one machine: when it falls due, and what it does to the machine.

The maintenance clock counts, by ``basis``, processing time (``busy``), all time
(``calendar``) or all time since the last maintenance or repair (``age``: the age-replacement
policy of reliability theory). When it runs out:

- the machine goes into maintenance at once if it is free or blocked, or if it is setting up
  or processing and ``interrupt`` is set (the phase resumes afterwards with its remaining time,
  as after a breakdown); otherwise maintenance waits for the operation in hand to end;
- a machine that is down for repair is maintained right after the repair (``calendar``; a
  repair restarts the ``age`` clock, and no processing happens while down).

Maintenance renews the machine: its time to failure is drawn afresh, and a pending calendar
failure is cancelled. The machine's state is ``maintenance`` meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simpy import Timeout

from twin.scenario import Maintenance
from twin.scenario.distributions import Sampler

if TYPE_CHECKING:
    from twin.sim.station import Machine

__all__ = ["Upkeep"]

_TOLERANCE = 1e-9
"""Share of ``every`` below which a busy clock counts as run out (float rounding)."""


class Upkeep:
    """The maintenance schedule of one machine (attached as ``machine.upkeep``)."""

    __slots__ = ("basis", "due", "duration", "epoch", "every", "interrupt", "machine")

    def __init__(self, machine: Machine, spec: Maintenance, duration: Sampler) -> None:
        self.machine = machine
        self.every = spec.every
        self.basis = spec.basis
        self.interrupt = spec.interrupt
        self.duration = duration
        self.due = False
        """Maintenance is due and waits for the machine (the operation in hand, a repair)."""
        self.epoch = 0
        """Identifies the pending clock timer; bumped to cancel it."""
        machine.upkeep = self
        self.restart()

    def restart(self) -> None:
        """Start counting towards the next maintenance from now."""
        if self.basis == "busy":
            self.machine.pm_left = self.every
        else:
            self._schedule()

    def _schedule(self) -> None:
        self.epoch += 1
        Timeout(self.machine.env, self.every, self.epoch).callbacks.append(self._timer)

    def _timer(self, event: Timeout) -> None:
        if event._value == self.epoch:
            self._fall_due()

    def wore(self) -> None:
        """The busy clock ran down (``machine.pm_left`` changed): due when it reaches zero."""
        left = self.machine.pm_left
        if left is not None and left <= _TOLERANCE * self.every:
            self.due = True

    def _fall_due(self) -> None:
        machine = self.machine
        if machine.down or (machine.in_operation() and (not self.interrupt or machine.ends_now())):
            self.due = True  # the machine takes it up when it is back or done
            return
        machine.halt()
        machine.maintain()

    def begin(self) -> float:
        """Maintenance starts: the clock stops; returns how long it takes."""
        self.due = False
        self.epoch += 1
        return self.duration()

    def failed(self) -> None:
        """The machine broke down: an ``age`` clock stops until the repair ends."""
        if self.basis == "age":
            self.epoch += 1

    def repaired(self) -> bool:
        """The repair ended: restart an ``age`` clock, or start maintenance that fell due
        meanwhile. True if maintenance started (the machine is out of service again)."""
        if self.basis == "age":
            self.due = False  # a repair renews the machine too
            self._schedule()
            return False
        if self.due:
            self.machine.maintain()
            return True
        return False
