"""Limits on what one token may ask: a rate per token and a simulation budget per request."""

from __future__ import annotations

import math
import threading
import time

__all__ = ["BudgetError", "RateLimiter", "check_budget"]


class BudgetError(ValueError):
    """A request asks for more simulation than the service allows; the message says how much."""


def check_budget(replications: int, horizon: float, stations: int, budget: float, points: int = 1) -> None:
    """Refuse a request whose replications x horizon x stations (x sweep points) exceeds ``budget``.

    Raises:
        BudgetError: over the budget.
    """
    cost = float(replications) * float(horizon) * stations * points
    if not cost <= budget:  # also refuses NaN
        what = "replications x horizon x stations" + (" x points" if points > 1 else "")
        raise BudgetError(f"{what}: over the budget of {budget:g} per request (got {cost:g})")


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, when)
        self._lock = threading.Lock()

    def acquire(self, key: str, now: float | None = None) -> float:
        """Take one request for ``key``: 0 when allowed, else the seconds until one is."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """The Retry-After header for a wait in seconds (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))
