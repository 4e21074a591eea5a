"""Dispatching rules: which waiting job a free machine takes next.

A rule is a function ``(queue, now) -> index`` over the jobs waiting in a station's buffer, in
arrival order. Rules read only job attributes (``arrival``, ``entered``, ``due``,
``process_time``, ``remaining_work``, ``remaining_ops``), so they live with the model and
scenario files name them (``dispatching: spt``). Ties go to the job that entered the buffer
first, which makes every rule deterministic.

Rules that need more than the queue (``random`` its own random stream, ``atc`` the station's
mean process time) are built per station by a factory from a :class:`RuleContext`;
:func:`make_rule` builds any rule by name, simple or not.

=========  =====================================================================================
name       picks the job with
=========  =====================================================================================
``fifo``   the earliest entry into the buffer
``lifo``   the latest entry into the buffer
``spt``    the shortest (mean) process time here
``lpt``    the longest (mean) process time here
``edd``    the earliest due date (jobs without one last)
``mwkr``   the most work remaining (mean process time of this and all later operations)
``mopnr``  the most operations remaining (this one included)
``cr``     the smallest critical ratio ``(due - now) / remaining work``
``atc``    the largest apparent tardiness cost ``exp(-max(0, due - p - now) / (k * p_mean)) / p``
``atcd``   ATC with the downstream work in the slack: ``due - now - remaining work`` for ``due - p - now``
``random`` a uniformly random job, from the station's own stream ``dispatch:<station>``
=========  =====================================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "FACTORIES",
    "RULES",
    "QueuedJob",
    "Rule",
    "RuleContext",
    "RuleFactory",
    "atc",
    "make_rule",
    "random_rule",
    "rule_names",
]


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


@dataclass(frozen=True)
class RuleContext:
    """What a rule factory may know of the station it serves.

    Attributes:
        station: the station's name.
        mean_process_time: mean of the mean process times of the operations routed to the
            station (scenario time unit); ATC's scale.
        generator: returns the station's random generator (stream ``dispatch:<station>`` of
            the replication); called only by rules that draw random numbers.
    """

    station: str
    mean_process_time: float = 1.0
    generator: Callable[[], np.random.Generator] = lambda: np.random.default_rng(0)


RuleFactory = Callable[[RuleContext], Rule]


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


def mwkr(queue: Sequence[QueuedJob], now: float) -> int:
    """Most work remaining: the largest mean process time of this and all later operations."""
    return _first_min(queue, lambda job: -job.remaining_work)


def mopnr(queue: Sequence[QueuedJob], now: float) -> int:
    """Most operations remaining, this one included."""
    return _first_min(queue, lambda job: -job.remaining_ops)


def _critical_ratio(job: QueuedJob, now: float) -> float:
    # Zero remaining work (zero-length operations) is as urgent as it gets when late, and
    # harmless otherwise; jobs without a due date have infinite slack.
    if math.isinf(job.due):
        return math.inf
    slack = job.due - now
    return slack / job.remaining_work if job.remaining_work > 0 else math.copysign(math.inf, slack)


def cr(queue: Sequence[QueuedJob], now: float) -> int:
    """Smallest critical ratio ``(due - now) / remaining work``: below 1 the job is behind."""
    return _first_min(queue, lambda job: _critical_ratio(job, now))


def atc(k: float = 2.0, downstream: bool = False) -> RuleFactory:
    """Apparent tardiness cost (Vepsalainen & Morton 1987) with look-ahead ``k``.

    Priority ``exp(-max(0, due - p - now) / (k * p_mean)) / p`` (highest first), ``p`` the
    job's mean process time here and ``p_mean`` the station's mean process time: short jobs
    first, weighted up as their slack runs out. Jobs without a due date have priority 0;
    zero-length operations go first. With ``downstream`` the slack is the job's own in a
    multi-stage shop, ``due - now - remaining work`` (this and every later operation): a job
    with a long route ahead counts as late before its last operation could make it so (the
    job-shop form of ATC, as in Vepsalainen & Morton's multi-operation variant).

    Raises:
        ValueError: ``k`` is not positive.
    """
    if not k > 0:
        raise ValueError(f"ATC look-ahead k must be > 0 (got {k})")

    def factory(context: RuleContext) -> Rule:
        scale = k * max(context.mean_process_time, 1e-12)

        def priority(job: QueuedJob, now: float) -> float:
            p = job.process_time
            if p <= 0:
                return math.inf
            if math.isinf(job.due):
                return 0.0
            ahead = job.remaining_work if downstream else p
            return math.exp(-max(0.0, job.due - ahead - now) / scale) / p

        def rule(queue: Sequence[QueuedJob], now: float) -> int:
            return _first_min(queue, lambda job: -priority(job, now))

        return rule

    return factory


def random_rule(context: RuleContext) -> Rule:
    """A uniformly random job, drawn from the station's own stream (reproducible per seed)."""
    rng = context.generator()

    def rule(queue: Sequence[QueuedJob], now: float) -> int:
        return int(rng.integers(len(queue)))

    return rule


RULES: dict[str, Rule] = {
    "fifo": fifo,
    "lifo": lifo,
    "spt": spt,
    "lpt": lpt,
    "edd": edd,
    "mwkr": mwkr,
    "mopnr": mopnr,
    "cr": cr,
}
"""Rules that need nothing but the queue, by the name scenario files use."""

FACTORIES: dict[str, RuleFactory] = {"atc": atc(), "atcd": atc(downstream=True), "random": random_rule}
"""Rules built per station from a :class:`RuleContext`, by the name scenario files use."""


def make_rule(name: str, context: RuleContext) -> Rule:
    """The rule called ``name`` for the station described by ``context``.

    Raises:
        KeyError: no rule of that name (see :func:`rule_names`).
    """
    if name in RULES:
        return RULES[name]
    if name in FACTORIES:
        return FACTORIES[name](context)
    raise KeyError(f"unknown dispatching rule {name!r} (expected one of: {', '.join(rule_names())})")


def rule_names() -> list[str]:
    """Names a scenario's ``dispatching`` may take."""
    return sorted([*RULES, *FACTORIES])
