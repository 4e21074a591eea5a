"""What-if runs: a scenario with a few changes, simulated and stored as a named run.

The dashboard's What-if page collects changes (machines, buffers, dispatching rules, demand)
as scenario overrides, so a stored what-if run records exactly what it changed in its
``meta.json`` (``overrides``), like ``twin run --set``; its ``name`` is the label people gave it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from twin.measure.experiment import simulate
from twin.scenario import Scenario, apply_overrides, parse_scenario
from twin.scenario.distributions import scale_distribution
from twin.studies.store import write_run

__all__ = ["run_whatif", "whatif_overrides"]


def whatif_overrides(
    scenario: Scenario,
    machines: Mapping[str, int] | None = None,
    buffers: Mapping[str, int | None] | None = None,
    rules: Mapping[str, str] | None = None,
    demand: float = 1.0,
) -> dict[str, Any]:
    """The overrides (``{path: value}``) that make the changes, leaving out values that equal
    the scenario's.

    Args:
        machines, buffers, rules: per station; a buffer of None is unlimited.
        demand: arrival rate relative to the scenario's (1.2 = 20% more jobs per time unit);
            scales every product's inter-arrival time by ``1 / demand``.

    Raises:
        KeyError: a station that is not in the scenario.
        ValueError: ``demand`` is not positive.
    """
    overrides: dict[str, Any] = {}
    changes: tuple[tuple[str, Mapping[str, Any] | None], ...] = (
        ("machines", machines),
        ("buffer", buffers),
        ("dispatching", rules),
    )
    for field, given in changes:
        for station, value in (given or {}).items():
            if station not in scenario.stations:
                raise KeyError(f"no station {station!r} in scenario {scenario.name!r}")
            if value != getattr(scenario.stations[station], field):
                overrides[f"stations.{station}.{field}"] = value
    if not demand > 0:
        raise ValueError(f"demand must be > 0 (got {demand})")
    if demand != 1.0:
        data = scenario.to_dict()
        for name, product in data["products"].items():
            if "arrival" in product:
                overrides[f"products.{name}.arrival"] = scale_distribution(product["arrival"], 1.0 / demand)
    return overrides


def run_whatif(
    scenario: Scenario,
    overrides: Mapping[str, Any],
    root: str | Path,
    name: str,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Simulate ``scenario`` with ``overrides`` and store it, with its event log, as a run
    named ``name`` in the run store ``root``; return the run folder.

    Raises:
        ScenarioError: the overrides make an invalid scenario (nothing is run or written).
    """
    changed = parse_scenario(apply_overrides(scenario.to_dict(), overrides.items()))
    started = time.perf_counter()
    result = simulate(changed, replications, seed, keep_events=True, progress=progress)
    wall = time.perf_counter() - started
    return write_run(result, root, overrides=dict(overrides), events=True, wall_time_s=wall, extra_meta={"name": name})
