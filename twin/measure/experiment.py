"""Replications and their summary: what ``twin run`` and :func:`twin.simulate` do.

Replication ``r`` of a run with seed ``s`` draws from ``SeedSequence(s, spawn_key=(r, ...))``
(see :mod:`twin.sim.streams`), so each replication is an independent task whose result
depends only on (scenario, seed, r): the same in any process, in any order. A replication
itself is :mod:`twin.measure.replication`, which a worker process imports without pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.measure.executors import Engine, make_executor
from twin.measure.kpi import kpi_bounds, kpi_names
from twin.measure.labels import json_number
from twin.measure.replication import Replication, run_replication
from twin.measure.stats import bounded_interval
from twin.scenario import Scenario
from twin.scenario.state import PlantState
from twin.sim.log import JobEvent, MachineState, VehicleState

__all__ = [
    "Replication",
    "Result",
    "events_frame",
    "result_of",
    "run_replication",
    "simulate",
]


def events_frame(scenario: Scenario, replications: list[Replication]) -> pd.DataFrame:
    """The logs of ``replications`` as one table, time-ordered within each replication.

    Columns: ``replication``, ``time``, ``event`` (a :class:`JobEvent` name, ``STATE`` or
    ``VEHICLE``), ``job`` and ``product`` (job events; on vehicle records the job loaded or
    driven to, -1 and "" when idle), ``station``, ``machine`` (index within the station; the
    vehicle's number on vehicle records), ``state`` (a :class:`MachineState` label on state
    records, a :class:`VehicleState` label on vehicle records). A vehicle record's station is
    where the vehicle is, or where it is heading while it drives.
    """
    stations = np.array([*scenario.stations, ""], dtype=object)
    products = np.array(list(scenario.products), dtype=object)
    machine_station = np.repeat(np.arange(len(scenario.stations)), [s.machines for s in scenario.stations.values()])
    machine_index = np.concatenate([np.arange(s.machines) for s in scenario.stations.values()])
    event_names = np.array([e.name for e in JobEvent] + ["STATE"], dtype=object)
    state_names = np.array([s.label for s in MachineState] + [""], dtype=object)
    vehicle_states = np.array([s.label for s in VehicleState], dtype=object)
    products_or_none = np.array([*products, ""], dtype=object)
    frames = []
    for rep in replications:
        if rep.log is None:
            raise ValueError(f"replication {rep.index} kept no event log (simulate with keep_events=True)")
        c = rep.log.columns()
        n_jobs, n_states, n_vehicles = len(c["job_time"]), len(c["state_time"]), len(c["vehicle_time"])
        gid = c["state_machine"].astype(np.int64)
        carried = c["vehicle_job"].astype(np.int64)
        carried_product = np.where(carried >= 0, np.asarray(c["job_product"], np.int64)[np.maximum(carried, 0)], -1)
        frame = pd.DataFrame(
            {
                "replication": np.full(n_jobs + n_states + n_vehicles, rep.index, dtype=np.int32),
                "time": np.concatenate([c["job_time"], c["state_time"], c["vehicle_time"]]),
                "event": np.concatenate(
                    [
                        event_names[c["job_kind"]],
                        np.full(n_states, "STATE", dtype=object),
                        np.full(n_vehicles, "VEHICLE", dtype=object),
                    ]
                ),
                "job": np.concatenate([c["job_id"], np.full(n_states, -1), carried]).astype(np.int32),
                "product": np.concatenate(
                    [
                        products[c["job_product"][c["job_id"]]],
                        np.full(n_states, "", dtype=object),
                        products_or_none[carried_product],
                    ]
                ),
                "station": np.concatenate(
                    [stations[c["job_station"]], stations[machine_station[gid]], stations[c["vehicle_station"]]]
                ),
                "machine": np.concatenate([c["job_machine"], machine_index[gid], c["vehicle_id"]]).astype(np.int16),
                "state": np.concatenate(
                    [
                        np.full(n_jobs, "", dtype=object),
                        state_names[c["state_code"]],
                        vehicle_states[c["vehicle_state"]],
                    ]
                ),
            }
        )
        frames.append(frame.sort_values("time", kind="stable"))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


@dataclass
class Result:
    """The outcome of :func:`simulate`.

    Attributes:
        scenario: the scenario run (after overrides).
        seed: the base seed used.
        kpis: one row per replication, one column per KPI (see :mod:`twin.measure.kpi`).
        replications: each replication's counts (and log when kept).
    """

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    replications: list[Replication] = field(repr=False)

    def summary_dict(self, level: float = 0.95) -> dict[str, dict[str, float]]:
        """``{KPI: {"mean", "ci_low", "ci_high"}}``: ``level`` t-intervals over replications,
        kept inside the KPI's range (:func:`~twin.measure.stats.bounded_interval`: a lead time's
        never reaches below 0, a utilisation's never above 1)."""
        rows = {}
        for name in self.kpis.columns:
            if name != "replication":
                values = self.kpis[name].to_numpy(float)
                mean, low, high = bounded_interval(values, *kpi_bounds(str(name)), level)
                rows[str(name)] = {"mean": mean, "ci_low": low, "ci_high": high}
        return rows

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and ``level`` interval (as :meth:`summary_dict`) of each KPI over replications (index: KPI name)."""
        return pd.DataFrame.from_dict(self.summary_dict(level), orient="index")

    @property
    def events(self) -> pd.DataFrame | None:
        """Every replication's event log as a table (see :func:`events_frame`), or None if
        the logs were not kept."""
        if any(rep.log is None for rep in self.replications):
            return None
        return events_frame(self.scenario, self.replications)

    def to_json(self) -> dict[str, object]:
        """The ``twin run --json`` document (docs/architecture.md, JSON documents); NaN becomes null."""

        return {
            "scenario": self.scenario.name,
            "replications": len(self.replications),
            "kpis": {
                name: {key: json_number(value) for key, value in row.items()}
                for name, row in self.summary_dict().items()
            },
        }


def simulate(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    keep_events: bool = True,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    engine: Engine = "local",
    address: str | None = None,
    state: PlantState | None = None,
    warmup: float | None = None,
) -> Result:
    """Run ``replications`` independent replications of ``scenario`` (its own settings when
    None) and collect their KPIs; the result is the same whichever executor runs them.

    Args:
        state: start every replication from this plant state (:mod:`twin.sim.warmstart`):
            the horizon counts from its time, KPIs cover ``[T, T + horizon]``.
        warmup: time left out of the statistics from the start (default: the scenario's
            from empty, none from a state).
        keep_events: keep each replication's event log (``Result.events``); turn off for
            long runs to save memory.
        progress: called with the number of replications done after each one.
        workers, engine, address: where replications run (see :mod:`twin.measure.executors`).
    """
    count = scenario.replications if replications is None else replications
    if count < 1:
        raise ValueError(f"replications must be >= 1 (got {count})")
    base_seed = scenario.seed if seed is None else seed
    executor = make_executor(min(workers, count), engine, address)
    done: dict[int, Replication] = {}
    try:
        tasks = ((r, (scenario, r, base_seed, keep_events, state, warmup)) for r in range(count))
        for r, replication in executor.run(run_replication, tasks):
            done[r] = replication
            if progress is not None:
                progress(len(done))
    finally:
        executor.close()
    return result_of(scenario, base_seed, [done[r] for r in range(count)])


def result_of(scenario: Scenario, seed: int, replications: list[Replication]) -> Result:
    """Assemble a :class:`Result` from replications ordered by index."""
    frame = pd.DataFrame([rep.kpis for rep in replications], columns=kpi_names(scenario))
    frame.insert(0, "replication", np.array([rep.index for rep in replications], dtype=np.int64))
    return Result(scenario, seed, frame, replications)
