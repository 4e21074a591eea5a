"""KPIs as pure functions of the event log, over the window ``[warmup, end]``.

Levels (WIP, machine states) are time-weighted averages over the window; per-job figures
(lead time, tardiness) count the jobs that leave the plant inside the window; waits count the
operations that start inside it. Every time is in the scenario's ``time_unit``.

Names (contract, docs/architecture.md): ``throughput`` (jobs completed per time unit), ``wip_mean``,
``lead_time_mean``, ``tardiness_mean`` (0 for jobs without a due date), ``completed``, and per
station ``stations.<s>.utilization`` (busy), ``.wait_mean`` (time in the buffer), ``.blocked``,
``.starved`` (idle: nothing to work on or no operator free), ``.down``, ``.oee``
(availability x performance x quality). Extensions: ``scrapped``, per station ``.setup``,
``.off_shift`` and ``.maintenance`` (so that the state fractions of a station sum to 1), and
OEE's three factors ``.availability`` (planned time not lost to breakdowns or setups),
``.performance`` (ideal work over the time left: starving, blocking and slow cycles lower it)
and ``.quality`` (good share of the output: scrapped and reworked jobs are not good).

Features add theirs where a scenario declares them: ``reworked`` (jobs sent back for rework
in the window), ``energy`` and ``energy_per_job`` and per station ``.energy``
(:mod:`twin.measure.energy`), per batch station ``.batch_mean`` (jobs per batch started in
the window), and ``transport.utilization``, ``.empty_share``, ``.wait_mean``
(:mod:`twin.measure.vehicles`). A component consumed by assembly leaves the plant (WIP) at
its ASSEMBLED record; only EXIT counts as completed.

A run that keeps no log adds these up as it goes (:class:`twin.sim.tally.KpiTally`);
:func:`tally_kpis` turns its sums into the same KPIs through the same composition as
:func:`compute_kpis` (``_kpis``), so the two paths cannot drift apart in their definitions.

Every KPI also knows which way is good (:func:`kpi_direction`: more throughput is better,
more lead time worse) and the range it lies in (:func:`kpi_bounds`), for verdicts and for
confidence intervals that respect the range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from twin.measure.energy import station_energy
from twin.measure.vehicles import TRANSPORT_KPIS, transport_kpis
from twin.scenario import Scenario
from twin.scenario.memo import per_scenario
from twin.sim.log import EventLog, JobEvent, MachineState
from twin.sim.tally import KpiTally

__all__ = [
    "MAIN_KPIS",
    "OEE_PARTS",
    "STATE_KPIS",
    "Direction",
    "compute_kpis",
    "kpi_bounds",
    "kpi_direction",
    "kpi_names",
    "state_time",
    "step_average",
    "tally_kpis",
    "time_average",
    "wip_series",
]

STATE_KPIS = {
    MachineState.BUSY: "utilization",
    MachineState.IDLE: "starved",
    MachineState.BLOCKED: "blocked",
    MachineState.DOWN: "down",
    MachineState.SETUP: "setup",
    MachineState.OFF_SHIFT: "off_shift",
    MachineState.MAINTENANCE: "maintenance",
}
"""Per-station KPI holding the time fraction of each machine state."""

_ARRIVE, _ENTER, _SETUP, _START, _FINISH, _EXIT, _SCRAP, _REWORK, _ASSEMBLED = (
    int(event)
    for event in (
        JobEvent.ARRIVE,
        JobEvent.ENTER,
        JobEvent.SETUP,
        JobEvent.START,
        JobEvent.FINISH,
        JobEvent.EXIT,
        JobEvent.SCRAP,
        JobEvent.REWORK,
        JobEvent.ASSEMBLED,
    )
)
"""The job event codes as plain ints: numpy compares an array with an int several times
faster than with an ``IntEnum`` member, and the KPIs of a short run are mostly such compares."""


def _leaves(kind: np.ndarray) -> np.ndarray:
    """Which job records are a job leaving the plant (complete, scrapped or assembled)."""
    leaves: np.ndarray = (kind == _EXIT) | (kind == _SCRAP) | (kind == _ASSEMBLED)
    return leaves


MAIN_KPIS = ("throughput", "wip_mean", "lead_time_mean", "tardiness_mean")
"""The plant-level KPIs a summary shows first (sweep tables, comparison plots, dashboard)."""

OEE_PARTS = ("availability", "performance", "quality")
"""The per-station factors whose product is ``oee``."""

Direction = Literal["up", "down"]
"""Which way a KPI is better: ``up`` (more is better) or ``down`` (less is better)."""

_UP = {"throughput", "completed", "utilization", "oee", *OEE_PARTS}
_DOWN = {
    *("wip_mean", "lead_time_mean", "tardiness_mean", "scrapped", "reworked", "energy", "energy_per_job"),
    *("wait_mean", "blocked", "starved", "down", "setup", "transport.empty_share", "transport.wait_mean"),
}
_SHARES = {
    *("utilization", "blocked", "starved", "down", "setup", "off_shift", "maintenance", "availability", "quality"),
    *("transport.utilization", "transport.empty_share"),
}
"""KPIs in ``[0, 1]``. Not OEE and its performance factor: their ideal time is the mean process
time, so a replication whose draws ran shorter than the mean scores above 1."""


def kpi_direction(name: str) -> Direction | None:
    """Whether more of the KPI ``name`` is good (``up``), bad (``down``), or neither (None:
    off-shift and maintenance time are planned, not losses; jobs per batch and vehicle
    utilisation depend on the design; unknown names)."""
    kpi = name.rpartition(".")[2] if name.startswith("stations.") else name
    if kpi in _UP:
        return "up"
    if kpi in _DOWN:
        return "down"
    return None


def kpi_bounds(name: str) -> tuple[float, float | None]:
    """The range the KPI ``name`` lies in: ``(0, 1)`` for shares of time, availability and
    quality, ``(0, None)`` (never negative) for every other KPI, OEE and performance included."""
    kpi = name.rpartition(".")[2] if name.startswith("stations.") else name
    return (0.0, 1.0) if kpi in _SHARES else (0.0, None)


def kpi_names(scenario: Scenario) -> list[str]:
    """Every KPI a run of ``scenario`` reports, in table order."""
    stations = scenario.stations.values()
    names = ["throughput", "completed", "wip_mean", "lead_time_mean", "tardiness_mean", "scrapped"]
    if any(station.rework is not None for station in stations):
        names.append("reworked")
    if any(station.energy is not None for station in stations):
        names += ["energy", "energy_per_job"]
    if scenario.transport is not None and scenario.transport.vehicles is not None:
        names += TRANSPORT_KPIS
    for name, station in scenario.stations.items():
        kpis = ["utilization", "wait_mean", "blocked", "starved", "down", "oee", "setup", "off_shift", "maintenance"]
        kpis += list(OEE_PARTS)
        kpis += ["batch_mean"] if station.batch is not None else []
        kpis += ["energy"] if station.energy is not None else []
        names += [f"stations.{name}.{kpi}" for kpi in kpis]
    return names


def step_average(times: np.ndarray, levels: np.ndarray, edges: np.ndarray, initial: float = 0.0) -> np.ndarray:
    """Time average within each interval ``[edges[i], edges[i+1])`` of a step function that is
    ``initial`` before ``times[0]`` and ``levels[i]`` from ``times[i]`` on (``times`` ascending).

    The one integrator of step functions: WIP, buffer levels and machine counts over time all
    go through it, so the KPIs and the timeline views agree."""
    times = np.asarray(times, float)
    levels = np.asarray(levels, float)
    edges = np.asarray(edges, float)
    points = np.concatenate(([-np.inf], times))
    values = np.concatenate(([initial], levels))
    # Area under the step function from edges[0] to each edge.
    at = np.clip(points, edges[0], None)
    area_at_points = np.concatenate(([0.0], np.cumsum(values[:-1] * np.diff(at))))
    last = np.searchsorted(points, edges, side="right") - 1
    area = area_at_points[last] + values[last] * (edges - at[last])
    means: np.ndarray = np.diff(area) / np.diff(edges)
    return means


def time_average(times: np.ndarray, levels: np.ndarray, initial: float, start: float, end: float) -> float:
    """Time average over ``[start, end]`` of a step function (see :func:`step_average`); NaN
    for an empty window."""
    if end <= start:
        return float("nan")
    return float(step_average(times, levels, np.array([start, end]), initial)[0])


def wip_series(log: EventLog, edges: np.ndarray) -> np.ndarray:
    """Time-average WIP (jobs in the plant) within each interval ``[edges[i], edges[i+1])``."""
    cols = log.columns()
    kind, time = cols["job_kind"], cols["job_time"]
    moves = (kind == _ARRIVE) | _leaves(kind)
    level = np.cumsum(np.where(kind[moves] == _ARRIVE, 1.0, -1.0))
    return step_average(time[moves], level, edges)


CHUNK_RECORDS = 2_000_000
"""Records handled at once by the KPIs that sort: bounds their memory on very long runs."""


def _key_ranges(records: int, keys: int) -> Iterator[tuple[int, int]]:
    """Split the keys [0, keys) into ranges holding about CHUNK_RECORDS of ``records`` each."""
    step = keys if records <= CHUNK_RECORDS else max(1, int(keys * CHUNK_RECORDS / records))
    for low in range(0, keys, step):
        yield low, min(low + step, keys)


def state_time(log: EventLog, machines: int, start: float, end: float) -> np.ndarray:
    """Time each machine spent in each state within ``[start, end]``: shape (machines, states)."""
    return _state_time(log.columns(), machines, start, end)


def _state_time(cols: dict[str, np.ndarray], machines: int, start: float, end: float) -> np.ndarray:
    """:func:`state_time` of the log's ``columns()``."""
    states = len(MachineState)
    totals = np.zeros(machines * states)
    all_machines = cols["state_machine"]
    for low, high in _key_ranges(len(all_machines), machines):
        machine, times, code = all_machines, cols["state_time"], cols["state_code"]
        if (low, high) != (0, machines):
            rows = np.flatnonzero((all_machines >= low) & (all_machines < high))
            machine, times, code = machine[rows], times[rows], code[rows]
        order = np.argsort(machine, kind="stable")
        machine, times, code = machine[order], times[order], code[order]
        del order
        # Each record's state lasts until the machine's next record, or the end.
        spent = np.empty_like(times)
        spent[:-1] = times[1:]
        spent[-1:] = end
        spent[:-1][machine[1:] != machine[:-1]] = end
        np.clip(spent, start, end, out=spent)
        spent -= np.clip(times, start, end, out=times)
        totals += np.bincount(machine.astype(np.int64) * states + code, weights=spent, minlength=machines * states)
    return totals.reshape(machines, states)


def _waits(cols: dict[str, np.ndarray], start: float, end: float, stations: int) -> np.ndarray:
    """Mean time in buffer per station, for operations starting in the window."""
    total = np.zeros(stations)
    count = np.zeros(stations)
    kind_all, station_all = cols["job_kind"], cols["job_station"]
    relevant = (kind_all == _ENTER) | (kind_all == _SETUP) | (kind_all == _START)
    for low, high in _key_ranges(len(kind_all), stations):
        pick = np.flatnonzero(relevant & (station_all >= low) & (station_all < high))
        station, job, time, kind = (cols[c][pick] for c in ("job_station", "job_id", "job_time", "job_kind"))
        del pick
        # Per (station, job) the records run ENTER, [SETUP], START: the job left the buffer at
        # the SETUP record if there is one, else at the START record; its ENTER is just before.
        order = np.lexsort((job, station))
        station, time, kind = station[order], time[order], kind[order]
        starts = np.flatnonzero(kind == _START)
        taken = starts - (kind[starts - 1] == _SETUP)
        waits = time[taken] - time[taken - 1]
        inside = (time[starts] >= start) & (time[starts] <= end)
        where = station[starts][inside].astype(np.int64)
        total += np.bincount(where, weights=waits[inside], minlength=stations)
        count += np.bincount(where, minlength=stations)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


@per_scenario
def _ideal_times(scenario: Scenario) -> np.ndarray:
    """Mean process time of each product (rows) at each station (columns), for OEE; at a batch
    station the share of a full batch's time one job takes (read-only: kept per scenario)."""
    ideal = _compute_ideal_times(scenario)
    ideal.flags.writeable = False
    return ideal


def _compute_ideal_times(scenario: Scenario) -> np.ndarray:
    names = list(scenario.stations)
    ideal = np.zeros((len(scenario.products), len(names)))
    for p, (pname, product) in enumerate(scenario.products.items()):
        visits: dict[str, list[float]] = {}
        for step, op in enumerate(product.route):
            if not scenario.is_component_step(pname, step):
                visits.setdefault(op.station, []).append(scenario.process_time(pname, step).mean)
        for sname, means in visits.items():
            batch = scenario.stations[sname].batch
            mean = means[0] if len(means) == 1 else float(np.mean(means))  # the same number, faster
            ideal[p, names.index(sname)] = mean / (batch.size if batch is not None else 1)
    return ideal


def _batch_means(cols: dict[str, np.ndarray], scenario: Scenario, start: float, end: float) -> dict[int, float]:
    """Mean jobs per batch started in the window, per batch station index: the jobs of a
    batch start on one machine at one instant."""
    means: dict[int, float] = {}
    if all(station.batch is None for station in scenario.stations.values()):
        return means
    starts = (cols["job_kind"] == _START) & (cols["job_time"] >= start) & (cols["job_time"] <= end)
    for s, station in enumerate(scenario.stations.values()):
        if station.batch is None:
            continue
        mine = starts & (cols["job_station"] == s)
        batches = np.unique(np.stack([cols["job_machine"][mine], cols["job_time"][mine]]), axis=1).shape[1]
        means[s] = int(mine.sum()) / batches if batches else float("nan")
    return means


@dataclass(frozen=True)
class _Sums:
    """What the KPIs of a window are made of, from a log or from a tally."""

    completed: int
    lead_time_mean: float
    tardiness_mean: float
    wip_mean: float
    scrapped: int
    reworked: int
    per_station: np.ndarray
    """Time in each machine state, summed over each station's machines: stations x states."""
    waits: np.ndarray
    """Mean time in buffer per station (NaN where no operation started)."""
    ideal_work: np.ndarray
    """Ideal (mean) process time of the operations finished, per station."""
    done: np.ndarray
    """Operations finished per station."""
    station_scrapped: np.ndarray
    station_reworked: np.ndarray
    batches: dict[int, float]
    """Mean jobs per batch, per batch station index."""


def compute_kpis(log: EventLog, scenario: Scenario, start: float, end: float) -> dict[str, float]:
    """All KPIs (see module doc) of one replication's log over the window ``[start, end]``."""
    return _kpis(_log_sums(log, scenario, start, end), log, scenario, start, end)


def tally_kpis(tally: KpiTally, scenario: Scenario, end: float) -> dict[str, float]:
    """The KPIs of :func:`compute_kpis` from a replication's :class:`KpiTally` (closed at
    ``end``), over ``[tally.start, end]``: the same definitions, summed as the model ran."""
    sizes = [spec.machines for spec in scenario.stations.values()]
    stations = len(sizes)
    per_machine = np.array(tally.state_time).reshape(sum(sizes), len(MachineState))
    per_station = np.zeros((stations, per_machine.shape[1]))
    np.add.at(per_station, np.repeat(np.arange(stations), sizes), per_machine)
    finished = np.array(tally.finished_ops, dtype=float).reshape(stations, tally.products)
    completed = tally.completed
    length = end - tally.start
    with np.errstate(invalid="ignore", divide="ignore"):
        waits = np.array(tally.wait_sum) / np.array(tally.wait_count)
    sums = _Sums(
        completed=completed,
        lead_time_mean=tally.lead_sum / completed if completed else float("nan"),
        tardiness_mean=tally.late_sum / completed if completed else float("nan"),
        wip_mean=tally.wip_area / length if length > 0 else float("nan"),
        scrapped=tally.scrapped,
        reworked=tally.reworked,
        per_station=per_station,
        waits=waits,
        ideal_work=(finished * _ideal_times(scenario).T).sum(axis=1),
        done=finished.sum(axis=1),
        station_scrapped=np.array(tally.station_scrapped),
        station_reworked=np.array(tally.station_reworked),
        batches={s: tally.batch_starts[s] / count if count else float("nan") for s, count in tally.batches.items()},
    )
    return _kpis(sums, None, scenario, tally.start, end)


def _log_sums(log: EventLog, scenario: Scenario, start: float, end: float) -> _Sums:
    cols = log.columns()
    kind, time, job = cols["job_kind"], cols["job_time"], cols["job_id"]
    inside = (time >= start) & (time <= end)

    arrival = np.zeros(len(cols["job_product"]))
    arrivals = kind == _ARRIVE
    arrival[job[arrivals]] = time[arrivals]
    exits = (kind == _EXIT) & inside
    lead = time[exits] - arrival[job[exits]]
    late = np.maximum(0.0, time[exits] - cols["job_due"][job[exits]])

    moves = arrivals | _leaves(kind)
    step = np.where(kind[moves] == _ARRIVE, 1.0, -1.0)
    wip = time_average(time[moves], np.cumsum(step), 0.0, start, end)
    completed = int(exits.sum())
    reworks = (kind == _REWORK) & inside

    sizes = [spec.machines for spec in scenario.stations.values()]
    per_machine = _state_time(cols, sum(sizes), start, end)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    per_station = np.zeros((len(sizes), per_machine.shape[1]))
    np.add.at(per_station, owner, per_machine)

    finished = (kind == _FINISH) & inside
    finished_station = cols["job_station"][finished].astype(np.int64)
    ideal_work = np.bincount(
        finished_station,
        weights=_ideal_times(scenario)[cols["job_product"][job[finished]], finished_station],
        minlength=len(sizes),
    )
    scrap = (kind == _SCRAP) & inside
    return _Sums(
        completed=completed,
        lead_time_mean=float(lead.sum() / completed) if completed else float("nan"),  # mean(), the same sum, faster
        tardiness_mean=float(late.sum() / completed) if completed else float("nan"),
        wip_mean=wip,
        scrapped=int(scrap.sum()),
        reworked=int(reworks.sum()),
        per_station=per_station,
        waits=_waits(cols, start, end, len(sizes)),
        ideal_work=ideal_work,
        done=np.bincount(finished_station, minlength=len(sizes)),
        station_scrapped=np.bincount(cols["job_station"][scrap].astype(np.int64), minlength=len(sizes)),
        station_reworked=np.bincount(cols["job_station"][reworks].astype(np.int64), minlength=len(sizes)),
        batches=_batch_means(cols, scenario, start, end),
    )


def _kpis(sums: _Sums, log: EventLog | None, scenario: Scenario, start: float, end: float) -> dict[str, float]:
    """The KPI dictionary of ``sums`` (``log`` for the transport KPIs of a plant with vehicles)."""
    length = end - start
    completed = sums.completed
    kpis: dict[str, float] = {
        "throughput": completed / length if length > 0 else float("nan"),
        "completed": float(completed),
        "wip_mean": sums.wip_mean,
        "lead_time_mean": sums.lead_time_mean,
        "tardiness_mean": sums.tardiness_mean,
        "scrapped": float(sums.scrapped),
    }
    if any(station.rework is not None for station in scenario.stations.values()):
        kpis["reworked"] = float(sums.reworked)

    sizes = [spec.machines for spec in scenario.stations.values()]
    energy = station_energy(scenario, sums.per_station)
    # Python floats from here on: the same IEEE arithmetic as numpy's scalars, much faster.
    per_station, waits, ideal = sums.per_station.tolist(), sums.waits.tolist(), sums.ideal_work.tolist()
    done, scrapped, reworked = sums.done.tolist(), sums.station_scrapped.tolist(), sums.station_reworked.tolist()
    nan = float("nan")
    for s, (name, machines) in enumerate(zip(scenario.stations, sizes, strict=True)):
        capacity = machines * length
        times = per_station[s]
        for state, kpi in STATE_KPIS.items():
            kpis[f"stations.{name}.{kpi}"] = times[state] / capacity if capacity > 0 else nan
        kpis[f"stations.{name}.wait_mean"] = waits[s]
        # Planned time excludes what is planned not to produce: off shift and maintenance.
        planned = capacity - times[MachineState.OFF_SHIFT] - times[MachineState.MAINTENANCE]
        running = planned - times[MachineState.DOWN] - times[MachineState.SETUP]
        good = done[s] - scrapped[s] - reworked[s]
        quality = good / done[s] if done[s] else 1.0
        ideal_work = ideal[s]
        kpis[f"stations.{name}.oee"] = ideal_work * quality / planned if planned > 0 else nan
        # OEE = availability x performance x quality: running / planned x ideal / running x good share.
        kpis[f"stations.{name}.availability"] = running / planned if planned > 0 else nan
        kpis[f"stations.{name}.performance"] = ideal_work / running if running > 0 else nan
        kpis[f"stations.{name}.quality"] = float(quality)
        if s in sums.batches:
            kpis[f"stations.{name}.batch_mean"] = sums.batches[s]
        if name in energy:
            kpis[f"stations.{name}.energy"] = energy[name] / length if length > 0 else float("nan")
    if energy:
        total = sum(energy.values())
        kpis["energy"] = total / length if length > 0 else float("nan")
        kpis["energy_per_job"] = total / completed if completed else float("nan")
    transport = scenario.transport
    if transport is not None and transport.vehicles is not None:
        assert log is not None, "a plant with vehicles keeps its event log"
        kpis.update(transport_kpis(log, transport.vehicles.count, start, end))
    return kpis
