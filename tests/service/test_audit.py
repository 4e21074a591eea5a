"""The audit log of a real server: every mutating call, chained; `twin audit verify` finds a
changed, a deleted and a cut-off line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.service.server import MM1, TWIN, Server, observation, tiny_policy
from twin.service.audit import AUDIT_FILE, AUDIT_HEAD, AuditLog, verify_audit


def _verify(data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TWIN, "audit", "verify", "--data", str(data)], capture_output=True, text=True)


def _records(data: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (data / AUDIT_FILE).read_text().splitlines()]


def test_mutating_calls_are_audited_and_reads_are_not(server: Server) -> None:
    before = len(_records(server.data)) if (server.data / AUDIT_FILE).exists() else 0
    with server.client("admin") as admin, server.client("viewer") as viewer:
        admin.put("/v1/models/audited", content=tiny_policy())
        admin.post("/v1/models/audited/promote", json={"version": 1})
        decided = admin.post("/v1/decide", json={"model": "audited", "observation": observation(), "mask": [1, 1, 1]})
        assert decided.status_code == 200
        viewer.post("/v1/scenarios/validate", json={"scenario": MM1})
        viewer.post("/v1/models/audited/rollback")  # refused: 403, audited all the same
        viewer.get("/v1/models")
    records = _records(server.data)[before:]
    assert [(r["method"], r["endpoint"], r["outcome"]) for r in records] == [
        ("PUT", "/v1/models/audited", 201),
        ("POST", "/v1/models/audited/promote", 200),
        ("POST", "/v1/decide", 200),
        ("POST", "/v1/scenarios/validate", 200),
        ("POST", "/v1/models/audited/rollback", 403),
    ]
    assert [r["token"] for r in records] == ["admin"] * 3 + ["viewer"] * 2
    assert records[2]["model_version"] == "audited@1" and records[0]["model_version"] is None
    assert len(str(records[2]["request_hash"])) == 64 and records[2]["request_hash"] != records[3]["request_hash"]
    assert _verify(server.data).returncode == 0


def test_tampering_is_detected(server: Server, tmp_path: Path) -> None:
    with server.client("admin") as admin:
        for _ in range(3):
            admin.post("/v1/scenarios/validate", json={"scenario": MM1})
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (AUDIT_FILE, AUDIT_HEAD):
        shutil.copy(server.data / name, copy / name)
    ok = _verify(copy)
    assert ok.returncode == 0 and ok.stdout.startswith("audit log: intact")
    lines = (copy / AUDIT_FILE).read_text().splitlines(keepends=True)

    changed = lines.copy()
    changed[1] = changed[1].replace('"outcome":', '"outcome":1', 1)
    (copy / AUDIT_FILE).write_text("".join(changed))
    found = _verify(copy)
    assert found.returncode == 1 and f"{AUDIT_FILE}:2: hash: does not match" in found.stderr

    (copy / AUDIT_FILE).write_text("".join(lines[:1] + lines[2:]))  # a middle line deleted
    found = _verify(copy)
    assert found.returncode == 1 and f"{AUDIT_FILE}:2: prev: not the previous line's hash" in found.stderr

    (copy / AUDIT_FILE).write_text("".join(lines[:-1]))  # the last line cut off
    found = _verify(copy)
    assert found.returncode == 1 and f"{AUDIT_HEAD}: the head names" in found.stderr


def test_the_chain_survives_a_restart(tmp_path: Path) -> None:
    first = AuditLog(tmp_path)
    first.append(token="a", role="admin", method="POST", endpoint="/x", request_hash="0" * 64, outcome=200)
    again = AuditLog(tmp_path)  # a restarted service continues the chain
    record = again.append(token="a", role="admin", method="POST", endpoint="/y", request_hash="1" * 64, outcome=201)
    assert record["seq"] == 2
    assert verify_audit(tmp_path).intact and verify_audit(tmp_path).lines == 2
