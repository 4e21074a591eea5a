"""Route times worked out once per scenario object: the same answers as asking the scenario,
asked again for a copy with other times, dropped with the scenario, and plants built from
them run as before."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from twin.scenario import parse_scenario
from twin.scenario.memo import per_scenario
from twin.scenario.routes import route_times, station_means
from twin.sim.plant import Plant

SHOP: dict[str, Any] = {
    "name": "shop",
    "products": {
        "a": {"route": [{"station": "m1", "process_time": 3}, {"station": "m2", "process_time": 4}]},
        "b": {"route": [{"station": "m2", "process_time": {"dist": "exponential", "mean": 2}}, "m1"]},
    },
    "stations": {"m1": {"process_time": 5}, "m2": {"process_time": 1}},
}


def test_route_times_are_the_scenarios_own() -> None:
    scenario = parse_scenario(SHOP)
    routes = route_times(scenario)
    assert routes["a"].means == (3.0, 4.0)
    assert routes["a"].remaining == (7.0, 4.0)
    assert routes["a"].constant == (3.0, 4.0)
    assert routes["b"].means == (2.0, 5.0)
    assert routes["b"].remaining == (7.0, 5.0)
    assert routes["b"].constant is None  # one step is random
    assert routes["b"].dists == (scenario.process_time("b", 0), scenario.process_time("b", 1))
    assert dict(station_means(scenario)) == {"m1": (3.0, 5.0), "m2": (4.0, 2.0)}


def test_a_copy_is_asked_again_and_answers_are_kept_per_object() -> None:
    scenario = parse_scenario(SHOP)
    assert route_times(scenario) is route_times(scenario)
    fast = scenario.stations["m2"]
    slower = scenario.model_copy(update={"stations": {"m1": fast, "m2": fast}})
    assert route_times(slower)["b"].means == (2.0, 1.0)
    assert route_times(scenario)["b"].means == (2.0, 5.0)


def test_an_answer_does_not_keep_its_scenario_alive_or_outlive_it() -> None:
    calls: list[int] = []

    @per_scenario
    def count(scenario: Any) -> int:
        calls.append(1)
        return len(calls)

    scenario = parse_scenario(SHOP)
    assert count(scenario) == count(scenario) == 1
    route_times(scenario)
    alive = weakref.ref(scenario)
    del scenario
    gc.collect()
    assert alive() is None
    other = parse_scenario(SHOP)  # may take the freed object's id: must not get its answer
    assert count(other) == 2


def test_plants_of_one_scenario_replay_bit_for_bit() -> None:
    scenario = parse_scenario(
        {
            **SHOP,
            "products": {
                name: {**spec, "release": [{"at": 0, "quantity": 30}]} for name, spec in SHOP["products"].items()
            },
        }
    )
    first, second = Plant(scenario, seed=4), Plant(scenario, seed=4)
    assert first.run() == second.run()
    assert first.log.columns()["job_time"].tobytes() == second.log.columns()["job_time"].tobytes()
