"""A service that follows a live mirror's state file: GET /v1/state, and decisions and
forecasts that bring neither scenario nor state answer from the mirrored present."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.service.server import TWIN, Server, start_server, tiny_policy
from tests.service.test_state_endpoints import SHOP
from twin.scenario import parse_scenario
from twin.scenario.state import parse_state
from twin.service.decisions import decide_from_state
from twin.service.policy import OnnxPolicy
from twin.sim.plant import Plant
from twin.studies.store import write_json_atomic
from twin.sync.forecast import forecast


def snapshot(at: float) -> dict[str, Any]:
    plant = Plant(parse_scenario(SHOP), seed=11)
    plant.env.run(until=at)
    return plant.snapshot().model_dump(mode="json")


@pytest.fixture
def following(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "shop.yaml").write_text(yaml.safe_dump(SHOP), encoding="utf-8")
    options = ["--scenario", str(tmp_path / "shop.yaml"), "--mirror-state", str(tmp_path / "state.json")]
    running = start_server(tmp_path, *options)
    yield running
    running.stop()


def test_answers_come_from_the_mirrored_state(following: Server) -> None:
    state_file = following.data / "state.json"
    with following.client("admin") as client:
        missing = client.get("/v1/state")
        assert missing.status_code == 404 and "no state yet" in missing.json()["detail"]
        write_json_atomic(state_file, snapshot(60.0))  # as twin mirror --state-out does
        mirrored = client.get("/v1/state").json()
        assert mirrored["time"] == 60.0 and mirrored["scenario"] == "shop" and mirrored["age_s"] >= 0
        client.put("/v1/models/shop", content=tiny_policy(stations=2, max_queue=4))
        client.post("/v1/models/shop/promote", json={"version": 1})
        decided = client.post("/v1/decide", json={"model": "shop"}).json()
        forecast_ = client.post("/v1/forecast", json={"horizon": 20, "replications": 3, "seed": 2}).json()
        write_json_atomic(state_file, snapshot(90.0))  # the mirror moved on
        assert client.get("/v1/state").json()["time"] == 90.0
    scenario = parse_scenario(SHOP)
    state = parse_state(snapshot(60.0), scenario)
    expected = decide_from_state(OnnxPolicy(tiny_policy(stations=2, max_queue=4)), scenario, state)
    assert {k: decided[k] for k in expected} == expected
    assert forecast_ == forecast(scenario, state, 20, 3, 2)


def test_without_a_mirror_there_is_no_state(server: Server) -> None:
    with server.client("viewer") as client:
        response = client.get("/v1/state")
    assert response.status_code == 404 and "follows no mirror" in response.json()["detail"]
    with server.client("planner") as client:
        refused = client.post("/v1/forecast", json={"horizon": 10})
    assert refused.status_code == 422 and refused.json()["problems"][0].startswith("scenario: required")


def test_a_mirror_state_needs_its_scenario(tmp_path: Path) -> None:
    done = subprocess.run(
        [TWIN, "serve", "--data", str(tmp_path), "--mirror-state", str(tmp_path / "s.json")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.startswith("--mirror-state: needs --scenario")
