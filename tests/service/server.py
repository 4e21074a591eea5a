"""A real ``twin serve`` for tests: a uvicorn subprocess on 127.0.0.1 and a free port, waited
for until ``/health`` answers, stopped by its own PID; and a tiny exported dispatcher built
with onnx.helper (no torch), of the graph contract of :mod:`twin.service.policy`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from twin.service.roles import Role
from twin.service.tokens import TokenStore

ROOT = Path(__file__).resolve().parents[2]
TWIN = str(Path(sys.executable).with_name("twin"))
MM1 = (ROOT / "scenarios" / "validation" / "mm1.yaml").read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running service: its URL, data folder, process and one token per role."""

    url: str
    data: Path
    process: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, token: str | None = None) -> httpx.Client:
        text = token if token is not None else self.tokens[role] if role else None
        headers = {"Authorization": f"Bearer {text}"} if text is not None else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(data: Path, *options: str) -> Server:
    """Start ``twin serve --data DATA OPTIONS`` and create a token per role (named after it)."""
    store = TokenStore(data)
    tokens = {role.label: store.create(role, role.label)[0] for role in Role}
    port = free_port()
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [TWIN, "serve", "--port", str(port), "--data", str(data), *options], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"twin serve exited: {(data / 'server.log').read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(url, data, process, tokens)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("twin serve did not answer /health within 60 s")


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, object]:
    """Poll a job until it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, object] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def tiny_policy(stations: int = 2, max_queue: int = 3, seed: int = 0) -> bytes:
    """A linear dispatcher (logits = observation @ W) as ONNX with the mask inside."""
    from onnx import TensorProto, helper, numpy_helper

    size = 3 + 6 * stations + 7 * max_queue
    weights = np.random.default_rng(seed).normal(size=(size, max_queue)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["observation", "W"], ["logits"]),
        helper.make_node("Where", ["action_mask", "logits", "floor"], ["masked"]),
        helper.make_node("Softmax", ["masked"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["masked"], ["action"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", size]),
            helper.make_tensor_value_info("action_mask", TensorProto.BOOL, ["batch", max_queue]),
        ],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", max_queue]),
            helper.make_tensor_value_info("action", TensorProto.INT64, ["batch"]),
        ],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(np.array(-1e8, np.float32), "floor")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    card = {
        "name": "tiny",
        "observation_size": size,
        "actions": max_queue,
        "stations": stations,
        "max_queue": max_queue,
        "fallback_rule": "spt",
    }
    helper.set_model_props(model, {"card": json.dumps(card)})
    return bytes(model.SerializeToString())


def observation(stations: int = 2, max_queue: int = 3, deciding: int = 1, seed: int = 0) -> list[float]:
    """A random observation of that shape with station ``deciding`` deciding."""
    values = np.random.default_rng(seed).uniform(0, 1, 3 + 6 * stations + 7 * max_queue)
    values[3 : 3 + stations] = 0.0
    values[3 + deciding] = 1.0
    return [float(v) for v in values]
