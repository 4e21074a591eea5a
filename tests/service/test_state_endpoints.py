"""Forecasts and decisions from a plant state over HTTP, against the library's own answers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.server import Server, tiny_policy
from twin.scenario import parse_scenario
from twin.service.decisions import decide_from_state
from twin.service.policy import OnnxPolicy
from twin.sim.plant import Plant
from twin.sync.forecast import forecast

SHOP: dict[str, Any] = {
    "name": "shop",
    "horizon": 400,
    "replications": 4,
    "seed": 3,
    "products": {
        "x": {"arrival": {"dist": "exponential", "mean": 1.2}, "route": ["a", "b"], "due_date": {"slack": 12}},
        "y": {"arrival": {"dist": "exponential", "mean": 2.5}, "route": ["a", "b"], "due_date": {"slack": 8}},
    },
    "stations": {
        "a": {"machines": 2, "buffer": 6, "process_time": {"dist": "exponential", "mean": 1.5}},
        "b": {"buffer": 4, "process_time": {"dist": "gamma", "shape": 2, "scale": 0.4}, "dispatching": "spt"},
    },
}


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    plant = Plant(parse_scenario(SHOP), seed=11)
    plant.env.run(until=60.0)
    return plant.snapshot().model_dump(mode="json")


def test_a_forecast_over_http_is_the_librarys(server: Server, state: dict[str, Any]) -> None:
    body = {"scenario": SHOP, "state": state, "horizon": 30, "replications": 5, "seed": 9}
    with server.client("planner") as client:
        response = client.post("/v1/forecast", json=body)
    assert response.status_code == 200, response.text
    expected = forecast(parse_scenario(SHOP), parse_state_of(state), 30, 5, 9)
    assert response.json() == expected
    assert response.json()["time"] == 60.0 and {j["id"] for j in response.json()["jobs"]} == {
        j["id"] for j in state["jobs"]
    }


def parse_state_of(data: dict[str, Any]) -> Any:
    from twin.scenario.state import parse_state

    return parse_state(data, parse_scenario(SHOP))


def test_a_bad_state_is_422_with_its_problems(server: Server, state: dict[str, Any]) -> None:
    broken = {**state, "jobs": [{**state["jobs"][0], "station": "nowhere"}]}
    with server.client("planner") as client:
        response = client.post("/v1/forecast", json={"scenario": SHOP, "state": broken, "horizon": 30})
        over = client.post("/v1/forecast", json={"scenario": SHOP, "state": state, "horizon": 1e12})
    assert response.status_code == 422 and response.json()["problems"][0].startswith("jobs[0].station")
    assert over.status_code == 422 and "over the budget" in over.json()["detail"]


def test_a_decision_from_a_state(server: Server, state: dict[str, Any]) -> None:
    with server.client("admin") as admin:
        admin.put("/v1/models/shop", content=tiny_policy(stations=2, max_queue=4))
        admin.post("/v1/models/shop/promote", json={"version": 1})
        response = admin.post("/v1/decide", json={"model": "shop", "scenario": SHOP, "state": state})
        neither = admin.post("/v1/decide", json={"model": "shop"})
        wrong = admin.post("/v1/decide", json={"model": "tiny-missing", "scenario": SHOP, "state": state})
    assert response.status_code == 200, response.text
    answer = response.json()
    expected = decide_from_state(
        OnnxPolicy(tiny_policy(stations=2, max_queue=4)), parse_scenario(SHOP), parse_state_of(state)
    )
    assert {k: answer[k] for k in expected} == expected  # seed 0: the same state, the same answer
    assert answer["version"] == 1 and answer["time"] >= 60.0 and answer["station"] in ("a", "b")
    assert answer["job"] == answer["queue"][answer["action"]] and answer["fallback_job"] in answer["queue"]
    assert len(answer["queue"]) >= 2 and all(p == 0 for p in answer["probabilities"][len(answer["queue"]) :])
    assert neither.status_code == 422 and wrong.status_code == 404
