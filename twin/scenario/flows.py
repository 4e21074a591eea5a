"""How jobs flow through a scenario's routes: the moves between stations, where rework goes
back to, the long-run visits of each route step (traffic equations with scrap and rework),
and the load warnings computed from them.

The model (``twin.sim``) and the cross-checks read routes through these functions, so a
route means the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import pairwise

import numpy as np

from twin.scenario.schema import Scenario
from twin.scenario.transport import shortest_paths

__all__ = ["load_warnings", "moves", "offered_loads", "processing_steps", "rework_step", "step_flows"]


def processing_steps(s: Scenario, station: str) -> Iterator[tuple[str, int]]:
    """``(product, step)`` of every route step at ``station`` where a job is processed."""
    for pname, product in s.products.items():
        for i, op in enumerate(product.route):
            if op.station == station and not s.is_component_step(pname, i):
                yield pname, i


def rework_step(route: list[str], step: int, to: str) -> int | None:
    """The step a job reworked at ``step`` of ``route`` goes back to: its last visit to
    station ``to`` at or before ``step`` (None if there is none)."""
    for back in range(step, -1, -1):
        if route[back] == to:
            return back
    return None


def moves(s: Scenario) -> Iterator[tuple[str, int, str, str, bool]]:
    """``(product, step, origin, destination, rework)`` of every move between two stations a
    job can make: from route step ``step`` to the next, or (``rework``) back from it."""
    for pname, product in s.products.items():
        route = [op.station for op in product.route]
        for i, (origin, destination) in enumerate(pairwise(route)):
            if origin != destination:
                yield pname, i, origin, destination, False
        for i, origin in enumerate(route):
            rework = s.stations[origin].rework if origin in s.stations else None
            if rework is not None and rework.to != origin and not s.is_component_step(pname, i):
                yield pname, i, origin, rework.to, True


def step_flows(s: Scenario, product: str, rework: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Long-run visits per arriving job of each route step of ``product``, and the share of
    those visits that move on to the next step, from the traffic equations of its route with
    scrap and (unless ``rework`` is False) rework feedback."""
    route = s.products[product].route
    n = len(route)
    moves_on = np.zeros(n)
    routing = np.zeros((n, n))
    for i, op in enumerate(route):
        station = s.stations[op.station]
        back = station.rework if rework and not s.is_component_step(product, i) else None
        p_back = back.probability if back is not None else 0.0
        moves_on[i] = 1.0 - station.scrap - p_back
        if i + 1 < n:
            routing[i, i + 1] = moves_on[i]
        if back is not None:
            target = rework_step([o.station for o in route], i, back.to)
            if target is not None:
                routing[i, target] += p_back
    external = np.zeros(n)
    external[0] = 1.0
    visits = np.linalg.solve(np.eye(n) - routing.T, external)
    return visits, moves_on


def _open_rates(s: Scenario) -> dict[str, float]:
    return {
        name: 1.0 / product.arrival.mean
        for name, product in s.products.items()
        if product.arrival is not None and product.arrival.mean > 0
    }


def offered_loads(scenario: Scenario) -> dict[str, float]:
    """Each station's offered load: the work its open arrival streams bring per time unit
    (arrival rate x visits x mean process time, rework visits included) over its capacity
    (machines x availability ``ttf / (ttf + ttr)`` x maintenance, x the batch size of a batch
    station); 1.0 or more is a queue that grows without bound. Released orders and static jobs
    bring no steady load and count 0."""
    rates = _open_rates(scenario)
    demand: dict[str, float] = dict.fromkeys(scenario.stations, 0.0)
    for pname, rate in rates.items():
        visits, _ = step_flows(scenario, pname)
        for step, op in enumerate(scenario.products[pname].route):
            demand[op.station] += rate * visits[step] * scenario.process_time(pname, step).mean
    loads = {}
    for sname, work in demand.items():
        station = scenario.stations[sname]
        availability = 1.0
        if station.failures is not None:
            ttf, ttr = station.failures.ttf.mean, station.failures.ttr.mean
            availability = ttf / (ttf + ttr) if ttf + ttr > 0 else 1.0
        upkeep = station.maintenance
        if upkeep is not None and upkeep.basis == "busy":
            work *= 1.0 + upkeep.duration.mean / upkeep.every
        elif upkeep is not None:
            availability *= upkeep.every / (upkeep.every + upkeep.duration.mean)
        per_cycle = station.batch.size if station.batch is not None else 1
        loads[sname] = work / (station.machines * availability * per_cycle) if availability > 0 else math.inf
    return loads


def load_warnings(scenario: Scenario) -> list[str]:
    """Legal but suspicious settings: stations whose offered load reaches their capacity
    (:func:`offered_loads`), a vehicle fleet too small for its loaded trips, components
    supplied at another rate than their assembly consumes them, stations no route visits."""
    rates = _open_rates(scenario)
    visited = {op.station for product in scenario.products.values() for op in product.route}
    warnings = [
        f"stations.{sname}: no product's route visits it; it stays idle"
        for sname in scenario.stations
        if sname not in visited
    ]
    warnings += [
        f"stations.{sname}: offered load is {load:.0%} of capacity; its queue grows without bound"
        for sname, load in offered_loads(scenario).items()
        if load >= 1.0
    ]
    warnings += _fleet_warnings(scenario, rates)
    warnings += _supply_warnings(scenario, rates)
    return warnings


def _fleet_warnings(s: Scenario, rates: dict[str, float]) -> list[str]:
    transport = s.transport
    if transport is None or transport.vehicles is None:
        return []
    vehicles = transport.vehicles
    paths = shortest_paths(transport.distances)
    handling = vehicles.load.mean + vehicles.unload.mean
    busy = 0.0
    for pname, step, origin, destination, back in moves(s):
        if pname not in rates or not transport.by_vehicle(origin, destination):
            continue
        visits, moves_on = step_flows(s, pname)
        rework = s.stations[origin].rework
        share = rework.probability if back and rework is not None else moves_on[step]
        trip = handling + paths[origin][destination] / vehicles.speed
        busy += rates[pname] * visits[step] * share * trip
    load = busy / vehicles.count
    if load >= 1.0:
        return [
            f"transport.vehicles: loaded trips alone need {load:.0%} of the fleet's time; requests queue without bound"
        ]
    return []


def _supply_warnings(s: Scenario, rates: dict[str, float]) -> list[str]:
    warnings = []
    for sname, station in s.stations.items():
        if station.assemble is None:
            continue
        users = {pname for pname, _ in processing_steps(s, sname)}
        if any(name not in rates for name in [*users, *station.assemble]):
            continue  # released by orders: supply and need are finite, not rates
        jobs = 0.0
        for pname in users:
            visits, _ = step_flows(s, pname, rework=False)  # a return by rework takes no kit
            steps = [i for i, op in enumerate(s.products[pname].route) if op.station == sname]
            jobs += rates[pname] * sum(visits[i] for i in steps)
        for component, quantity in station.assemble.items():
            visits, _ = step_flows(s, component)
            supplied = rates[component] * visits[-1]
            needed = jobs * quantity
            if supplied < needed * (1 - 1e-9):
                warnings.append(
                    f"stations.{sname}.assemble.{component}: {supplied:.4g} arrive per time unit but assembly "
                    f"needs {needed:.4g}; jobs wait for components without bound"
                )
            elif supplied > needed * (1 + 1e-9):
                warnings.append(
                    f"stations.{sname}.assemble.{component}: {supplied:.4g} arrive per time unit but assembly "
                    f"consumes {needed:.4g}; components pile up without bound"
                )
    return warnings
