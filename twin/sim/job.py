"""A job: one unit of a product travelling its route."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from twin.sim.station import Station

__all__ = ["Job", "Step"]


class Step(NamedTuple):
    """One operation of a product's route, resolved against the plant."""

    station: Station
    mean: float
    """Mean process time (what rules may know; the actual time is drawn per job)."""
    remaining_work: float
    """Mean process time of this step and all later ones."""


class Job:
    """A unit of work. Its process times are drawn when it arrives, one per route step, so
    that the same job takes the same time whatever order the stations serve it in (common
    random numbers across dispatching rules)."""

    __slots__ = ("arrival", "due", "entered", "family", "id", "plan", "product", "step", "times")

    def __init__(
        self,
        job_id: int,
        product: int,
        family: str,
        plan: tuple[Step, ...],
        times: list[float],
        arrival: float,
        due: float,
    ) -> None:
        self.id = job_id
        self.product = product
        self.family = family
        self.plan = plan
        self.times = times
        self.step = 0
        self.arrival = arrival
        self.due = due
        self.entered = arrival

    @property
    def process_time(self) -> float:
        """Mean process time of the current operation."""
        return self.plan[self.step].mean

    @property
    def remaining_work(self) -> float:
        """Mean process time of the current and all later operations."""
        return self.plan[self.step].remaining_work

    @property
    def remaining_ops(self) -> int:
        """Operations left, the current one included."""
        return len(self.plan) - self.step

    @property
    def next_station(self) -> Station | None:
        """The station of the operation after the current one (None at the last)."""
        step = self.step + 1
        return self.plan[step].station if step < len(self.plan) else None
