"""The layout of a ``twin/Dispatch-v0`` observation: where each feature sits.

For ``S`` stations and ``Q`` candidate slots an observation is ``3 + 6 S + 7 Q`` numbers:

- global features (:data:`GLOBAL_FEATURES`), from ``0``;
- the deciding station's one-hot (``S``), from ``Layout.deciding``;
- per station :data:`STATION_FEATURES`, from ``Layout.station(0)``;
- per candidate slot :data:`JOB_FEATURES`, from ``Layout.candidate(0)``.

The env writes features at these named offsets and policies read them from here, so the
layout is defined once (the meaning of each feature is in the env's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GLOBAL_FEATURES",
    "GLOBAL_PENDING",
    "GLOBAL_PROGRESS",
    "GLOBAL_WIP",
    "JOB_FEATURES",
    "JOB_NEXT_QUEUE",
    "JOB_PRESENT",
    "JOB_PROCESS_TIME",
    "JOB_REMAINING_OPS",
    "JOB_REMAINING_WORK",
    "JOB_SLACK",
    "JOB_WAITED",
    "STATION_BUSY",
    "STATION_FEATURES",
    "STATION_IN_PROGRESS",
    "STATION_QUEUE",
    "STATION_UNAVAILABLE",
    "STATION_WORK",
    "Layout",
]

# Global features
GLOBAL_PROGRESS = 0
GLOBAL_WIP = 1
GLOBAL_PENDING = 2
GLOBAL_FEATURES = 3

# Per-station features
STATION_QUEUE = 0
STATION_BUSY = 1
STATION_UNAVAILABLE = 2
STATION_WORK = 3
STATION_IN_PROGRESS = 4
STATION_FEATURES = 5

# Per-candidate features
JOB_PRESENT = 0
JOB_PROCESS_TIME = 1
JOB_REMAINING_WORK = 2
JOB_REMAINING_OPS = 3
JOB_WAITED = 4
JOB_SLACK = 5
JOB_NEXT_QUEUE = 6
JOB_FEATURES = 7


@dataclass(frozen=True)
class Layout:
    """Offsets of the blocks of an observation with ``stations`` stations and ``max_queue`` slots."""

    stations: int
    max_queue: int

    @classmethod
    def of_size(cls, size: int, max_queue: int) -> Layout:
        """The layout of an observation of ``size`` numbers with ``max_queue`` slots.

        Raises:
            ValueError: no whole number of stations fits (the size is not ``3 + 6 S + 7 Q``).
        """
        rest = size - GLOBAL_FEATURES - JOB_FEATURES * max_queue
        per_station = 1 + STATION_FEATURES
        if rest <= 0 or rest % per_station:
            raise ValueError(
                f"observation size {size} is not {GLOBAL_FEATURES} + {per_station} * stations + "
                f"{JOB_FEATURES} * max_queue with max_queue={max_queue}"
            )
        return cls(rest // per_station, max_queue)

    @property
    def size(self) -> int:
        """Numbers in the observation."""
        return GLOBAL_FEATURES + (1 + STATION_FEATURES) * self.stations + JOB_FEATURES * self.max_queue

    @property
    def deciding(self) -> int:
        """Start of the deciding station's one-hot block."""
        return GLOBAL_FEATURES

    def station(self, index: int) -> int:
        """Start of station ``index``'s features."""
        return GLOBAL_FEATURES + self.stations + STATION_FEATURES * index

    def candidate(self, slot: int) -> int:
        """Start of candidate slot ``slot``'s features."""
        return GLOBAL_FEATURES + (1 + STATION_FEATURES) * self.stations + JOB_FEATURES * slot
