"""KPIs as pure functions of the event log, over the window ``[warmup, end]``.

Levels (WIP, machine states) are time-weighted averages over the window; per-job figures
(lead time, tardiness) count the jobs that leave the plant inside the window; waits count the
operations that start inside it. Every time is in the scenario's ``time_unit``.

Names (DESIGN.md contract): ``throughput`` (jobs completed per time unit), ``wip_mean``,
``lead_time_mean``, ``tardiness_mean`` (0 for jobs without a due date), ``completed``, and per
station ``stations.<s>.utilization`` (busy), ``.wait_mean`` (time in the buffer), ``.blocked``,
``.starved`` (idle: nothing to work on or no operator free), ``.down``, ``.oee``
(availability x performance x quality). Extensions: ``scrapped`` and per station ``.setup``
and ``.off_shift``, so that the state fractions of a station sum to 1.
"""

from __future__ import annotations

import numpy as np

from twin.scenario import Scenario
from twin.sim.log import EventLog, JobEvent, MachineState

__all__ = ["STATE_KPIS", "compute_kpis", "kpi_names", "state_time", "time_average"]

STATE_KPIS = {
    MachineState.BUSY: "utilization",
    MachineState.IDLE: "starved",
    MachineState.BLOCKED: "blocked",
    MachineState.DOWN: "down",
    MachineState.SETUP: "setup",
    MachineState.OFF_SHIFT: "off_shift",
}
"""Per-station KPI holding the time fraction of each machine state."""


def kpi_names(scenario: Scenario) -> list[str]:
    """Every KPI a run of ``scenario`` reports, in table order."""
    names = ["throughput", "completed", "wip_mean", "lead_time_mean", "tardiness_mean", "scrapped"]
    for station in scenario.stations:
        names += [
            f"stations.{station}.{kpi}"
            for kpi in ("utilization", "wait_mean", "blocked", "starved", "down", "oee", "setup", "off_shift")
        ]
    return names


def time_average(times: np.ndarray, levels: np.ndarray, initial: float, start: float, end: float) -> float:
    """Time average over ``[start, end]`` of a step function that is ``initial`` before
    ``times[0]`` and ``levels[i]`` from ``times[i]`` on (``times`` ascending)."""
    if end <= start:
        return float("nan")
    edges = np.clip(np.concatenate(([start], times, [end])), start, end)
    values = np.concatenate(([initial], levels))
    return float(np.dot(values, np.diff(edges)) / (end - start))


def state_time(log: EventLog, machines: int, start: float, end: float) -> np.ndarray:
    """Time each machine spent in each state within ``[start, end]``: shape (machines, states)."""
    cols = log.columns()
    order = np.argsort(cols["state_machine"], kind="stable")
    times = cols["state_time"][order]
    machine = cols["state_machine"][order].astype(np.int64)
    code = cols["state_code"][order].astype(np.int64)
    following = np.empty_like(times)
    following[:-1] = times[1:]
    if len(times):
        following[-1] = end
    last_of_machine = np.ones(len(times), dtype=bool)
    last_of_machine[:-1] = machine[1:] != machine[:-1]
    following[last_of_machine] = end
    spent = np.clip(following, start, end) - np.clip(times, start, end)
    states = len(MachineState)
    totals = np.bincount(machine * states + code, weights=spent, minlength=machines * states)
    return totals.reshape(machines, states)


def _waits(cols: dict[str, np.ndarray], start: float, end: float, stations: int) -> np.ndarray:
    """Mean time in buffer per station, for operations starting in the window."""
    kind = cols["job_kind"]
    mask = (kind == JobEvent.ENTER) | (kind == JobEvent.START)
    station, job, time, kind = cols["job_station"][mask], cols["job_id"][mask], cols["job_time"][mask], kind[mask]
    # Per (station, job) the records alternate ENTER, START: each START follows its ENTER.
    order = np.lexsort((job, station))
    station, time, kind = station[order], time[order], kind[order]
    starts = np.flatnonzero(kind == JobEvent.START)
    waits = time[starts] - time[starts - 1]
    inside = (time[starts] >= start) & (time[starts] <= end)
    where = station[starts][inside].astype(np.int64)
    total = np.bincount(where, weights=waits[inside], minlength=stations)
    count = np.bincount(where, minlength=stations)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _ideal_times(scenario: Scenario) -> np.ndarray:
    """Mean process time of each product (rows) at each station (columns), for OEE."""
    names = list(scenario.stations)
    ideal = np.zeros((len(scenario.products), len(names)))
    for p, (pname, product) in enumerate(scenario.products.items()):
        visits: dict[str, list[float]] = {}
        for step, op in enumerate(product.route):
            visits.setdefault(op.station, []).append(scenario.process_time(pname, step).mean)
        for sname, means in visits.items():
            ideal[p, names.index(sname)] = float(np.mean(means))
    return ideal


def compute_kpis(log: EventLog, scenario: Scenario, start: float, end: float) -> dict[str, float]:
    """All KPIs (see module doc) of one replication's log over the window ``[start, end]``."""
    cols = log.columns()
    length = end - start
    kind, time, job = cols["job_kind"], cols["job_time"], cols["job_id"]
    inside = (time >= start) & (time <= end)

    arrival = np.zeros(len(cols["job_product"]))
    arrivals = kind == JobEvent.ARRIVE
    arrival[job[arrivals]] = time[arrivals]
    exits = (kind == JobEvent.EXIT) & inside
    lead = time[exits] - arrival[job[exits]]
    late = np.maximum(0.0, time[exits] - cols["job_due"][job[exits]])

    moves = arrivals | (kind == JobEvent.EXIT) | (kind == JobEvent.SCRAP)
    step = np.where(kind[moves] == JobEvent.ARRIVE, 1.0, -1.0)
    wip = time_average(time[moves], np.cumsum(step), 0.0, start, end)

    completed = int(exits.sum())
    kpis: dict[str, float] = {
        "throughput": completed / length if length > 0 else float("nan"),
        "completed": float(completed),
        "wip_mean": wip,
        "lead_time_mean": float(lead.mean()) if completed else float("nan"),
        "tardiness_mean": float(late.mean()) if completed else float("nan"),
        "scrapped": float(((kind == JobEvent.SCRAP) & inside).sum()),
    }

    sizes = [spec.machines for spec in scenario.stations.values()]
    per_machine = state_time(log, sum(sizes), start, end)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    per_station = np.zeros((len(sizes), per_machine.shape[1]))
    np.add.at(per_station, owner, per_machine)
    waits = _waits(cols, start, end, len(sizes))

    finished = (kind == JobEvent.FINISH) & inside
    finished_station = cols["job_station"][finished].astype(np.int64)
    ideal_work = np.bincount(
        finished_station,
        weights=_ideal_times(scenario)[cols["job_product"][job[finished]], finished_station],
        minlength=len(sizes),
    )
    done = np.bincount(finished_station, minlength=len(sizes))
    scrap = (kind == JobEvent.SCRAP) & inside
    scrapped = np.bincount(cols["job_station"][scrap].astype(np.int64), minlength=len(sizes))

    for s, (name, machines) in enumerate(zip(scenario.stations, sizes, strict=True)):
        capacity = machines * length
        fractions = per_station[s] / capacity if capacity > 0 else np.full(per_station.shape[1], np.nan)
        for state, kpi in STATE_KPIS.items():
            kpis[f"stations.{name}.{kpi}"] = float(fractions[state])
        kpis[f"stations.{name}.wait_mean"] = float(waits[s])
        planned = capacity - per_station[s][MachineState.OFF_SHIFT]
        quality = (done[s] - scrapped[s]) / done[s] if done[s] else 1.0
        kpis[f"stations.{name}.oee"] = float(ideal_work[s] * quality / planned) if planned > 0 else float("nan")
    return kpis
