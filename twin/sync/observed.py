"""The KPIs a plant's log shows, by the very definitions of ``twin run``.

The log's history (:mod:`twin.sync.history`) is written into a :class:`twin.sim.log.EventLog`,
the twin's own in-memory log, job records and machine-state records alike, and
:func:`twin.measure.kpi.compute_kpis` computes the KPIs from it: there is one definition of
each KPI, and the observed and the simulated figures of a backtest cannot drift apart.

Machine states follow from the job rows (``setup`` -> setup, ``start`` -> busy, ``finish`` ->
blocked until the job leaves, then idle) with outages on top (``down`` until ``up``, then
back to what the machine was doing; ``maintenance`` until ``up`` likewise, in the
maintenance state). A component consumed by an assembly leaves the plant then (an ASSEMBLED
record), as in the twin's own log; a ``rework`` row is a REWORK record. Jobs that were
already in the plant when the log began count in WIP and throughput; their lead time is
unknown, so lead time and tardiness are taken over the jobs that arrived inside the log.
"""

from __future__ import annotations

import numpy as np

from twin.errors import Problem, ScenarioError
from twin.measure.kpi import compute_kpis
from twin.scenario import Scenario, parse_scenario
from twin.sim.log import EventLog, JobEvent, MachineState
from twin.sync.history import History

__all__ = ["observed_kpis", "observed_lead_times", "to_event_log"]

_PHASE_RANK = {"setup": 0, "start": 1, "finish": 2, "leave": 3}

_JOB_ORDER = (
    JobEvent.ARRIVE,
    JobEvent.ENTER,
    JobEvent.SETUP,
    JobEvent.START,
    JobEvent.FINISH,
    JobEvent.REWORK,
    JobEvent.SCRAP,
    JobEvent.ASSEMBLED,
    JobEvent.EXIT,
)
"""How job records of one instant are ordered (the order the twin's own log uses)."""


def _check_names(history: History, scenario: Scenario, source: str) -> None:
    problems = []
    for station in sorted(set(history.visits["station"]) | set(history.outages["station"])):
        if station not in scenario.stations:
            problems.append(Problem(source, f"station '{station}' is in the log but not in the scenario"))
    for product in sorted(set(history.jobs["product"]) - {""}):
        if product not in scenario.products:
            problems.append(Problem(source, f"product '{product}' is in the log but not in the scenario"))
    if problems:
        raise ScenarioError(problems)


def _machine_ids(history: History, scenario: Scenario) -> tuple[dict[tuple[str, str], int], list[int]]:
    """Plant-wide machine numbers: the scenario's stations in order, each with as many machines
    as the scenario declares or the log shows, whichever is more."""
    seen = history.machines()
    numbers: dict[tuple[str, str], int] = {}
    sizes = []
    offset = 0
    for station, spec in scenario.stations.items():
        ids = seen.get(station, [])
        for i, machine in enumerate(ids):
            numbers[(station, machine)] = offset + i
        size = max(spec.machines, len(ids))
        sizes.append(size)
        offset += size
    return numbers, sizes


def to_event_log(history: History, scenario: Scenario, source: str = "log") -> tuple[EventLog, Scenario]:
    """The history as the twin's event log, and the scenario resized to the machines the log
    shows (a station may have more machines at work than the scenario declares).

    Raises:
        ScenarioError: the log names a station or product the scenario does not have.
    """
    _check_names(history, scenario, source)
    numbers, sizes = _machine_ids(history, scenario)
    stations = {name: i for i, name in enumerate(scenario.stations)}
    products = {name: i for i, name in enumerate(scenario.products)}
    jobs = history.jobs
    job_number = {job: i for i, job in enumerate(jobs.index)}
    log = EventLog()
    log.job_product.extend(jobs["product"].map(products).fillna(0).astype(int).tolist())
    log.job_due.extend(np.where(np.isnan(jobs["due"].to_numpy(float)), np.inf, jobs["due"].to_numpy(float)).tolist())
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    _job_records(log, history, job_number, stations, numbers, offsets)
    _state_records(log, history, numbers, sum(sizes))
    data = scenario.to_dict()
    for (name, station), size in zip(scenario.stations.items(), sizes, strict=True):
        if size != station.machines:
            data["stations"][name]["machines"] = size
    resized = parse_scenario(data) if data != scenario.to_dict() else scenario
    return log, resized


def _job_records(
    log: EventLog,
    history: History,
    job_number: dict[str, int],
    stations: dict[str, int],
    numbers: dict[tuple[str, str], int],
    offsets: np.ndarray,
) -> None:
    visits = history.visits
    jobs = history.jobs
    job = visits["job"].map(job_number).to_numpy(np.int64)
    station = visits["station"].map(stations).to_numpy(np.int64)
    local = np.array(
        [numbers.get((s, m), -1) for s, m in zip(visits["station"], visits["machine"], strict=True)], dtype=np.int64
    )
    machine = np.where(local >= 0, local - offsets[station], -1)
    parts = []
    for kind, code in (
        ("enter", JobEvent.ENTER),
        ("setup", JobEvent.SETUP),
        ("start", JobEvent.START),
        ("finish", JobEvent.FINISH),
        ("scrap", JobEvent.SCRAP),
    ):
        times = visits[kind].to_numpy(float)
        has = ~np.isnan(times)
        on = machine[has] if kind != "enter" else np.full(has.sum(), -1)
        parts.append((times[has], job[has], station[has], on, np.full(has.sum(), int(code))))
    reworks = history.reworks[history.reworks["station"].isin(stations)]
    parts.append(
        (
            reworks["time"].to_numpy(float),
            reworks["job"].map(job_number).to_numpy(np.int64),
            reworks["station"].map(stations).to_numpy(np.int64),
            np.full(len(reworks), -1),
            np.full(len(reworks), int(JobEvent.REWORK)),
        )
    )
    all_jobs = np.arange(len(jobs))
    for kind, code in (("arrive", JobEvent.ARRIVE), ("exit", JobEvent.EXIT), ("assembled", JobEvent.ASSEMBLED)):
        times = jobs[kind].to_numpy(float)
        has = ~np.isnan(times)
        parts.append(
            (times[has], all_jobs[has], np.full(has.sum(), -1), np.full(has.sum(), -1), np.full(has.sum(), int(code)))
        )
    time, ids, where, on, kinds = (np.concatenate(column) for column in zip(*parts, strict=True))
    rank = np.zeros(max(JobEvent) + 1, np.int64)
    for i, code in enumerate(_JOB_ORDER):
        rank[code] = i
    rank = rank[kinds]
    order = np.lexsort((rank, time))
    log.job_time.extend(time[order].tolist())
    log.job_id.extend(ids[order].astype(int).tolist())
    log.job_station.extend(where[order].astype(int).tolist())
    log.job_machine.extend(on[order].astype(int).tolist())
    log.job_kind.extend(kinds[order].astype(int).tolist())


def _state_records(log: EventLog, history: History, numbers: dict[tuple[str, str], int], machines: int) -> None:
    """Machine states from the visits' phases, with outages laid over them."""
    visits = history.visits
    gid = np.array([numbers.get((s, m), -1) for s, m in zip(visits["station"], visits["machine"], strict=True)])
    on = gid >= 0
    rows = visits[on]
    gid = gid[on]
    begin = rows["setup"].fillna(rows["start"]).to_numpy(float)
    sequence = np.lexsort((begin, gid))
    position = np.empty(len(rows), np.int64)
    position[sequence] = np.arange(len(rows))
    parts: list[tuple[np.ndarray, ...]] = []
    phases = (
        ("leave", MachineState.IDLE),
        ("setup", MachineState.SETUP),
        ("start", MachineState.BUSY),
        ("finish", MachineState.BLOCKED),
    )
    for column, code in phases:
        times = rows[column].to_numpy(float)
        if column == "leave":
            times = np.where(np.isnan(rows["finish"].to_numpy(float)), np.nan, times)
        has = ~np.isnan(times)
        parts.append(
            (
                times[has],
                gid[has],
                position[has] * 4 + _PHASE_RANK[column],
                np.full(has.sum(), int(code)),
                np.zeros(has.sum()),
            )
        )
    outages = history.outages
    ogid = np.array(
        [numbers.get((s, m), -1) for s, m in zip(outages["station"], outages["machine"], strict=True)], dtype=np.int64
    )
    # An outage's start carries its state (DOWN or MAINTENANCE) as a negative phase below -2.
    out_code = np.where(outages["kind"].to_numpy() == "maintenance", MachineState.MAINTENANCE, MachineState.DOWN)
    for column, delta in (("down", 1.0), ("up", -1.0)):
        times = outages[column].to_numpy(float)
        has = ~np.isnan(times) & (ogid >= 0)
        marker = -3 - out_code[has] if delta > 0 else np.full(has.sum(), -1)
        parts.append((times[has], ogid[has], np.full(has.sum(), -1), marker, np.full(has.sum(), delta)))
    parts.append(
        (
            np.full(machines, history.start),
            np.arange(machines),
            np.full(machines, -2),
            np.full(machines, int(MachineState.IDLE)),
            np.zeros(machines),
        )
    )
    times, machine, seq, phase, step = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.lexsort((seq, times, machine))
    times, machine, phase, step = (column[order] for column in (times, machine, phase, step))
    boundaries = np.flatnonzero(np.diff(machine)) + 1
    down = np.zeros(len(times))
    current = np.zeros(len(times))
    outage = np.full(len(times), int(MachineState.DOWN))
    for chunk in np.split(np.arange(len(times)), boundaries):
        down[chunk] = np.clip(np.cumsum(step[chunk]), 0, 1)
        known = np.where(phase[chunk] >= 0, np.arange(len(chunk)), 0)
        current[chunk] = phase[chunk][np.maximum.accumulate(known)]
        started = np.where(phase[chunk] <= -3, np.arange(len(chunk)), 0)
        kind = phase[chunk][np.maximum.accumulate(started)]
        outage[chunk] = np.where(kind <= -3, -3 - kind, int(MachineState.DOWN))
    state = np.where(down > 0, outage, current)
    by_time = np.argsort(times, kind="stable")
    log.state_time.extend(times[by_time].tolist())
    log.state_machine.extend(machine[by_time].astype(int).tolist())
    log.state_code.extend(state[by_time].astype(int).tolist())


def observed_lead_times(history: History) -> np.ndarray:
    """Lead times of the jobs that arrived and left complete inside the log."""
    jobs = history.jobs[~history.jobs["cut"]]
    lead = (jobs["exit"] - jobs["arrive"]).to_numpy(float)
    complete: np.ndarray = lead[~np.isnan(lead)]
    return complete


def observed_kpis(history: History, scenario: Scenario, source: str = "log") -> dict[str, float]:
    """Every KPI of ``twin run`` over the log's window (see the module doc).

    Raises:
        ScenarioError: the log names a station or product the scenario does not have.
    """
    log, resized = to_event_log(history, scenario, source)
    kpis = compute_kpis(log, resized, history.start, history.end)
    jobs = history.jobs[~history.jobs["cut"] & history.jobs["exit"].notna()]
    lead = (jobs["exit"] - jobs["arrive"]).to_numpy(float)
    late = np.maximum(0.0, jobs["exit"].to_numpy(float) - jobs["due"].fillna(np.inf).to_numpy(float))
    kpis["lead_time_mean"] = float(lead.mean()) if len(lead) else float("nan")
    kpis["tardiness_mean"] = float(late.mean()) if len(late) else float("nan")
    return kpis
