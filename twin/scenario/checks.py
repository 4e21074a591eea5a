"""Cross-reference checks of a validated scenario (warnings about legal but suspicious ones
are in :mod:`twin.scenario.flows`).

Each check is a small generator over a :class:`~twin.scenario.schema.Scenario` yielding
:class:`~twin.errors.Problem` lines ``path: message (got X)``; :data:`CROSS_CHECKS` lists them
in the order their problems are reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import pairwise

from twin.dispatching import rule_names
from twin.errors import Problem, show
from twin.scenario.flows import moves, processing_steps, rework_step
from twin.scenario.limits import SIZE_CHECKS
from twin.scenario.paths import get_path
from twin.scenario.schema import Scenario
from twin.scenario.transport import shortest_paths
from twin.scenario.units import HOURS_PER_UNIT, hours_per_time_unit

__all__ = ["CROSS_CHECKS"]


def _routes_name_stations(s: Scenario) -> Iterable[Problem]:
    for pname, product in s.products.items():
        for i, op in enumerate(product.route):
            if op.station not in s.stations:
                yield Problem(
                    f"products.{pname}.route[{i}]",
                    f"no station of that name (stations: {', '.join(s.stations)})",
                    show(op.station),
                )


def _process_times_known(s: Scenario) -> Iterable[Problem]:
    for pname, product in s.products.items():
        for sname in product.process_time:
            if sname not in {op.station for op in product.route}:
                yield Problem(f"products.{pname}.process_time.{sname}", "station is not on the route")
        for i, op in enumerate(product.route):
            station = s.stations.get(op.station)
            if station is None:
                continue
            if s.is_component_step(pname, i):
                own = op.process_time or product.process_time.get(op.station)
                if own is not None and own.mean > 0:
                    yield Problem(
                        f"products.{pname}.route[{i}]",
                        f"a component is not processed at '{op.station}', which assembles it: give the "
                        "assembled product's process time instead",
                        show(own.mean),
                    )
                continue
            if op.process_time is None and op.station not in product.process_time and station.process_time is None:
                yield Problem(
                    f"products.{pname}.route[{i}]",
                    f"no process time for station '{op.station}': set stations.{op.station}.process_time "
                    f"or products.{pname}.process_time.{op.station}",
                )


def _rules_known(s: Scenario) -> Iterable[Problem]:
    for sname, station in s.stations.items():
        if station.dispatching not in rule_names():
            yield Problem(
                f"stations.{sname}.dispatching",
                f"unknown rule (expected one of: {', '.join(rule_names())})",
                show(station.dispatching),
            )


def _operators_known(s: Scenario) -> Iterable[Problem]:
    for sname, station in s.stations.items():
        if station.operator is not None and station.operator not in s.operators:
            known = ", ".join(s.operators) or "none declared"
            yield Problem(
                f"stations.{sname}.operator", f"no operator pool of that name ({known})", show(station.operator)
            )


def _setup_families_known(s: Scenario) -> Iterable[Problem]:
    families = {s.family(p) for p in s.products}
    for sname, station in s.stations.items():
        if station.setup is None:
            continue
        for source, row in station.setup.matrix.items():
            if source not in families:
                yield Problem(
                    f"stations.{sname}.setup.matrix.{source}",
                    f"unknown family (families: {', '.join(sorted(families))})",
                )
            for target in row:
                if target not in families:
                    yield Problem(
                        f"stations.{sname}.setup.matrix.{source}.{target}",
                        f"unknown family (families: {', '.join(sorted(families))})",
                    )


def _shifts_fit(s: Scenario) -> Iterable[Problem]:
    for pname, pool in s.operators.items():
        if pool.shifts is None:
            continue
        spans = sorted((shift.start, shift.end, i) for i, shift in enumerate(pool.shifts.shifts))
        for _, end, i in spans:
            if end > pool.shifts.period:
                yield Problem(
                    f"operators.{pname}.shifts.shifts[{i}].end", f"must be <= period {pool.shifts.period:g}", show(end)
                )
        for (_, end, _), (start, _, j) in pairwise(spans):
            if start < end:
                yield Problem(f"operators.{pname}.shifts.shifts[{j}].start", "overlaps the previous shift", show(start))
        for i, shift in enumerate(pool.shifts.shifts):
            if shift.count is not None and shift.count > pool.count:
                yield Problem(
                    f"operators.{pname}.shifts.shifts[{i}].count",
                    f"must be <= the pool's count {pool.count}",
                    show(shift.count),
                )


def _horizon_fits(s: Scenario) -> Iterable[Problem]:
    open_streams = [p for p, product in s.products.items() if product.arrival is not None]
    if s.horizon is None:
        if open_streams:
            yield Problem("horizon", f"required: products {', '.join(open_streams)} arrive without end")
        if s.warmup > 0:
            yield Problem("warmup", "needs a horizon", show(s.warmup))
    elif s.warmup >= s.horizon:
        yield Problem("warmup", f"must be < horizon {s.horizon:g}", show(s.warmup))


def _design_paths_exist(s: Scenario) -> Iterable[Problem]:
    if s.design is None:
        return
    data = s.to_dict()
    for path, option in s.design.options.items():
        where = f"design.options.{path}"
        try:
            value = get_path(data, path)
        except KeyError as missing:
            yield Problem(where, f"no such scenario value ({missing.args[0]})")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield Problem(where, "must name a numeric scenario value", show(value))
        elif not option.min <= value <= option.max:
            yield Problem(
                where, f"current value must lie in [min, max] = [{option.min:g}, {option.max:g}]", show(value)
            )


def _rework_goes_back(s: Scenario) -> Iterable[Problem]:
    for sname, station in s.stations.items():
        rework = station.rework
        if rework is None:
            continue
        where = f"stations.{sname}.rework"
        if rework.to not in s.stations:
            yield Problem(
                f"{where}.to", f"no station of that name (stations: {', '.join(s.stations)})", show(rework.to)
            )
            continue
        if station.scrap + rework.probability >= 1:
            yield Problem(
                f"{where}.probability",
                f"scrap + rework probability must be < 1 (scrap is {station.scrap:g})",
                show(rework.probability),
            )
        for pname, step in processing_steps(s, sname):
            route = [op.station for op in s.products[pname].route]
            if rework_step(route, step, rework.to) is None:
                yield Problem(
                    f"{where}.to",
                    f"must be '{sname}' or a station before it on every route through it: products.{pname}"
                    f".route[{step}] has no '{rework.to}' at or before it",
                    show(rework.to),
                )


def _assembly_components(s: Scenario) -> Iterable[Problem]:
    for sname, station in s.stations.items():
        if station.assemble is None:
            continue
        where = f"stations.{sname}.assemble"
        if station.batch is not None:
            yield Problem(where, "a station either assembles or processes batches, not both")
        for component in station.assemble:
            product = s.products.get(component)
            if product is None:
                yield Problem(f"{where}.{component}", f"no product of that name (products: {', '.join(s.products)})")
                continue
            route = [op.station for op in product.route]
            if route[-1] != sname:
                yield Problem(f"{where}.{component}", f"a component's route must end at '{sname}'", show(route[-1]))
            elif sname in route[:-1]:
                yield Problem(
                    f"products.{component}.route", f"a component visits '{sname}' only at the end of its route"
                )
        if next(processing_steps(s, sname), None) is None:
            yield Problem(where, f"no other product's route visits '{sname}' to be assembled there")


def _batches_can_end(s: Scenario) -> Iterable[Problem]:
    if s.horizon is not None:
        return
    for sname, station in s.stations.items():
        if station.batch is not None and station.batch.max_wait is None and station.batch.size > 1:
            yield Problem(
                f"stations.{sname}.batch.max_wait",
                "required without a horizon: the last batch might never fill",
            )


def _energy_has_hours(s: Scenario) -> Iterable[Problem]:
    with_energy = [name for name, station in s.stations.items() if station.energy is not None]
    if with_energy and hours_per_time_unit(s.time_unit) is None:
        yield Problem(
            "time_unit",
            f"must be a unit of time ({', '.join(HOURS_PER_UNIT)}) for the energy of stations "
            f"{', '.join(with_energy)} in kWh",
            show(s.time_unit),
        )


def _transport_names_stations(s: Scenario) -> Iterable[Problem]:
    transport = s.transport
    if transport is None:
        return
    known = ", ".join(s.stations)
    for table in ("distances", "times"):
        for origin, row in getattr(transport, table).items():
            if origin not in s.stations:
                yield Problem(f"transport.{table}.{origin}", f"no station of that name (stations: {known})")
            for destination in row:
                if destination not in s.stations:
                    yield Problem(
                        f"transport.{table}.{origin}.{destination}", f"no station of that name (stations: {known})"
                    )
                elif destination == origin:
                    yield Problem(f"transport.{table}.{origin}.{destination}", "a leg joins two different stations")
    vehicles = transport.vehicles
    if vehicles is not None and vehicles.home is not None:
        if vehicles.home not in s.stations:
            yield Problem(
                "transport.vehicles.home", f"no station of that name (stations: {known})", show(vehicles.home)
            )
        elif vehicles.home not in transport.stations():
            yield Problem("transport.vehicles.home", "must be a station of transport.distances", show(vehicles.home))


def _vehicles_reach_their_moves(s: Scenario) -> Iterable[Problem]:
    transport = s.transport
    if (
        transport is None
        or transport.vehicles is None
        or any(name not in s.stations for name in transport.stations())
        or transport.home() not in transport.stations()
    ):
        return  # reported by _transport_names_stations
    paths = shortest_paths(transport.distances)
    served = {transport.home()}
    reported = set()
    for pname, step, origin, destination, _ in moves(s):
        if origin not in s.stations or destination not in s.stations or not transport.by_vehicle(origin, destination):
            continue
        served.update((origin, destination))
        if paths[origin][destination] == math.inf:
            reported.add((origin, destination))
            yield Problem(
                f"products.{pname}.route[{step}]",
                f"no path from '{origin}' to '{destination}' in transport.distances, whose stations vehicles serve",
            )
    for a in sorted(served):
        for b in sorted(served):
            if paths[a][b] == math.inf and (a, b) not in reported:
                yield Problem(
                    "transport.distances", f"no path from '{a}' to '{b}': vehicles must reach every station they serve"
                )


CROSS_CHECKS = (
    _routes_name_stations,
    _process_times_known,
    _rules_known,
    _operators_known,
    _setup_families_known,
    _shifts_fit,
    _horizon_fits,
    _design_paths_exist,
    _rework_goes_back,
    _assembly_components,
    _batches_can_end,
    _energy_has_hours,
    _transport_names_stations,
    _vehicles_reach_their_moves,
    *SIZE_CHECKS,
)
