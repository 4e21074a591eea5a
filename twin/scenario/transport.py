"""The ``transport:`` section of a scenario: fixed transport times, or an AGV fleet on a
network of distances.

A move of a job from one station to the next (along its route, or back for rework) takes
the leg's fixed time when ``times`` names the leg; otherwise, with ``vehicles``, a vehicle
carries it when both stations are in the ``distances`` network (the stations the fleet
serves), travelling its shortest path at ``speed``; otherwise it is instantaneous. Both
tables are symmetric unless both directions are given. Distances are in any length unit,
speed in that unit per time unit; times in the scenario's ``time_unit``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin.scenario.distributions import Constant, Distribution

__all__ = ["Transport", "Vehicles", "shortest_paths"]

Length = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Vehicles(_Model):
    """A fleet of identical vehicles (AGVs, forklifts) carrying one job at a time."""

    count: int = Field(1, ge=1, description="Vehicles in the fleet.")
    speed: float = Field(1.0, gt=0, allow_inf_nan=False, description="Distance units per time unit, loaded or empty.")
    load: Distribution = Field(
        default_factory=lambda: Constant(value=0.0), description="Time to load a job at its pickup station."
    )
    unload: Distribution = Field(
        default_factory=lambda: Constant(value=0.0), description="Time to unload it at its destination."
    )
    dispatching: Literal["nearest", "fcfs", "fifo"] = Field(
        "nearest",
        description="`nearest`: a new request takes the nearest idle vehicle, and a vehicle that "
        "frees takes the waiting request with the nearest pickup; `fcfs` (also written `fifo`): "
        "requests are served in the order they were made, by the vehicle idle the longest.",
    )
    home: str | None = Field(
        None, description="Station where every vehicle starts; default the first station named in `distances`."
    )


class Transport(_Model):
    """How jobs move between stations (docs/architecture.md, "Adding a station feature")."""

    vehicles: Vehicles | None = Field(None, description="An AGV fleet; omit for fixed times only.")
    distances: dict[str, dict[str, Length]] = Field(
        default_factory=dict,
        description="from station -> to station -> distance; symmetric unless both directions are "
        "given. Vehicles travel the shortest path of this network.",
    )
    times: dict[str, dict[str, Distribution]] = Field(
        default_factory=dict,
        description="from station -> to station -> fixed transport time (a conveyor, a hand-over), "
        "without vehicles; symmetric unless both directions are given.",
    )

    @model_validator(mode="after")
    def _vehicles_and_distances_go_together(self) -> Transport:
        if self.vehicles is not None and not self.distances:
            raise ValueError("`vehicles` need `distances` between the stations they serve")
        if self.vehicles is None and self.distances:
            raise ValueError("`distances` need `vehicles` to travel them (for fixed times give `times`)")
        return self

    def stations(self) -> list[str]:
        """Every station named in ``distances``, in order of first mention."""
        return list(dict.fromkeys(_names(self.distances)))

    def fixed_time(self, origin: str, destination: str) -> Distribution | None:
        """The fixed time of the leg ``origin -> destination`` (either direction as given), or None."""
        row = self.times.get(origin, {})
        if destination in row:
            return row[destination]
        return self.times.get(destination, {}).get(origin)

    def by_vehicle(self, origin: str, destination: str) -> bool:
        """Whether a vehicle carries the move ``origin -> destination``: there are vehicles,
        the leg has no fixed time, and both stations are in the distance network."""
        if self.vehicles is None or self.fixed_time(origin, destination) is not None:
            return False
        served = self.stations()
        return origin in served and destination in served

    def home(self) -> str:
        """Where the vehicles start."""
        if self.vehicles is not None and self.vehicles.home is not None:
            return self.vehicles.home
        return self.stations()[0]


def _names(table: dict[str, dict[str, float]]) -> Iterable[str]:
    for origin, row in table.items():
        yield origin
        yield from row


def shortest_paths(distances: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Length of the shortest path between every pair of stations of the network (``inf``
    where there is none), by Floyd-Warshall; an edge given one way only is taken both ways."""
    names = list(dict.fromkeys(_names(distances)))
    length = {a: {b: 0.0 if a == b else math.inf for b in names} for a in names}
    for origin, row in distances.items():
        for destination, distance in row.items():
            length[origin][destination] = distance
            if origin not in distances.get(destination, {}):
                length[destination][origin] = distance
    for via in names:
        through = length[via]
        for a in names:
            to_via = length[a][via]
            if to_via == math.inf:
                continue
            row = length[a]
            for b in names:
                if to_via + through[b] < row[b]:
                    row[b] = to_via + through[b]
    return length
