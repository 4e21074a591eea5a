"""The service following a real live mirror: mosquitto, `twin replay` of a log, `twin mirror
--state-out`, `twin serve --mirror-state`; the service answers from the floor's present."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.broker import needs_mosquitto, running_broker
from tests.service.server import TWIN, start_server
from tests.sync.test_mirror import LINE
from twin.measure.experiment import simulate
from twin.scenario import parse_scenario
from twin.sync.eventlog import events_to_log, write_log

pytestmark = [needs_mosquitto, pytest.mark.slow]


def test_the_service_answers_from_the_mirrored_floor(tmp_path: Path) -> None:
    (tmp_path / "line.yaml").write_text(yaml.safe_dump(LINE))
    scenario = parse_scenario(LINE)
    frame = events_to_log(simulate(scenario, replications=1, seed=4).events, scenario)
    write_log(frame, tmp_path / "log.csv")
    state_file = tmp_path / "state.json"
    with running_broker(tmp_path / "broker") as broker:
        mirror_log = (tmp_path / "mirror.log").open("w")
        mirror = subprocess.Popen(
            [TWIN, "mirror", str(tmp_path / "line.yaml"), "--broker", broker.url, "--topic", "plant/events",
             "--no-forecast", "--state-out", str(state_file)],
            stdout=subprocess.DEVNULL, stderr=mirror_log,
        )  # fmt: skip
        server = start_server(tmp_path / "service", "--scenario", str(tmp_path / "line.yaml"), "--mirror-state",
                              str(state_file))  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while "connected to" not in (tmp_path / "mirror.log").read_text():
                assert mirror.poll() is None and time.monotonic() < deadline, (tmp_path / "mirror.log").read_text()
                time.sleep(0.1)
            subprocess.run(
                [TWIN, "replay", str(tmp_path / "log.csv"), "--broker", broker.url, "--topic", "plant/events",
                 "--speed", "0"],
                check=True, capture_output=True,
            )  # fmt: skip
            last = float(frame["time"].max())
            with server.client("planner") as client:
                deadline = time.monotonic() + 30
                while True:
                    answer = client.get("/v1/state")
                    if answer.status_code == 200 and answer.json()["time"] >= last:
                        break
                    assert time.monotonic() < deadline, answer.text
                    time.sleep(0.2)
                mirrored = answer.json()
                forecast = client.post("/v1/forecast", json={"horizon": 30, "replications": 2, "seed": 1})
        finally:
            server.stop()
            os.kill(mirror.pid, signal.SIGTERM)
            mirror.wait(timeout=20)
    assert mirrored["state"] == json.loads(state_file.read_text())
    assert mirrored["scenario"] == "mirror-line" and mirrored["time"] == last
    assert forecast.status_code == 200, forecast.text
    assert forecast.json()["time"] == last and {j["id"] for j in forecast.json()["jobs"]} == {
        j["id"] for j in mirrored["state"]["jobs"]
    }
