"""Assembly: a station whose jobs start only with a kit of components, which they consume.

Components are jobs of the products a station's ``assemble`` lists; their routes end here.
A component that arrives is logged as entering the station and waits in the station's kit
store (unlimited, apart from the buffer) until a job of another product starts here: that job
takes the oldest waiting components of each kind, in the quantities listed, and each leaves
the plant inside it (an ASSEMBLED record). The assembled job then continues on its own route.
A free machine makes room in the buffer only while a complete kit waits for it.

Every visit of a route to the station takes a kit, except a return by rework: a job that
comes back for rework already holds its components and starts without one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from twin.sim.log import JobEvent, Recorder

if TYPE_CHECKING:
    from twin.sim.job import Job
    from twin.sim.station import Station

__all__ = ["AssemblyKits"]

_ASSEMBLED = int(JobEvent.ASSEMBLED)


class AssemblyKits:
    """The kit store of one assembly station.

    Args:
        station: the assembly station.
        log: the event log.
        needs: component product index -> quantity per assembled job.
        remember: keep the ids of assembled jobs (needed when rework can bring one back).
    """

    __slots__ = ("assembled", "log", "needs", "remember", "station", "stock")

    def __init__(self, station: Station, log: Recorder, needs: dict[int, int], remember: bool) -> None:
        self.station = station
        self.log = log
        self.needs = needs
        self.stock: dict[int, deque[Job]] = {product: deque() for product in needs}
        self.remember = remember
        self.assembled: set[int] = set()

    def takes(self, job: Job) -> bool:
        """Whether ``job`` is a component of this station."""
        return job.product in self.needs

    def store(self, job: Job) -> None:
        """A component arrived: it waits for a job to assemble it into."""
        self.stock[job.product].append(job)
        station = self.station
        if station.free and (station.queue or station.waiting):
            station.dispatch()

    def complete(self) -> int:
        """Complete kits in store."""
        return min(len(self.stock[product]) // quantity for product, quantity in self.needs.items())

    def exempt(self, queue: Sequence[Job]) -> int | None:
        """Position of the first job in ``queue`` that needs no kit (it was assembled here
        before and came back for rework), or None."""
        if self.remember:
            for index, job in enumerate(queue):
                if job.id in self.assembled:
                    return index
        return None

    def consume(self, job: Job, machine: int) -> None:
        """``job`` starts on ``machine``: it takes a kit (unless it holds one already)."""
        if self.remember:
            if job.id in self.assembled:
                return
            self.assembled.add(job.id)
        station, now = self.station, self.station.env.now
        for product, quantity in self.needs.items():
            stock = self.stock[product]
            for _ in range(quantity):
                component = stock.popleft()
                self.log.job(now, component.id, station.index, machine, _ASSEMBLED)
                station.plant.job_left(component)
