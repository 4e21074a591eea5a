"""How big a run may be, checked before it starts: time that cannot pass, and sizes past a
documented limit, are errors with the field that causes them.

A run whose arrivals or failures come at zero mean intervals never advances simulated time
and fills memory; one with a million machines or 10^30 jobs would not end in a lifetime.
These checks turn both into ``path: message (got X)`` lines before anything is simulated
(the limits are in the README's "Limits" section).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from twin.errors import Problem, show
from twin.scenario.schema import Scenario

__all__ = [
    "MAX_FAILURES",
    "MAX_JOBS",
    "MAX_MACHINES",
    "MAX_REPLICATIONS",
    "MAX_TOTAL_JOBS",
    "SIZE_CHECKS",
    "expected_jobs",
    "run_size_problems",
]

MAX_MACHINES = 10_000
"""Machines in the whole plant."""

MAX_REPLICATIONS = 10_000
"""Replications of one run."""

MAX_JOBS = 10_000_000
"""Jobs expected in one replication: horizon / mean inter-arrival time of every open stream,
plus the quantities of every released order."""

MAX_TOTAL_JOBS = 1_000_000_000
"""Jobs expected over all replications of one run."""

MAX_FAILURES = 10_000_000
"""Failures expected in one replication: machines x horizon / mean time to failure."""


def _time_passes(s: Scenario) -> Iterable[Problem]:
    for pname, product in s.products.items():
        if product.arrival is not None and not product.arrival.mean > 0:
            yield Problem(
                f"products.{pname}.arrival",
                "mean inter-arrival time must be > 0: jobs would arrive without time passing",
                show(product.arrival.mean),
            )
    for sname, station in s.stations.items():
        if station.failures is not None and not station.failures.ttf.mean > 0:
            yield Problem(
                f"stations.{sname}.failures.ttf",
                "mean time to failure must be > 0: failures would repeat without time passing",
                show(station.failures.ttf.mean),
            )


def expected_jobs(s: Scenario) -> float:
    """Jobs expected in one replication (open streams over the horizon, released orders, static jobs)."""
    jobs = 0.0
    for product in s.products.values():
        if product.arrival is not None:
            mean = product.arrival.mean
            jobs += (s.horizon or 0.0) / mean if mean > 0 else math.inf
        elif product.release is not None:
            jobs += sum(order.quantity for order in product.release)
        else:
            jobs += 1
    return jobs


def _machines_fit(s: Scenario) -> Iterable[Problem]:
    total = sum(station.machines for station in s.stations.values())
    if total > MAX_MACHINES:
        yield Problem("stations", f"more than {MAX_MACHINES} machines in the plant", show(total))


def _jobs_fit(s: Scenario) -> Iterable[Problem]:
    jobs = expected_jobs(s)
    if math.isfinite(jobs) and jobs > MAX_JOBS:
        where = "horizon" if s.horizon is not None else "products"
        yield Problem(
            where, f"about {jobs:.3g} jobs per replication; the limit is {MAX_JOBS:.0e}", show(s.horizon or jobs)
        )


def _failures_fit(s: Scenario) -> Iterable[Problem]:
    if s.horizon is None:
        return
    for sname, station in s.stations.items():
        if station.failures is None or not station.failures.ttf.mean > 0:
            continue
        failures = station.machines * s.horizon / station.failures.ttf.mean
        if failures > MAX_FAILURES:
            yield Problem(
                f"stations.{sname}.failures.ttf",
                f"about {failures:.3g} failures per replication; the limit is {MAX_FAILURES:.0e}",
                show(station.failures.ttf.mean),
            )


def run_size_problems(s: Scenario, replications: int, where: str = "replications") -> list[Problem]:
    """Problems with running ``replications`` replications of ``s`` (``where`` names the
    setting that asks for them, e.g. ``--replications``)."""
    if replications > MAX_REPLICATIONS:
        return [Problem(where, f"must be <= {MAX_REPLICATIONS}", show(replications))]
    jobs = expected_jobs(s)
    if math.isfinite(jobs) and jobs <= MAX_JOBS and jobs * replications > MAX_TOTAL_JOBS:
        return [
            Problem(
                where,
                f"about {jobs * replications:.3g} jobs over all replications; the limit is {MAX_TOTAL_JOBS:.0e}",
                show(replications),
            )
        ]
    return []


def _replications_fit(s: Scenario) -> Iterable[Problem]:
    yield from run_size_problems(s, s.replications)


SIZE_CHECKS = (_time_passes, _machines_fit, _jobs_fit, _failures_fit, _replications_fit)
"""The checks of this module, in the order their problems are reported."""
