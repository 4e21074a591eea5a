"""The mirror's message without a broker: the forecast runs again only when events changed
the state, a failing forecast is null with its reason in the health, and --state-out is
replaced whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twin.scenario import parse_scenario
from twin.sync.mirror import Mirror, MirrorConfig, default_publish_topic, request_topic
from twin.sync.mirror_broker import BrokerURL
from twin.sync.mirror_ingest import Ingest
from twin.sync.state import StateTracker

LINE = parse_scenario(
    {
        "name": "message-line",
        "horizon": 100,
        "products": {"part": {"arrival": 5.0, "route": ["cut"]}},
        "stations": {"cut": {"process_time": 2.0}},
    }
)


def event(time: float, seq: int, name: str, **fields: Any) -> bytes:
    return json.dumps({"time": time, "event": name, "seq": seq, **fields}).encode()


def test_forecast_runs_once_per_state_and_a_failure_is_reported(tmp_path: Path) -> None:
    calls: list[float] = []

    def forecaster(state: dict[str, Any]) -> dict[str, Any]:
        calls.append(state["time"])
        if state["time"] >= 3:
            raise ValueError("stations.cut: a warm start cannot hold this (got it)")
        return {"time": state["time"], "jobs": []}

    out = tmp_path / "state.json"
    mirror = Mirror(
        BrokerURL("127.0.0.1", 1883), MirrorConfig("plant/events", "plant/forecast", state_out=out),
        Ingest(StateTracker(), window=0), LINE, forecaster,
    )  # fmt: skip
    mirror.ingest.receive(event(1.0, 1, "arrive", job="j1", product="part"), now=0.0)
    first = mirror.message(0.0)
    assert first["forecast"] == {"time": 1.0, "jobs": []} and mirror.message(0.1)["forecast"] == first["forecast"]
    assert calls == [1.0]  # the same state: no second forecast
    mirror.write_state()
    assert json.loads(out.read_text())["jobs"][0]["id"] == "j1"
    mirror.ingest.receive(event(3.0, 2, "enter", job="j1", station="cut"), now=0.2)
    failed = mirror.message(0.2)
    assert failed["forecast"] is None and calls == [1.0, 3.0]
    assert failed["health"]["forecast_error"].startswith("stations.cut: a warm start cannot hold this")
    assert (failed["health"]["received"], failed["health"]["applied"]) == (2, 2)
    mirror.write_state()
    assert json.loads(out.read_text())["jobs"][0]["where"] == "buffer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no temporary file left


def test_topics() -> None:
    assert default_publish_topic("plant/events") == "plant/forecast"
    assert default_publish_topic("site/+/events/#") == "site/forecast"  # never a wildcard
    assert default_publish_topic("#") == "twin/forecast"
    assert default_publish_topic("line7") == "line7/forecast"
    assert request_topic("plant/forecast") == "plant/forecast/request"
