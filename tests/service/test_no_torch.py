"""The service answers decisions without torch: onnxruntime only (the service extra has no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.service.server import observation, tiny_policy

SCRIPT = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from twin.service.app import create_app
from twin.service.config import ServiceConfig
from twin.service.roles import Role
from twin.service.tokens import TokenStore

data = Path(sys.argv[1])
token = TokenStore(data).create(Role.ADMIN, "admin")[0]
with TestClient(create_app(ServiceConfig(data=data))) as client:
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.put("/v1/models/m", content=(data / "m.onnx").read_bytes()).status_code == 201
    client.post("/v1/models/m/promote", json={"version": 1})
    answer = client.post("/v1/decide", json=json.loads(sys.argv[2])).json()
heavy = sorted(m for m in ("torch", "stable_baselines3", "sb3_contrib", "onnx") if m in sys.modules)
print(json.dumps({"answer": answer, "heavy": heavy}))
"""


def test_decide_loads_no_torch(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(tiny_policy())
    body = {"model": "m", "observation": observation(deciding=1), "mask": [False, True, True]}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), json.dumps(body)], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["heavy"] == []
    answer = report["answer"]
    assert answer["model"] == "m" and answer["version"] == 1 and answer["station"] == 1
    assert answer["action"] in (1, 2) and answer["probabilities"][0] == 0.0
    assert answer["fallback_rule"] == "spt"
    assert abs(sum(answer["probabilities"]) - 1) < 1e-6
