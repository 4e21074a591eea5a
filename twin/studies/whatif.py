"""What-if runs: a scenario with a few changes, simulated and stored as a named run.

The dashboard's scenario editor collects changes (any station's or product's settings,
operators, shifts, demand) as scenario overrides, so a stored what-if run records exactly
what it changed in its ``meta.json`` (``overrides``), like ``twin run --set``; its ``name`` is
the label people gave it. :func:`run_against_base` runs a changed scenario and its base with
the same seed and replications (common random numbers, so the comparison is paired), reusing
a stored run of the base when there is one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from twin.measure.experiment import simulate
from twin.scenario import Scenario, apply_overrides, changes_between, parse_scenario, scenario_to_yaml
from twin.scenario.distributions import scale_distribution
from twin.studies.store import find_run_of, ran_as, write_run

__all__ = ["run_against_base", "run_whatif", "whatif_overrides"]


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


def run_against_base(
    base: Scenario,
    changed: Scenario,
    root: str | Path,
    name: str,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Path, Path]:
    """Store ``changed`` as a what-if run of ``base`` named ``name`` (its overrides: what
    differs from ``base``) and return ``(base run, changed run)``. The base run is a stored
    run of exactly ``base`` with this seed and these replications when the store has one,
    else it is simulated and stored too (named ``<base name> (base)``).

    Raises:
        ScenarioError: the changes make an invalid scenario (nothing is run or written).
    """
    count = replications or base.replications
    chosen = base.seed if seed is None else seed
    overrides = changes_between(base.to_dict(), changed.to_dict())
    parse_scenario(apply_overrides(base.to_dict(), overrides.items()))  # refuse before simulating anything
    reference = find_run_of(root, scenario_to_yaml(ran_as(base, chosen, count)), chosen, count)
    if reference is None:
        reference = run_whatif(base, {}, root, f"{base.name} (base)", count, chosen, progress)
    return reference, run_whatif(base, overrides, root, name, count, chosen, progress)
