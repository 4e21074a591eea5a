"""Latency of ``twin serve``: ``/v1/decide`` on a 15x15 job shop and ``/v1/forecast`` of 20
replications over 8 hours (issue 16: decide p95 under 20 ms; the forecast in seconds).

A real server (``twin serve`` on 127.0.0.1 and a free port, rate limit raised so the loop is
not refused) serves the zoo's ``jobshop_15x15`` dispatcher exported by ``twin export``. Timed
over HTTP with one keep-alive httpx client, each request end to end (auth, audit line, answer):

* ``health``: ``GET /health``, no token and no work: the floor of an HTTP round trip here;
* ``decide (observation)``: a 15x15 env observation and its mask (198 numbers);
* ``decide (plant state)``: the 15x15 scenario and a plant state cut at t=300 (15 jobs, 15
  machines): the service starts the twin from the state and runs it to the next decision;
* ``forecast``: ``scenarios/examples/assembly_line.yaml`` from its state at t=600, 20
  replications of 480 min.

The reference of each row is the same work in this process without HTTP (onnxruntime's call,
:func:`twin.service.decisions.decide_from_state`, :func:`twin.sync.forecast.forecast`),
measured in the same run; **ratio** = HTTP / in-process. The SB3 model's own ``predict`` (torch)
is shown for comparison.

    python benchmarks/service_latency.py [--requests 300] [--forecasts 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from twin.envs.dispatch import DispatchEnv
from twin.jobshop.instances import generate_instance, instance_to_scenario
from twin.scenario import Scenario, load_scenario
from twin.scenario.state import PlantState
from twin.service.decisions import decide_from_state
from twin.service.policy import OnnxPolicy
from twin.service.roles import Role
from twin.service.tokens import TokenStore
from twin.sim.plant import Plant
from twin.sync.forecast import forecast

ROOT = Path(__file__).resolve().parents[1]
TWIN = str(Path(sys.executable).with_name("twin"))
GOAL_MS = 20.0


def cut(scenario: Scenario, at: float, seed: int) -> PlantState:
    """The plant state of one replication at ``at``."""
    plant = Plant(scenario, seed=seed)
    plant.env.run(until=at)
    return plant.snapshot()


def timings(call: Callable[[], Any], count: int) -> list[float]:
    """Milliseconds of ``count`` calls, after two warm-up calls."""
    call()
    call()
    found = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        found.append(1000 * (time.perf_counter() - started))
    return found


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def start(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = ["--port", str(port), "--data", str(data), "--rate", "10000", "--burst", "10000"]
    process = subprocess.Popen([TWIN, "serve", *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("twin serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="decisions timed per row")
    parser.add_argument("--forecasts", type=int, default=3, help="forecasts timed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        model = data / "jobshop_15x15.onnx"
        subprocess.run([TWIN, "export", "jobshop_15x15", "--onnx", str(model)], check=True, capture_output=True)
        token = TokenStore(data).create(Role.ADMIN, "bench")[0]
        shop = instance_to_scenario(generate_instance(15, 15, seed=3))
        shop_state = cut(shop, 300.0, seed=0)
        env = DispatchEnv(shop, mode="job", max_queue=15, state=shop_state)
        obs, _ = env.reset(seed=0)
        mask = env.action_masks()
        line = load_scenario(ROOT / "scenarios" / "examples" / "assembly_line.yaml")
        line_state = cut(line, 600.0, seed=1)
        policy = OnnxPolicy(model.read_bytes())

        process, url = start(data)
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
                client.put("/v1/models/js15", content=model.read_bytes()).raise_for_status()
                client.post("/v1/models/js15/promote", json={"version": 1}).raise_for_status()
                by_obs = {"model": "js15", "observation": obs.tolist(), "mask": mask.tolist()}
                by_state = {"model": "js15", "scenario": shop.to_dict(), "state": shop_state.model_dump(mode="json")}
                cast = {
                    "scenario": line.to_dict(),
                    "state": line_state.model_dump(mode="json"),
                    "horizon": 480,
                    "replications": 20,
                    "seed": 1,
                }

                def post(body: dict[str, Any], path: str = "/v1/decide") -> Callable[[], Any]:
                    return lambda: client.post(path, json=body).raise_for_status()

                rows = [
                    (
                        "health (HTTP floor)",
                        timings(lambda: client.get("/health").raise_for_status(), args.requests),
                        timings(lambda: None, args.requests),
                    ),
                    (
                        "decide (observation)",
                        timings(post(by_obs), args.requests),
                        timings(lambda: policy.decide(by_obs["observation"], by_obs["mask"]), args.requests),
                    ),
                    (
                        "decide (plant state)",
                        timings(post(by_state), args.requests),
                        timings(lambda: decide_from_state(policy, shop, shop_state), args.requests),
                    ),
                    (
                        "forecast 20 x 480 min",
                        timings(post(cast, "/v1/forecast"), args.forecasts),
                        timings(lambda: forecast(line, line_state, 480, 20, 1), args.forecasts),
                    ),
                ]
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=30)

    print(f"{'request':24} {'HTTP p50 ms':>12} {'HTTP p95 ms':>12} {'in-process p95':>15} {'ratio':>7}")
    for name, http, local in rows:
        ratio = f"{p95(http) / p95(local):7.1f}" if p95(local) > 0.01 else "      -"
        print(f"{name:24} {statistics.median(http):12.2f} {p95(http):12.2f} {p95(local):15.2f} {ratio}")
    sb3 = sb3_reference(obs, mask, args.requests)
    print(f"\nSB3 predict (torch) in-process p95: {sb3:.2f} ms")
    decide = p95(rows[2][1])
    verdict = "meets" if decide < GOAL_MS else "misses"
    print(f"decide from a 15x15 plant state: p95 {decide:.1f} ms {verdict} the goal of {GOAL_MS:g} ms")


def sb3_reference(obs: np.ndarray, mask: np.ndarray, count: int) -> float:
    """p95 of the torch model's own masked, deterministic predict."""
    from agents.export import resolve_model
    from agents.methods import load_any_model

    model = load_any_model(resolve_model("jobshop_15x15"))
    return p95(timings(lambda: model.predict(obs, deterministic=True, action_masks=mask), count))


if __name__ == "__main__":
    main()
