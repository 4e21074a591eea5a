"""Each product's route times and each station's mean operation times, once per scenario."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from twin.scenario.distributions import Constant, Distribution
from twin.scenario.memo import per_scenario
from twin.scenario.schema import Scenario

__all__ = ["RouteTimes", "route_times", "station_means"]


@dataclass(frozen=True)
class RouteTimes:
    """The process times along one product's route."""

    stations: tuple[str, ...]
    """Each step's station."""
    dists: tuple[Distribution, ...]
    """Each step's process-time distribution."""
    means: tuple[float, ...]
    """Each step's mean process time."""
    remaining: tuple[float, ...]
    """Mean work of each step and all later ones."""
    constant: tuple[float, ...] | None
    """Every step's time when all of them are constant (a job shop), else None."""


@per_scenario
def route_times(scenario: Scenario) -> Mapping[str, RouteTimes]:
    """:class:`RouteTimes` of every product of ``scenario``."""
    routes = {}
    for name, product in scenario.products.items():
        dists = tuple(scenario.process_time(name, i) for i in range(len(product.route)))
        means = tuple(dist.mean for dist in dists)
        remaining = tuple(sum(means[i:]) for i in range(len(means)))
        constant = tuple(float(mean) for mean in means) if all(isinstance(d, Constant) for d in dists) else None
        stations = tuple(op.station for op in product.route)
        routes[name] = RouteTimes(stations, dists, means, remaining, constant)
    return MappingProxyType(routes)


@per_scenario
def station_means(scenario: Scenario) -> Mapping[str, tuple[float, ...]]:
    """Mean process times of the operations at each station, products and steps in scenario
    order (what dispatching rules may know); a component's arrival at its assembly is none."""
    means: dict[str, list[float]] = {}
    for product, spec in scenario.products.items():
        for step, op in enumerate(spec.route):
            if not scenario.is_component_step(product, step):
                means.setdefault(op.station, []).append(scenario.process_time(product, step).mean)
    return MappingProxyType({station: tuple(values) for station, values in means.items()})
