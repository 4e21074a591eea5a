"""Every role against every endpoint of a real server: 401 without a valid token, 403 below
the route's role, the route's own answer from its role up (roles are cumulative)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.server import MM1, Server, observation, tiny_policy, wait_job
from twin.service.roles import Role

ROLES = [role.label for role in Role]
SMALL = {"scenario": MM1, "overrides": ["horizon=500", "warmup=0"], "replications": 1, "seed": 1}


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, str]:
    """A model serving version 1, a finished run job and its run id."""
    with server.client("admin") as admin:
        assert admin.put("/v1/models/tiny", content=tiny_policy()).status_code == 201
        assert admin.post("/v1/models/tiny/promote", json={"version": 1}).status_code == 200
        job = admin.post("/v1/runs", json=SMALL).json()
        done = wait_job(admin, job["id"])
    assert done["status"] == "done", done
    result: Any = done["result"]
    return {"job": job["id"], "run": result["run_id"]}


def table(world: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | bytes | None, str, int]]:
    """(method, path, body, lowest role, answer from that role up)."""
    decide = {"model": "tiny", "observation": observation(), "mask": [True, True, False]}
    sweep = {**SMALL, "vary": {"stations.server.machines": [1, 2]}}
    return [
        ("GET", "/v1/runs", None, "viewer", 200),
        ("GET", f"/v1/runs/{world['run']}", None, "viewer", 200),
        ("GET", "/v1/jobs", None, "viewer", 200),
        ("GET", f"/v1/jobs/{world['job']}", None, "viewer", 200),
        ("POST", "/v1/scenarios/validate", {"scenario": MM1}, "viewer", 200),
        ("GET", "/v1/models", None, "viewer", 200),
        ("GET", "/v1/models/tiny", None, "viewer", 200),
        ("GET", "/v1/state", None, "viewer", 404),  # this server follows no mirror
        ("POST", "/v1/runs", SMALL, "planner", 202),
        ("POST", "/v1/sweeps", sweep, "planner", 202),
        ("POST", f"/v1/jobs/{world['job']}/cancel", None, "planner", 409),  # it has ended
        ("POST", "/v1/forecast", {"horizon": 10}, "planner", 422),  # no scenario, no mirror
        ("POST", "/v1/decide", decide, "operator", 200),
        ("PUT", "/v1/models/tiny", tiny_policy(seed=1), "admin", 201),
        ("POST", "/v1/models/tiny/promote", {"version": 1}, "admin", 200),
        ("POST", "/v1/models/tiny/rollback", None, "admin", 409),  # 1 was always the one serving
        ("GET", "/v1/tokens", None, "admin", 200),
        ("POST", "/v1/tokens", {"role": "viewer"}, "admin", 201),
        ("DELETE", "/v1/tokens/nobody", None, "admin", 404),  # no such token, but allowed to ask
        ("GET", "/v1/audit/verify", None, "admin", 200),
    ]


def _send(client: Any, method: str, path: str, body: dict[str, Any] | bytes | None) -> Any:
    if isinstance(body, bytes):
        return client.request(method, path, content=body)
    return client.request(method, path, json=body)


def test_every_role_against_every_endpoint(server: Server, world: dict[str, str]) -> None:
    revoked = server.tokens["admin"] + "x"  # malformed: same as unknown
    wrong = "twin_00000000_" + "A" * 43
    refused = [server.client(token=token) for token in (None, revoked, wrong)]
    clients = {role: server.client(role) for role in ROLES}
    for method, path, body, lowest, answer in table(world):
        for anonymous in refused:
            response = _send(anonymous, method, path, body)
            assert response.status_code == 401, (method, path, anonymous.headers, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer"
        for role, client in clients.items():
            response = _send(client, method, path, body)
            expected = answer if Role.parse(role) >= Role.parse(lowest) else 403
            assert response.status_code == expected, (method, path, role, response.text)
            if expected == 403:
                assert response.json()["problems"] == [f"role: this needs {lowest} or higher (token {role} is {role})"]


def test_open_paths_need_no_token(server: Server) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/health").json()["status"] == "ok"
        assert anonymous.get("/docs").status_code == 200
        paths = anonymous.get("/openapi.json").json()["paths"]
    assert {"/v1/runs", "/v1/decide", "/v1/models/{model_id}/promote", "/health"} <= set(paths)
    assert paths["/v1/runs"]["post"]["security"] == [{"HTTPBearer": []}]


def test_a_revoked_token_is_refused_at_once(server: Server) -> None:
    with server.client("admin") as admin:
        created = admin.post("/v1/tokens", json={"role": "operator", "name": "shortlived"}).json()
        assert created["role"] == "operator"
        with server.client(token=created["token"]) as client:
            assert client.get("/v1/models").status_code == 200
            assert admin.delete("/v1/tokens/shortlived").status_code == 200
            assert client.get("/v1/models").status_code == 401
        listed = {t["name"]: t for t in admin.get("/v1/tokens").json()}
    assert listed["shortlived"]["revoked"] is not None
    assert all("hash" not in t for t in listed.values())
