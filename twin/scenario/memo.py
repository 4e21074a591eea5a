"""What is worked out from a scenario once, not at every plant built from it.

A plant is built for every replication and every env episode, and each build asked the
scenario the same questions again (each step's process-time distribution, the mean work left
along a route, the mean times rules may know). Scenarios are immutable (frozen models,
changed only by copying), so an answer is kept for as long as the scenario object lives.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from twin.scenario.schema import Scenario

__all__ = ["per_scenario"]

T = TypeVar("T")


def per_scenario(compute: Callable[[Scenario], T]) -> Callable[[Scenario], T]:
    """``compute`` run once per scenario object (by identity, not equality: a copy is asked
    again), its answer dropped with the scenario. The answer is shared: keep it immutable."""
    answers: dict[int, tuple[weakref.ref[Scenario], T]] = {}

    def forget(key: int, ref: weakref.ref[Scenario]) -> None:
        if key in answers and answers[key][0] is ref:
            del answers[key]

    @functools.wraps(compute)
    def cached(scenario: Scenario) -> T:
        key = id(scenario)
        kept = answers.get(key)
        if kept is not None and kept[0]() is scenario:
            return kept[1]
        answer = compute(scenario)
        answers[key] = (weakref.ref(scenario, functools.partial(forget, key)), answer)
        return answer

    return cached
