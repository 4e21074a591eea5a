"""Transport between stations: fixed-time legs, and a fleet of vehicles.

A move from one station to another starts when the destination has room, which is then
reserved for the job (``Station.incoming``): the job is handed to transport (TRANSPORT_START)
and later delivered (TRANSPORT_END, then ENTER at the destination).

- On a **fixed-time leg** (``transport.times``) the job leaves its machine at once and
  arrives after the leg's time; any number of jobs may be on the way.
- Otherwise, between two stations of the distance network, a **vehicle** carries it (any
  other move is instantaneous): the job waits on its machine (which stays ``blocked``)
  until a vehicle has driven there empty, and leaves it when loaded; the vehicle then drives
  the shortest path of the distance network to the destination and unloads. A vehicle
  carries one job at a time and stays where it unloaded until its next request.

Dispatching of vehicles (``transport.vehicles.dispatching``): ``nearest`` gives a new
request to the nearest idle vehicle, and a vehicle that frees takes the waiting request with
the nearest pickup (ties: the oldest); ``fcfs`` serves requests in the order they were made,
each by the vehicle idle the longest. Vehicle states go to the event log's vehicle records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simpy import Environment, Timeout

from twin.scenario.distributions import Sampler
from twin.sim.log import JobEvent, Recorder, VehicleState

if TYPE_CHECKING:
    from twin.sim.job import Job
    from twin.sim.station import Machine, Station

__all__ = ["Fleet", "Leg", "TimedLeg", "VehicleLeg"]

_TRANSPORT_START, _TRANSPORT_END = int(JobEvent.TRANSPORT_START), int(JobEvent.TRANSPORT_END)
_IDLE, _EMPTY, _LOADING, _LOADED, _UNLOADING = (int(s) for s in VehicleState)


class Leg(ABC):
    """A way from one station into another."""

    def __init__(self, env: Environment, log: Recorder, origin: Station, destination: Station) -> None:
        self.env = env
        self.log = log
        self.origin = origin
        self.destination = destination

    def carry(self, job: Job, holder: Machine) -> bool:
        """Hand ``job``, finished on ``holder``, to transport (room at the destination is
        free); True if it left the machine at once."""
        self.destination.reserve(job)
        self.log.job(self.env.now, job.id, self.origin.index, holder.index, _TRANSPORT_START)
        return self._go(job, holder)

    @abstractmethod
    def _go(self, job: Job, holder: Machine) -> bool:
        """Start the move; True if the job left its machine at once."""

    def deliver(self, job: Job) -> None:
        """``job`` arrives at the destination."""
        self.log.job(self.env.now, job.id, self.destination.index, -1, _TRANSPORT_END)
        self.destination.deliver(job)


class TimedLeg(Leg):
    """A leg with a fixed transport time (a conveyor, a hand-over)."""

    def __init__(self, env: Environment, log: Recorder, origin: Station, destination: Station, time: Sampler) -> None:
        super().__init__(env, log, origin, destination)
        self.time = time

    def _go(self, job: Job, holder: Machine) -> bool:
        Timeout(self.env, self.time()).callbacks.append(lambda _: self.deliver(job))
        return True


class VehicleLeg(Leg):
    """A leg served by the vehicle fleet."""

    def __init__(self, env: Environment, log: Recorder, origin: Station, destination: Station, fleet: Fleet) -> None:
        super().__init__(env, log, origin, destination)
        self.fleet = fleet

    def _go(self, job: Job, holder: Machine) -> bool:
        self.fleet.request(_Request(job, holder, self, self.fleet.requests_made))
        return False


@dataclass(slots=True)
class _Request:
    job: Job
    holder: Machine
    leg: VehicleLeg
    order: int


class _Vehicle:
    __slots__ = ("at", "index")

    def __init__(self, index: int, at: int) -> None:
        self.index = index
        self.at = at
        """Index of the station it is at, or last was."""


class Fleet:
    """The vehicles and the requests waiting for one.

    Args:
        env, log: the plant's environment and event log.
        count: vehicles.
        home: index of the station where they start.
        travel: travel time from station ``i`` to station ``j`` as ``travel[i][j]``.
        load, unload: handling times.
        nearest: dispatch by ``nearest`` (else first come, first served).
    """

    def __init__(
        self,
        env: Environment,
        log: Recorder,
        count: int,
        home: int,
        travel: Sequence[Sequence[float]],
        load: Sampler,
        unload: Sampler,
        nearest: bool,
    ) -> None:
        self.env = env
        self.log = log
        self.travel = travel
        self.load = load
        self.unload = unload
        self.nearest = nearest
        self.vehicles = [_Vehicle(i, home) for i in range(count)]
        self.idle: deque[_Vehicle] = deque(self.vehicles)
        """Idle vehicles, longest idle first."""
        self.waiting: deque[_Request] = deque()
        self.requests_made = 0
        for vehicle in self.vehicles:
            log.vehicle(env.now, vehicle.index, _IDLE, -1, home)

    def request(self, request: _Request) -> None:
        """A job waits for a vehicle: send one, or queue the request."""
        self.requests_made += 1
        if not self.idle:
            self.waiting.append(request)
            return
        pickup = request.leg.origin.index
        if self.nearest:
            vehicle = min(self.idle, key=lambda v: self.travel[v.at][pickup])  # ties: longest idle
            self.idle.remove(vehicle)
        else:
            vehicle = self.idle.popleft()
        self._fetch(vehicle, request)

    def _fetch(self, vehicle: _Vehicle, request: _Request) -> None:
        pickup = request.leg.origin.index
        empty = self.travel[vehicle.at][pickup]
        if empty > 0:
            self.log.vehicle(self.env.now, vehicle.index, _EMPTY, request.job.id, pickup)
            self._after(empty, lambda: self._load(vehicle, request))
        else:
            self._load(vehicle, request)

    def _load(self, vehicle: _Vehicle, request: _Request) -> None:
        vehicle.at = request.leg.origin.index
        self.log.vehicle(self.env.now, vehicle.index, _LOADING, request.job.id, vehicle.at)
        # Always through the event queue, even for no time: the job leaves its machine only
        # after the machine has finished handing it over (it is blocked until then).
        Timeout(self.env, self.load()).callbacks.append(lambda _: self._depart(vehicle, request))

    def _depart(self, vehicle: _Vehicle, request: _Request) -> None:
        destination = request.leg.destination.index
        self.log.vehicle(self.env.now, vehicle.index, _LOADED, request.job.id, destination)
        request.holder.release()
        self._after(self.travel[vehicle.at][destination], lambda: self._unload(vehicle, request))

    def _unload(self, vehicle: _Vehicle, request: _Request) -> None:
        vehicle.at = request.leg.destination.index
        self.log.vehicle(self.env.now, vehicle.index, _UNLOADING, request.job.id, vehicle.at)
        self._after(self.unload(), lambda: self._drop(vehicle, request))

    def _drop(self, vehicle: _Vehicle, request: _Request) -> None:
        request.leg.deliver(request.job)
        if not self.waiting:
            self.log.vehicle(self.env.now, vehicle.index, _IDLE, -1, vehicle.at)
            self.idle.append(vehicle)
            return
        if self.nearest:
            chosen = min(self.waiting, key=lambda r: (self.travel[vehicle.at][r.leg.origin.index], r.order))
            self.waiting.remove(chosen)
        else:
            chosen = self.waiting.popleft()
        self._fetch(vehicle, chosen)

    def _after(self, delay: float, then: Callable[[], None]) -> None:
        if delay > 0:
            Timeout(self.env, delay).callbacks.append(lambda _: then())
        else:
            then()
