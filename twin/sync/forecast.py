"""Forecasts from the floor's present: replications started from a plant state.

:func:`forecast` runs ``replications`` of a scenario from one :class:`PlantState` over
``[T, T + H]`` and returns the ``twin forecast --json`` document (docs/architecture.md,
"Plant state and forecasts")::

    {"time": T, "horizon": H, "replications": R,
     "kpis": {NAME: {"mean", "ci_low", "ci_high"}},            # 95% t-intervals
     "completions": {"p10": [...], "p50": [...], "p90": [...],  # completions per bin (fan chart)
                     "bin": width, "start": [...],               # bin width (an hour) and starts
                     "total": {"mean", "p5", "p10", "p50", "p90", "p95"}},
     "jobs": [{"id", "due", "p10", "p50", "p90", "p_done", "p_late"}]}

Per job of the state, its completion-time quantiles (``null`` where that share of
replications had not completed it by ``T + H``), the share of replications that completed it
within the horizon, and the probability that it is late: not complete by its due date (a
scrapped job is late; a job without a due date never is). A job still in the plant at
``T + H`` counts as late, so for jobs due after ``T + H`` ``p_late`` is an upper bound.

Each replication is an independent task (scenario, state, replication, seed) run by the
executors of the sweeps (:mod:`twin.measure.executors`), so ``workers`` or ``engine="dask"``
give the same numbers. Interventions (``--set``) compared from one state with one seed use
common random numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.errors import Problem, ScenarioError
from twin.measure.executors import Engine, make_executor
from twin.measure.kpi import compute_kpis, kpi_names
from twin.measure.labels import json_number
from twin.measure.stats import confidence_interval
from twin.scenario import Scenario, hours_per_time_unit
from twin.scenario.state import PlantState
from twin.sim.log import JobEvent
from twin.sim.plant import Plant
from twin.sim.warmstart import warm_start_problems

__all__ = ["ForecastRun", "forecast", "forecast_replication", "forecast_scenario"]


@dataclass(frozen=True)
class ForecastRun:
    """What one replication from a state contributes to a forecast."""

    kpis: dict[str, float]
    per_bin: np.ndarray
    """Completions in each bin of the horizon."""
    done: dict[str, float]
    """Completion time of each state job completed within the horizon (by state id)."""
    scrapped: frozenset[str]
    """State jobs scrapped within the horizon."""


def forecast_scenario(scenario: Scenario, state: PlantState, horizon: float) -> Scenario:
    """``scenario`` set up to run ``horizon`` from ``state``.

    Raises:
        ScenarioError: the horizon is not positive, the state contradicts the scenario, or the
            scenario has a feature a warm start does not support (one problem each).
    """
    if not (horizon > 0 and math.isfinite(horizon)):
        raise ScenarioError([Problem("--horizon", "must be a positive number", str(horizon))])
    problems = warm_start_problems(scenario, state)
    if problems:
        raise ScenarioError(problems)
    return scenario.model_copy(update={"horizon": float(horizon), "warmup": 0.0})


def _bin_width(scenario: Scenario, horizon: float) -> float:
    """An hour in the scenario's time unit (a tenth of the horizon for a unit that is no time)."""
    hours = hours_per_time_unit(scenario.time_unit)
    return 1.0 / hours if hours else horizon / 10


def forecast_replication(
    scenario: Scenario, state: PlantState, replication: int, seed: int | None, bin_width: float
) -> ForecastRun:
    """One replication of ``scenario`` (its horizon set by :func:`forecast_scenario`) from ``state``."""
    plant = Plant(scenario, seed=seed, replication=replication, state=state)
    end = plant.run()
    start = plant.start
    kpis = compute_kpis(plant.log, scenario, start, end)
    columns = plant.log.columns()
    kind, time, job = columns["job_kind"], columns["job_time"], columns["job_id"]
    exits = kind == JobEvent.EXIT
    edges = np.arange(start, end + bin_width * 1e-9, bin_width)
    if edges[-1] < end:
        edges = np.append(edges, end)
    per_bin = np.histogram(time[exits & (time >= start)], bins=edges)[0].astype(np.int64)
    ids = plant.warm_ids
    done = {ids[int(j)]: float(t) for j, t in zip(job[exits], time[exits], strict=True) if int(j) in ids}
    scrapped = frozenset(ids[int(j)] for j in job[kind == JobEvent.SCRAP] if int(j) in ids)
    return ForecastRun(kpis, per_bin, done, scrapped)


def forecast(
    scenario: Scenario,
    state: PlantState,
    horizon: float,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    engine: Engine = "local",
    address: str | None = None,
) -> dict[str, Any]:
    """The forecast document (see the module doc) of ``horizon`` from ``state``.

    Args:
        replications: default the scenario's.
        seed: base seed (default the scenario's); the same seed gives the same forecast.
        workers, engine, address: where replications run (see :mod:`twin.measure.executors`).

    Raises:
        ScenarioError: see :func:`forecast_scenario`; fewer than one replication.
    """
    count = scenario.replications if replications is None else replications
    if count < 1:
        raise ScenarioError([Problem("--replications", "must be at least 1", str(count))])
    run = forecast_scenario(scenario, state, horizon)
    base_seed = scenario.seed if seed is None else seed
    width = _bin_width(run, horizon)
    executor = make_executor(min(workers, count), engine, address)
    found: dict[int, ForecastRun] = {}
    try:
        tasks = ((r, (run, state, r, base_seed, width)) for r in range(count))
        for r, result in executor.run(forecast_replication, tasks):
            found[r] = result
    finally:
        executor.close()
    runs = [found[r] for r in range(count)]
    return _document(run, state, horizon, width, runs)


def _document(
    scenario: Scenario, state: PlantState, horizon: float, width: float, runs: list[ForecastRun]
) -> dict[str, Any]:
    kpis = {}
    for name in kpi_names(scenario):
        values = np.array([r.kpis.get(name, math.nan) for r in runs], dtype=float)
        mean, low, high = confidence_interval(values)
        kpis[name] = {"mean": json_number(mean), "ci_low": json_number(low), "ci_high": json_number(high)}
    per_bin = np.vstack([r.per_bin for r in runs])
    totals = per_bin.sum(axis=1).astype(float)
    fan = {f"p{q}": [json_number(v) for v in np.percentile(per_bin, q, axis=0)] for q in (10, 50, 90)}
    completions = {
        **fan,
        "bin": width,
        "start": [state.time + i * width for i in range(per_bin.shape[1])],
        "total": {
            "mean": float(totals.mean()),
            **{f"p{q}": float(np.percentile(totals, q)) for q in (5, 10, 50, 90, 95)},
        },
    }
    return {
        "time": state.time,
        "horizon": horizon,
        "replications": len(runs),
        "kpis": kpis,
        "completions": completions,
        "jobs": [_job_entry(job.id, job.due, runs) for job in state.jobs],
    }


def _job_entry(job: str, due: float | None, runs: list[ForecastRun]) -> dict[str, Any]:
    times = np.array([r.done.get(job, math.inf) for r in runs], dtype=float)
    quantiles = np.quantile(times, [0.1, 0.5, 0.9], method="inverted_cdf")
    if due is None:
        late = 0.0
    else:
        late = float(np.mean([(t > due) or (job in r.scrapped) for t, r in zip(times, runs, strict=True)]))
    return {
        "id": job,
        "due": due,
        "p10": json_number(quantiles[0]),
        "p50": json_number(quantiles[1]),
        "p90": json_number(quantiles[2]),
        "p_done": float(np.isfinite(times).mean()),
        "p_late": late,
    }
