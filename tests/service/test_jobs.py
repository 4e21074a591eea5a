"""Runs and sweeps over HTTP against the command line, and the job queue's timeout, limit and
cancel, on real servers."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.server import MM1, ROOT, TWIN, Server, start_server, wait_job

MM1_FILE = ROOT / "scenarios" / "validation" / "mm1.yaml"


def test_a_run_over_http_equals_twin_run_json(server: Server) -> None:
    overrides = ["horizon=3000", "warmup=100"]
    command = [TWIN, "run", str(MM1_FILE), "--replications", "3", "--seed", "11", "--json"]
    for override in overrides:
        command += ["--set", override]
    cli = subprocess.run(command, capture_output=True, text=True, check=True)
    with server.client("planner") as client:
        response = client.post(
            "/v1/runs", json={"scenario": MM1, "overrides": overrides, "replications": 3, "seed": 11}
        )
        assert response.status_code == 202
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "done", job
        result: Any = job["result"]
        run_id = result.pop("run_id")
        assert result == json.loads(cli.stdout)  # same seed, same bits
        stored = client.get(f"/v1/runs/{run_id}").json()
    assert stored["kpis"] == result["kpis"]
    assert stored["meta"]["seed"] == 11 and stored["meta"]["overrides"] == {"horizon": 3000, "warmup": 100}
    assert (server.data / "runs" / run_id / "kpis.parquet").is_file()


def test_a_sweep_over_http_stores_every_point(server: Server) -> None:
    body = {
        "scenario": MM1,
        "overrides": ["horizon=2000", "warmup=100"],
        "replications": 2,
        "vary": {"stations.server.machines": [1, 2]},
    }
    with server.client("planner") as client:
        job = wait_job(client, client.post("/v1/sweeps", json=body).json()["id"])
        assert job["status"] == "done", job
        result: Any = job["result"]
        listed = {row["run_id"]: row for row in client.get("/v1/runs").json()}
    points = result["points"]
    assert [p["overrides"] for p in points] == [{"stations.server.machines": 1}, {"stations.server.machines": 2}]
    for point in points:
        assert listed[point["run_id"]]["sweep_id"] == result["sweep_id"]
    # two machines at the same arrivals: utilisation per machine halves (common random numbers)
    one, two = (p["kpis"]["stations.server.utilization"]["mean"] for p in points)
    assert two == pytest.approx(one / 2, rel=0.05)


def test_bad_scenarios_answer_the_cli_problem_lines(server: Server, tmp_path: Path) -> None:
    bad = MM1.replace("replications: 20", "replications: 0").replace("route: [server]", "route: [nowhere]")
    (tmp_path / "bad.yaml").write_text(bad, encoding="utf-8")
    cli = subprocess.run([TWIN, "validate", str(tmp_path / "bad.yaml")], capture_output=True, text=True)
    assert cli.returncode == 2
    with server.client("planner") as client:
        checked = client.post("/v1/scenarios/validate", json={"scenario": bad}).json()
        refused = client.post("/v1/runs", json={"scenario": bad})
    assert checked["valid"] is False
    assert checked["problems"] == cli.stderr.splitlines()
    assert refused.status_code == 422 and refused.json()["problems"] == checked["problems"]
    with server.client("viewer") as client:
        control = client.post("/v1/scenarios/validate", json={"scenario": "name: \x02"}).json()
    assert control["valid"] is False and control["problems"][0].startswith("scenario: character U+0002")


@pytest.fixture
def tight(tmp_path: Path) -> Iterator[Server]:
    """One job at a time, stopped after 1.5 s."""
    running = start_server(tmp_path, "--queue-limit", "1", "--job-timeout", "1.5")
    yield running
    running.stop()


LONG = {"scenario": MM1, "overrides": ["horizon=1000000"], "replications": 50}


def test_queue_limit_timeout_and_cancel(tight: Server) -> None:
    with tight.client("planner") as client:
        first = client.post("/v1/runs", json=LONG)
        assert first.status_code == 202
        full = client.post("/v1/runs", json=LONG)
        assert full.status_code == 429 and int(full.headers["Retry-After"]) >= 1
        assert "job queue: full (1 of 1" in full.json()["detail"]
        ended = wait_job(client, first.json()["id"])
        assert ended["status"] == "timed_out" and "1.5 s" in str(ended["error"])
        second = client.post("/v1/runs", json=LONG).json()
        cancelled = client.post(f"/v1/jobs/{second['id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        assert client.post(f"/v1/jobs/{second['id']}/cancel").status_code == 409
        assert client.get("/v1/jobs/0123456789ab").status_code == 404
        assert client.get("/v1/runs").json() == []  # nothing half-written looks like a run
