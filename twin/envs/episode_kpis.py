"""The KPIs of an env's episode, worked out when first read.

An episode's KPIs (:func:`twin.measure.kpi.compute_kpis` over its event log) cost about a
sixth of a whole ft10 episode, and a training loop never reads them: :class:`EpisodeKpis`
keeps what they are computed from and computes them at the first read, once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from twin.measure.kpi import compute_kpis
from twin.scenario import Scenario
from twin.sim.log import EventLog

__all__ = ["EpisodeKpis"]


class EpisodeKpis(Mapping[str, float]):
    """The KPIs of ``log`` over ``[start, end]``, computed on first access.

    Reads as the dict :func:`~twin.measure.kpi.compute_kpis` returns: ``kpis["throughput"]``,
    iteration in the same order, ``dict(kpis)``, ``kpis == other_dict``; a pickle or a copy
    of it is that plain dict (so a ``SubprocVecEnv`` sends a dict). The log must not grow
    after it is made (an episode's log does not: the env's next reset builds a new plant).
    """

    __slots__ = ("_source", "_values")

    def __init__(self, log: EventLog, scenario: Scenario, start: float, end: float) -> None:
        self._source: tuple[EventLog, Scenario, float, float] | None = (log, scenario, start, end)
        self._values: dict[str, float] | None = None

    def _computed(self) -> dict[str, float]:
        if self._values is None:
            assert self._source is not None
            self._values = compute_kpis(*self._source)
            self._source = None  # the log may go once the numbers are known
        return self._values

    def __getitem__(self, name: str) -> float:
        return self._computed()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._computed())

    def __len__(self) -> int:
        return len(self._computed())

    def __repr__(self) -> str:
        return repr(self._computed())

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (self._computed(),)
