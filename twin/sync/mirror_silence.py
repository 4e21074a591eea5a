"""Machines silent for longer than expected: a busy machine whose job should have finished,
a setup or a repair that should be over, judged against the scenario's mean times.

An idle or blocked machine may rightly say nothing for a long time (it waits for work or
room), so only the states with an expected end are judged. A machine is *silent* when it has
been in its state for more than :data:`SILENCE_FACTOR` times the mean duration of that state;
the mirror's health lists it, so an operator looks at a sensor that may have stopped talking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twin.scenario import Scenario

__all__ = ["SILENCE_FACTOR", "expected_duration", "silent_machines"]

SILENCE_FACTOR = 3.0
"""How many mean durations a machine may stay busy, in setup or down before it counts as silent."""


def _job_on(state: Mapping[str, Any], station: str, machine: str) -> Mapping[str, Any] | None:
    for job in state.get("jobs", []):
        if job.get("where") == "machine" and job.get("station") == station and job.get("machine") == machine:
            return job  # type: ignore[no-any-return]
    return None


def expected_duration(scenario: Scenario, state: Mapping[str, Any], machine: Mapping[str, Any]) -> float | None:
    """Mean time (scenario time unit) that ``machine`` of the plant state stays in its state,
    or None when the state has no expected end or the scenario does not say."""
    station = scenario.stations.get(str(machine.get("station")))
    if station is None:
        return None
    kind = machine.get("state")
    if kind == "down":
        return None if station.failures is None else station.failures.ttr.mean
    if kind == "setup":
        if station.setup is None:
            return None
        means = [d.mean for row in station.setup.matrix.values() for d in row.values()]
        return max([station.setup.default.mean, *means])
    if kind != "busy":
        return None
    job = _job_on(state, str(machine.get("station")), str(machine.get("machine")))
    if job is None or job.get("product") not in scenario.products:
        return None
    product, step = str(job["product"]), int(job.get("step", 0))
    if not 0 <= step < len(scenario.products[product].route):
        return None
    return scenario.process_time(product, step).mean


def silent_machines(scenario: Scenario, state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The machines of ``state`` silent for longer than expected at the state's time:
    ``{"station", "machine", "state", "since", "expected"}`` each."""
    now = float(state.get("time", 0.0))
    found = []
    for machine in state.get("machines", []):
        expected = expected_duration(scenario, state, machine)
        if expected is None or expected <= 0:
            continue
        if now - float(machine.get("since", now)) > SILENCE_FACTOR * expected:
            found.append(
                {
                    "station": machine["station"],
                    "machine": machine["machine"],
                    "state": machine["state"],
                    "since": machine["since"],
                    "expected": expected,
                }
            )
    return found
