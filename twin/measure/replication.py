"""One replication as a task: build the plant, run it, compute its KPIs.

Kept apart from :mod:`twin.measure.experiment` (which assembles results into pandas frames)
so that a worker process that runs replications imports the model and the KPIs, not the
statistics and table stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.measure.kpi import compute_kpis, tally_kpis
from twin.scenario import Scenario
from twin.scenario.state import PlantState
from twin.sim.log import EventLog
from twin.sim.plant import Plant

__all__ = ["Replication", "run_replication"]


@dataclass(frozen=True)
class Replication:
    """One replication: its KPIs, the counts behind the flow invariant, and its log."""

    index: int
    kpis: dict[str, float]
    end: float
    arrived: int
    left: int
    in_system: int
    log: EventLog | None


def run_replication(
    scenario: Scenario,
    replication: int,
    seed: int | None = None,
    keep_log: bool = False,
    state: PlantState | None = None,
    warmup: float | None = None,
) -> Replication:
    """Build and run one replication of ``scenario`` and compute its KPIs over ``[start +
    warmup, end]`` (``warmup``: the scenario's from empty, none from a ``state``); without
    ``keep_log`` the plant keeps only the KPI sums where it can (:class:`~twin.sim.tally.KpiTally`)."""
    start = state.time if state is not None else 0.0
    skip = warmup if warmup is not None else (0.0 if state is not None else scenario.warmup)
    plant = Plant(scenario, seed=seed, replication=replication, state=state, events=keep_log, kpi_start=start + skip)
    end = plant.run()
    if plant.tally is not None:
        kpis = tally_kpis(plant.tally, scenario, end)
    else:
        kpis = compute_kpis(plant.log, scenario, min(plant.start + skip, end), end)
    return Replication(
        replication, kpis, end, plant.arrived, plant.left, plant.in_system, plant.log if keep_log else None
    )
