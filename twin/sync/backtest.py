"""``twin backtest``: a scenario run over a log's window, observed against predicted.

The scenario is simulated for its warm-up plus the length of the log's window, statistics over
the last part (so the predicted and the observed periods have the same length); the observed
KPIs come from the log by the same definitions (:mod:`twin.sync.observed`). For each KPI of
``twin run``: the observed value, the predicted mean with its 95% confidence interval, the
relative error ``(mean - observed) / observed``, and whether the observation falls inside the
95% prediction interval of one replication. The lead-time distributions are compared by
their Wasserstein (earth mover's) distance.

``--json`` (contract): ``{"window": [t0, t1], "kpis": {NAME: {"observed", "mean", "ci_low",
"ci_high", "error"}}}``, with ``replications``, ``prediction`` (``{NAME: {"low", "high",
"inside"}}``) and ``distances`` (``{"lead_time": {"wasserstein", "observed", "simulated"}}``)
beside them; undefined numbers are null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.measure.experiment import Result, simulate
from twin.measure.kpi import kpi_names
from twin.measure.labels import json_number
from twin.measure.stats import confidence_interval, prediction_interval
from twin.scenario import Scenario, parse_scenario
from twin.sim.log import JobEvent
from twin.sync.eventlog import read_log
from twin.sync.history import History, build_history
from twin.sync.hygiene import HygieneReport, repair_log
from twin.sync.observed import observed_kpis, observed_lead_times

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Backtest", "backtest", "run_backtest", "simulated_lead_times"]


@dataclass
class Backtest:
    """Observed against predicted: the table, the lead times behind the distance, the run."""

    table: pd.DataFrame
    """Index: KPI name. Columns: observed, mean, ci_low, ci_high, error, pi_low, pi_high, inside."""
    window: tuple[float, float]
    observed_lead_times: np.ndarray
    simulated_lead_times: np.ndarray
    result: Result
    hygiene: HygieneReport

    @property
    def wasserstein(self) -> float:
        """Earth mover's distance between the observed and simulated lead times (time units)."""
        from scipy import stats

        if not len(self.observed_lead_times) or not len(self.simulated_lead_times):
            return math.nan
        return float(stats.wasserstein_distance(self.observed_lead_times, self.simulated_lead_times))

    def to_json(self) -> dict[str, Any]:
        """The ``twin backtest --json`` document (see the module doc)."""
        kpis = {}
        prediction = {}
        for name, row in self.table.iterrows():
            kpis[str(name)] = {k: json_number(row[k]) for k in ("observed", "mean", "ci_low", "ci_high", "error")}
            prediction[str(name)] = {
                "low": json_number(row["pi_low"]),
                "high": json_number(row["pi_high"]),
                "inside": None if row["inside"] is None else bool(row["inside"]),
            }
        return {
            "window": [self.window[0], self.window[1]],
            "kpis": kpis,
            "replications": len(self.result.replications),
            "prediction": prediction,
            "distances": {
                "lead_time": {
                    "wasserstein": json_number(self.wasserstein),
                    "observed": len(self.observed_lead_times),
                    "simulated": len(self.simulated_lead_times),
                }
            },
        }


def simulated_lead_times(result: Result, start: float) -> np.ndarray:
    """Lead times of the jobs that left complete at or after ``start``, over all replications."""
    found = []
    for rep in result.replications:
        if rep.log is None:
            continue
        c = rep.log.columns()
        kind, time, job = c["job_kind"], c["job_time"], c["job_id"]
        arrival = np.zeros(len(c["job_product"]))
        arrives = kind == JobEvent.ARRIVE
        arrival[job[arrives]] = time[arrives]
        exits = (kind == JobEvent.EXIT) & (time >= start)
        found.append(time[exits] - arrival[job[exits]])
    return np.concatenate(found) if found else np.array([])


def _over_window(scenario: Scenario, length: float) -> Scenario:
    data = scenario.to_dict()
    data["horizon"] = scenario.warmup + length
    return parse_scenario(data)


def run_backtest(
    scenario: Scenario,
    log: str | Path | pd.DataFrame,
    replications: int | None = None,
    seed: int | None = None,
    progress: Any = None,
) -> Backtest:
    """Backtest ``scenario`` on ``log`` (see the module doc).

    Raises:
        LogError: the log cannot be read.
        ScenarioError: the log names a station or product the scenario lacks.
        ValueError: the log's window has no length.
    """
    import pandas as pd

    frame = log if not isinstance(log, str | Path) else read_log(log, time_unit=scenario.time_unit)
    source = str(log) if isinstance(log, str | Path) else str(frame.attrs.get("source", "log"))
    repaired, hygiene = repair_log(frame, {s: st.machines for s, st in scenario.stations.items()})
    history: History = build_history(repaired)
    if history.length <= 0:
        raise ValueError(f"{source}: the log's window has no length (every event at t={history.start:g})")
    observed = observed_kpis(history, scenario, source)
    run = _over_window(scenario, history.length)
    result = simulate(run, replications, seed, keep_events=True, progress=progress)
    rows = {}
    for name in kpi_names(scenario):
        values = result.kpis[name].to_numpy(float)
        mean, low, high = confidence_interval(values)
        pi_low, pi_high = prediction_interval(values)
        seen = observed.get(name, math.nan)
        error = (mean - seen) / seen if seen and math.isfinite(seen) and math.isfinite(mean) else math.nan
        inside = None if math.isnan(pi_low) or math.isnan(seen) else bool(pi_low <= seen <= pi_high)
        rows[name] = {
            "observed": seen,
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "error": error,
            "pi_low": pi_low,
            "pi_high": pi_high,
            "inside": inside,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return Backtest(
        table,
        (history.start, history.end),
        observed_lead_times(history),
        simulated_lead_times(result, run.warmup),
        result,
        hygiene,
    )


def backtest(scenario: Scenario, log: str | Path | pd.DataFrame, replications: int | None = None) -> pd.DataFrame:
    """Observed against predicted KPIs of ``scenario`` over ``log``'s window, one row per KPI
    (columns: observed, mean, ci_low, ci_high, error, pi_low, pi_high, inside);
    :func:`run_backtest` gives the lead-time distance and the run too.

    Raises:
        LogError: the log cannot be read.
        ScenarioError: the log names a station or product the scenario lacks.
    """
    return run_backtest(scenario, log, replications).table
