"""Plants with known parameters, simulated by Ciw (an independent queueing library), written
as canonical event logs: the logs the twin did not write, for calibration and forecast tests.

Describe a plant with :class:`Plant` (distributions as scenario-style dicts such as
``{"dist": "gamma", "shape": 2, "scale": 1.5}``, turned into Ciw's own distributions), run it
with :func:`simulate_plant`, and compare what the twin infers with the plant's parameters and
with the KPIs :meth:`PlantLog.kpis` computes straight from Ciw's records (not from the log,
and with none of the twin's code).

How the plant maps onto Ciw: a station is a node with ``machines`` servers and a waiting room
of ``buffer`` (Ciw's blocking after service when it is full, as in the twin); a product is a
customer class with its own arrivals at its first station and process-based routing along
its route; scrap truncates the route at the station where the job is scrapped (decided on
arrival, with the station's probability); calendar-time breakdowns are drawn per machine in
advance (up ~ ttf, down ~ ttr, alternating) and stretch the operation in hand by the
downtime inside it, the operation resuming where it stopped; a free machine that is down is
chosen only when no free machine is up, and its job starts when it is repaired.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ciw
import numpy as np
import pandas as pd

__all__ = [
    "WEEK",
    "Failures",
    "Plant",
    "PlantLog",
    "Product",
    "Station",
    "ciw_distribution",
    "distribution_mean",
    "simulate_plant",
    "two_product_line",
]

Dist = Mapping[str, Any] | float
"""A distribution as a scenario file writes it: a constant or ``{"dist": ..., params}``."""


@dataclass(frozen=True)
class Failures:
    """Calendar-time breakdowns of each machine of a station."""

    ttf: Dist
    ttr: Dist


@dataclass(frozen=True)
class Station:
    machines: int = 1
    buffer: int | None = None
    """Jobs that may wait (not counting those on machines); None: unlimited."""
    failures: Failures | None = None
    scrap: float = 0.0


@dataclass(frozen=True)
class Product:
    arrival: Dist
    route: tuple[str, ...]
    process: Mapping[str, Dist]
    """Process time per station of the route."""


@dataclass(frozen=True)
class Plant:
    stations: Mapping[str, Station]
    products: Mapping[str, Product]

    def mean_process_time(self, product: str, station: str) -> float:
        return distribution_mean(self.products[product].process[station])


def distribution_mean(spec: Dist) -> float:
    """Mean of a scenario-style distribution (the parameters as the twin names them)."""
    if isinstance(spec, int | float):
        return float(spec)
    kind = spec["dist"]
    if kind in ("exponential", "normal", "lognormal"):
        return float(spec["mean"])
    if kind == "gamma":
        return float(spec["shape"] * spec["scale"])
    if kind == "weibull":
        return float(spec["scale"] * math.gamma(1 + 1 / spec["shape"]))
    raise ValueError(f"unknown distribution {kind!r}")


def ciw_distribution(spec: Dist) -> ciw.dists.Distribution:
    """Ciw's distribution for a scenario-style spec (Ciw names its parameters its own way)."""
    if isinstance(spec, int | float):
        return ciw.dists.Deterministic(value=float(spec))
    kind = spec["dist"]
    if kind == "exponential":
        return ciw.dists.Exponential(rate=1 / spec["mean"])
    if kind == "gamma":
        return ciw.dists.Gamma(shape=spec["shape"], scale=spec["scale"])
    if kind == "weibull":
        return ciw.dists.Weibull(scale=spec["scale"], shape=spec["shape"])
    if kind == "normal":
        return ciw.dists.Normal(mean=spec["mean"], sd=spec["sd"])
    if kind == "lognormal":
        sigma2 = math.log1p((spec["sd"] / spec["mean"]) ** 2)
        return ciw.dists.Lognormal(mean=math.log(spec["mean"]) - sigma2 / 2, sd=math.sqrt(sigma2))
    raise ValueError(f"unknown distribution {kind!r}")


@dataclass
class _Outages:
    """Pre-drawn down intervals of one machine, in calendar time."""

    downs: list[float] = field(default_factory=list)
    ups: list[float] = field(default_factory=list)

    def up_at(self, t: float) -> float:
        """``t`` if the machine is up then, else the end of the outage holding ``t``."""
        i = bisect.bisect_right(self.downs, t) - 1
        return self.ups[i] if i >= 0 and t < self.ups[i] else t

    def finish(self, start: float, work: float) -> float:
        """When ``work`` units of up time after ``start`` are done."""
        t = self.up_at(start)
        i = bisect.bisect_right(self.downs, t)
        while i < len(self.downs) and self.downs[i] < t + work:
            work -= self.downs[i] - t
            t = self.ups[i]
            i += 1
        return t + work

    def down_during(self, start: float, end: float) -> float:
        """Down time inside [start, end]."""
        return sum(max(0.0, min(u, end) - max(d, start)) for d, u in zip(self.downs, self.ups, strict=True) if d < end)


class _Stretched(ciw.dists.Distribution):
    """A process time drawn from ``work`` and stretched over the machine's outages."""

    def __init__(self, work: ciw.dists.Distribution, outages: dict[tuple[int, int], _Outages]) -> None:
        self.work = work
        self.outages = outages

    def sample(self, t: float | None = None, ind: Any = None) -> float:
        assert t is not None and ind is not None
        work = self.work.sample(t, ind)
        outages = self.outages.get((ind.server.node.id_number, ind.server.id_number))
        return work if outages is None else outages.finish(t, work) - t


def _draw_outages(failures: Failures, until: float, rng: random.Random) -> _Outages:
    ttf, ttr = ciw_distribution(failures.ttf), ciw_distribution(failures.ttr)
    outages = _Outages()
    t = 0.0
    state = random.getstate()
    random.setstate(rng.getstate())
    while t < until:
        t += ttf.sample()
        down = t
        t += ttr.sample()
        outages.downs.append(down)
        outages.ups.append(t)
    rng.setstate(random.getstate())
    random.setstate(state)
    return outages


@dataclass
class PlantLog:
    """A simulated plant: its canonical event log and the truth behind it."""

    plant: Plant
    horizon: float
    log: pd.DataFrame
    """Canonical event log (events up to ``horizon``)."""
    visits: pd.DataFrame
    """One row per operation from Ciw's records: job, product, station, machine, enter, start,
    finish, leave, work (processing time without downtime)."""
    jobs: pd.DataFrame
    """job, product, arrive, leave, scrapped."""
    outages: dict[tuple[str, int], _Outages]

    def kpis(self, start: float, end: float) -> dict[str, float]:
        """The plant's KPIs over [start, end], with the twin's definitions, from the records."""
        length = end - start
        jobs = self.jobs
        done = jobs[(~jobs["scrapped"]) & (jobs["leave"] >= start) & (jobs["leave"] <= end)]
        arrive = jobs["arrive"].to_numpy()
        leave = jobs["leave"].fillna(np.inf).to_numpy()
        present = np.clip(np.minimum(leave, end) - np.maximum(arrive, start), 0, None).sum()
        kpis = {
            "throughput": len(done) / length,
            "wip_mean": present / length,
            "lead_time_mean": float((done["leave"] - done["arrive"]).mean()),
        }
        for name, station in self.plant.stations.items():
            ops = self.visits[self.visits["station"] == name]
            busy = 0.0
            for machine, start_, finish in ops[["machine", "start", "finish"]].itertuples(index=False):
                s, f = max(start_, start), min(finish if finish == finish else end, end)
                if f > s:
                    outages = self.outages.get((name, machine))
                    busy += (f - s) - (outages.down_during(s, f) if outages else 0.0)
            kpis[f"stations.{name}.utilization"] = busy / (station.machines * length)
            started = ops[(ops["start"] >= start) & (ops["start"] <= end)]
            kpis[f"stations.{name}.wait_mean"] = float((started["start"] - started["enter"]).mean())
        return kpis


def simulate_plant(plant: Plant, horizon: float, seed: int = 0) -> PlantLog:
    """Simulate ``plant`` with Ciw over [0, horizon] and write its canonical event log.

    Raises:
        ValueError: a product's first station has a finite buffer (Ciw would turn arrivals
            away where the twin makes them wait at the entrance).
    """
    names = list(plant.stations)
    node = {name: i + 1 for i, name in enumerate(names)}
    for pname, product in plant.products.items():
        if plant.stations[product.route[0]].buffer is not None:
            raise ValueError(f"product {pname!r} starts at {product.route[0]!r}, whose buffer must be unlimited")
    rng = random.Random(seed)
    outages: dict[tuple[int, int], _Outages] = {}
    for name, station in plant.stations.items():
        if station.failures is not None:
            for server in range(1, station.machines + 1):
                outages[(node[name], server)] = _draw_outages(station.failures, horizon, rng)
    scrapped_at: dict[int, int] = {}

    def route(ind: Any, simulation: Any) -> list[int]:
        stops = [node[s] for s in plant.products[ind.customer_class].route]
        for i, stop in enumerate(stops):
            if rng.random() < plant.stations[names[stop - 1]].scrap:
                scrapped_at[ind.id_number] = stop
                return stops[1 : i + 1]
        return stops[1:]

    def prefer_up(server: Any, ind: Any) -> tuple[int, int]:
        machine = outages.get((server.node.id_number, server.id_number))
        now = server.node.now
        return (0 if machine is None or machine.up_at(now) == now else 1, server.id_number)

    classes = list(plant.products)
    network = ciw.create_network(
        arrival_distributions={
            p: [ciw_distribution(plant.products[p].arrival) if plant.products[p].route[0] == n else None for n in names]
            for p in classes
        },
        service_distributions={
            p: [
                _Stretched(ciw_distribution(plant.products[p].process[n]), outages)
                if n in plant.products[p].process
                else ciw.dists.Deterministic(value=0.0)
                for n in names
            ]
            for p in classes
        },
        number_of_servers=[plant.stations[n].machines for n in names],
        queue_capacities=[
            float("inf") if plant.stations[n].buffer is None else plant.stations[n].buffer for n in names
        ],
        routing={p: ciw.routing.ProcessBased(route) for p in classes},
        server_priority_functions=[prefer_up] * len(names),
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(horizon)
    return _plant_log(plant, horizon, simulation, outages, scrapped_at, names)


def _plant_log(
    plant: Plant,
    horizon: float,
    simulation: Any,
    outages: dict[tuple[int, int], _Outages],
    scrapped_at: dict[int, int],
    names: list[str],
) -> PlantLog:
    visits = []
    jobs = []
    for ind in simulation.get_all_individuals():
        records = [r for r in ind.data_records if r.record_type == "service"]
        arrive = records[0].arrival_date if records else ind.arrival_date
        for r in records:
            machine = outages.get((r.node, r.server_id))
            start = r.service_start_date
            work = r.service_end_date - r.service_start_date
            if machine:
                work -= machine.down_during(r.service_start_date, r.service_end_date)
            visits.append(
                (
                    ind.id_number,
                    ind.customer_class,
                    names[r.node - 1],
                    r.server_id - 1,
                    r.arrival_date,
                    start,
                    r.service_end_date,
                    r.exit_date,
                    work,
                )
            )
        if ind.node != -1:
            machine_id = ind.server.id_number - 1 if ind.server else -1
            started = ind.service_start_date if ind.service_start_date is not False else math.nan
            ended = (
                ind.service_end_date
                if ind.service_end_date is not False and ind.service_end_date <= horizon
                else math.nan
            )
            visits.append(
                (
                    ind.id_number,
                    ind.customer_class,
                    names[ind.node - 1],
                    machine_id,
                    ind.arrival_date,
                    started,
                    ended,
                    math.nan,
                    math.nan,
                )
            )
            leave = math.nan
        else:
            leave = records[-1].exit_date
        jobs.append((ind.id_number, ind.customer_class, arrive, leave, ind.id_number in scrapped_at and ind.node == -1))
    visit_frame = pd.DataFrame(
        visits, columns=["job", "product", "station", "machine", "enter", "start", "finish", "leave", "work"]
    )
    job_frame = pd.DataFrame(jobs, columns=["job", "product", "arrive", "leave", "scrapped"])
    outage_by_name = {(names[n - 1], s - 1): o for (n, s), o in outages.items()}
    log = _events(visit_frame, job_frame, outage_by_name, horizon)
    return PlantLog(plant, horizon, log, visit_frame, job_frame, outage_by_name)


def _job_id(number: pd.Series) -> pd.Series:
    return "J" + number.astype(str).str.zfill(6)


def _machine_id(station: pd.Series, machine: pd.Series) -> pd.Series:
    return station + "-" + (machine + 1).astype(str)


def _events(
    visits: pd.DataFrame, jobs: pd.DataFrame, outages: dict[tuple[str, int], _Outages], horizon: float
) -> pd.DataFrame:
    """Canonical rows: arrive/exit/scrap per job, enter/start/finish per operation, down/up per
    outage, up to ``horizon``, with job and machine ids as a plant would name them."""
    job, machine = _job_id(visits["job"]), _machine_id(visits["station"], visits["machine"])
    parts = [
        pd.DataFrame(
            {
                "time": visits[kind],
                "event": kind,
                "job": job,
                "product": visits["product"],
                "station": visits["station"],
                "machine": machine if kind != "enter" else "",
            }
        )
        for kind in ("enter", "start", "finish")
    ]
    firsts = jobs.assign(job=_job_id(jobs["job"]))
    parts.append(
        pd.DataFrame(
            {
                "time": firsts["arrive"],
                "event": "arrive",
                "job": firsts["job"],
                "product": firsts["product"],
                "station": "",
                "machine": "",
            }
        )
    )
    last = visits.sort_values(["job", "enter"]).drop_duplicates("job", keep="last").set_index("job")
    left = jobs[jobs["leave"].notna()]
    scrapped = left[left["scrapped"]]
    station = last.loc[scrapped["job"], "station"].to_numpy()
    at_machine = _machine_id(pd.Series(station), pd.Series(last.loc[scrapped["job"], "machine"].to_numpy())).to_numpy()
    parts.append(
        pd.DataFrame(
            {
                "time": scrapped["leave"],
                "event": "scrap",
                "job": _job_id(scrapped["job"]),
                "product": scrapped["product"],
                "station": station,
                "machine": at_machine,
            }
        )
    )
    exited = left[~left["scrapped"]]
    parts.append(
        pd.DataFrame(
            {
                "time": exited["leave"],
                "event": "exit",
                "job": _job_id(exited["job"]),
                "product": exited["product"],
                "station": "",
                "machine": "",
            }
        )
    )
    for (name, index), outage in outages.items():
        for kind, times in (("down", outage.downs), ("up", outage.ups)):
            parts.append(
                pd.DataFrame(
                    {
                        "time": times,
                        "event": kind,
                        "job": "",
                        "product": "",
                        "station": name,
                        "machine": f"{name}-{index + 1}",
                    }
                )
            )
    rank = {"arrive": 0, "finish": 1, "scrap": 2, "exit": 2, "enter": 3, "start": 4, "down": 5, "up": 5}
    log = pd.concat(parts, ignore_index=True)
    log = log[log["time"].notna() & (log["time"] <= horizon)]
    log = log.assign(_rank=log["event"].map(rank)).sort_values(["time", "_rank"], kind="stable").drop(columns="_rank")
    return log.reset_index(drop=True)


WEEK = 7 * 1440.0
"""A week in minutes, the unit of the example plants."""


def two_product_line(saw_machines: int = 2) -> Plant:
    """A plant of five stations and two products with their own routes: parallel machines
    (saw, paint), finite buffers with blocking (mill, drill, paint, pack), calendar-time
    breakdowns (saw, paint) and scrap (mill, pack); the saw is the bottleneck (~77% busy)."""
    return Plant(
        stations={
            "saw": Station(
                machines=saw_machines,
                failures=Failures(
                    ttf={"dist": "exponential", "mean": 480}, ttr={"dist": "gamma", "shape": 2, "scale": 7.5}
                ),
            ),
            "mill": Station(machines=1, buffer=5, scrap=0.02),
            "drill": Station(machines=1, buffer=4),
            "paint": Station(
                machines=4,
                buffer=8,
                failures=Failures(
                    ttf={"dist": "weibull", "shape": 1.5, "scale": 700}, ttr={"dist": "lognormal", "mean": 20, "sd": 8}
                ),
            ),
            "pack": Station(machines=1, buffer=3, scrap=0.01),
        },
        products={
            "axle": Product(
                {"dist": "exponential", "mean": 2.0},
                ("saw", "mill", "paint", "pack"),
                {
                    "saw": {"dist": "gamma", "shape": 4, "scale": 0.45},
                    "mill": {"dist": "lognormal", "mean": 1.4, "sd": 0.5},
                    "paint": {"dist": "normal", "mean": 3.2, "sd": 0.6},
                    "pack": {"dist": "weibull", "shape": 2.0, "scale": 0.9},
                },
            ),
            "hub": Product(
                {"dist": "gamma", "shape": 2, "scale": 1.25},
                ("saw", "drill", "paint", "pack"),
                {
                    "saw": {"dist": "exponential", "mean": 1.6},
                    "drill": {"dist": "weibull", "shape": 2.0, "scale": 1.8},
                    "paint": {"dist": "gamma", "shape": 5, "scale": 0.64},
                    "pack": {"dist": "normal", "mean": 0.9, "sd": 0.15},
                },
            ),
        },
    )
