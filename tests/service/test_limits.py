"""The limits of a real server: 413 past the body size, 422 past the simulation budget, 429
with Retry-After past a token's rate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.server import MM1, Server, start_server
from twin.service.limits import RateLimiter, check_budget


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    options = ["--max-body", "4000", "--budget", "1e6", "--rate", "2", "--burst", "5"]
    running = start_server(tmp_path_factory.mktemp("strict"), *options)
    yield running
    running.stop()


def test_a_body_past_the_limit_is_413(strict: Server) -> None:
    with strict.client("planner") as client:
        response = client.post("/v1/scenarios/validate", json={"scenario": MM1 + "#" * 4000})
        assert response.status_code == 413
        assert response.json()["problems"] == ["body: larger than the limit of 4000 bytes"]
        chunks = (b"x" * 1000 for _ in range(5))  # streamed, no Content-Length
        assert client.post("/v1/runs", content=chunks).status_code == 413
        time.sleep(1.0)  # the rate test below starts with a full bucket


def test_a_run_past_the_budget_is_422(strict: Server) -> None:
    time.sleep(1.5)
    with strict.client("planner") as client:
        # 36000 min x 20 replications x 1 station = 7.2e5: within 1e6
        assert client.post("/v1/runs", json={"scenario": MM1, "replications": 1}).status_code == 202
        over = client.post("/v1/runs", json={"scenario": MM1, "replications": 30})
        sweep = {"scenario": MM1, "replications": 1, "vary": {"stations.server.machines": list(range(1, 31))}}
        swept = client.post("/v1/sweeps", json=sweep)
    assert over.status_code == 422
    assert over.json()["problems"] == [
        "replications x horizon x stations: over the budget of 1e+06 per request (got 1.08e+06)"
    ]
    assert swept.status_code == 422 and "x points" in swept.json()["detail"]


def test_past_the_rate_is_429_with_retry_after(strict: Server) -> None:
    time.sleep(3)  # refill: 2 per second up to 5
    with strict.client("viewer") as client, strict.client("admin") as other:
        codes = [client.get("/v1/models").status_code for _ in range(8)]
        refused = client.get("/v1/models")
        assert other.get("/v1/models").status_code == 200  # buckets are per token
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["problems"] == ["rate: over 2 requests per second for this token"]


def test_token_bucket_refills_at_the_rate() -> None:
    bucket = RateLimiter(rate=10, burst=3)
    assert [bucket.acquire("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire("a", now=0.0) == pytest.approx(0.1)
    assert bucket.acquire("a", now=0.1) == 0.0  # one request back after 1 / rate
    assert bucket.acquire("b", now=0.1) == 0.0
    assert RateLimiter.retry_after(0.1) == "1" and RateLimiter.retry_after(2.5) == "3"


@pytest.mark.parametrize(
    ("replications", "horizon", "stations", "points", "allowed"),
    [
        (10, 1e4, 10, 1, True),  # 1e6, the budget itself
        (10, 1e4, 10, 2, False),  # two sweep points double it
        (11, 1e4, 10, 1, False),
        (1, float("nan"), 1, 1, False),  # NaN is never within a budget
    ],
)
def test_budget_arithmetic(replications: int, horizon: float, stations: int, points: int, allowed: bool) -> None:
    if allowed:
        check_budget(replications, horizon, stations, 1e6, points)
    else:
        with pytest.raises(ValueError, match="over the budget of 1e\\+06"):
            check_budget(replications, horizon, stations, 1e6, points)


def test_twin_serve_refuses_a_file_as_data_folder(tmp_path: Path) -> None:
    import subprocess

    from tests.service.server import TWIN

    (tmp_path / "file").write_text("x")
    done = subprocess.run([TWIN, "serve", "--data", str(tmp_path / "file")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("--data: not a folder")
    assert "Traceback" not in done.stderr
