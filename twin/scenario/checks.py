"""Cross-reference checks of a validated scenario, and warnings about legal but suspicious ones.

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
from twin.scenario.paths import get_path
from twin.scenario.schema import Scenario

__all__ = ["CROSS_CHECKS", "load_warnings"]


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


CROSS_CHECKS = (
    _routes_name_stations,
    _process_times_known,
    _rules_known,
    _operators_known,
    _setup_families_known,
    _shifts_fit,
    _horizon_fits,
    _design_paths_exist,
)


def load_warnings(scenario: Scenario) -> list[str]:
    """Legal but suspicious settings: stations whose offered load reaches their capacity."""
    demand: dict[str, float] = dict.fromkeys(scenario.stations, 0.0)
    for pname, product in scenario.products.items():
        if product.arrival is None or product.arrival.mean <= 0:
            continue
        rate = 1.0 / product.arrival.mean
        for step, op in enumerate(product.route):
            demand[op.station] += rate * scenario.process_time(pname, step).mean
    warnings = []
    for sname, work in demand.items():
        station = scenario.stations[sname]
        availability = 1.0
        if station.failures is not None:
            ttf, ttr = station.failures.ttf.mean, station.failures.ttr.mean
            availability = ttf / (ttf + ttr) if ttf + ttr > 0 else 1.0
        load = work / (station.machines * availability) if availability > 0 else math.inf
        if load >= 1.0:
            warnings.append(f"stations.{sname}: offered load is {load:.0%} of capacity; its queue grows without bound")
    return warnings
