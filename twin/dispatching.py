"""Dispatching rules: which waiting job a free machine takes next.

A rule is a function ``(queue, now) -> index`` over the jobs waiting in a station's buffer, in
arrival order. Rules read only job attributes (``arrival``, ``entered``, ``due``,
``process_time``, ``remaining_work``, ``remaining_ops``), so they live with the model and
scenario files name them (``dispatching: spt``). Ties go to the job that entered the buffer
first, which makes every rule deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["RULES", "QueuedJob", "Rule", "rule_names"]


class QueuedJob(Protocol):
    """What a rule may read of a waiting job (times in the scenario's time unit)."""

    @property
    def entered(self) -> float:
        """When the job entered this station's buffer."""

    @property
    def due(self) -> float:
        """Due date (``inf`` when the job has none)."""

    @property
    def process_time(self) -> float:
        """Mean process time of the job's operation here."""

    @property
    def remaining_work(self) -> float:
        """Mean process time of this and all later operations."""

    @property
    def remaining_ops(self) -> int:
        """Operations left, this one included."""


Rule = Callable[[Sequence[QueuedJob], float], int]


def _first_min(queue: Sequence[QueuedJob], key: Callable[[QueuedJob], float]) -> int:
    best, best_key = 0, key(queue[0])
    for index in range(1, len(queue)):
        value = key(queue[index])
        if value < best_key:
            best, best_key = index, value
    return best


def fifo(queue: Sequence[QueuedJob], now: float) -> int:
    """First in, first out: the job that has waited longest."""
    return 0


def lifo(queue: Sequence[QueuedJob], now: float) -> int:
    """Last in, first out: the newest job."""
    return len(queue) - 1


def spt(queue: Sequence[QueuedJob], now: float) -> int:
    """Shortest (mean) processing time of the operation here."""
    return _first_min(queue, lambda job: job.process_time)


def lpt(queue: Sequence[QueuedJob], now: float) -> int:
    """Longest (mean) processing time of the operation here."""
    return _first_min(queue, lambda job: -job.process_time)


def edd(queue: Sequence[QueuedJob], now: float) -> int:
    """Earliest due date; jobs without one go last."""
    return _first_min(queue, lambda job: job.due)


RULES: dict[str, Rule] = {"fifo": fifo, "lifo": lifo, "spt": spt, "lpt": lpt, "edd": edd}
"""Rules by the name scenario files use."""


def rule_names() -> list[str]:
    """Names a scenario's ``dispatching`` may take."""
    return sorted(RULES)
