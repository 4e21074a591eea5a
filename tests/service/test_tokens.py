"""Tokens on disk: only argon2 hashes stored, names reusable, revocation by name or id, the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.service.server import TWIN
from twin.service.roles import Role
from twin.service.tokens import TOKENS_FILE, TokenError, TokenStore


def test_only_hashes_are_stored_and_tokens_check(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    text, owner = store.create(Role.PLANNER, "planner-1")
    stored = (tmp_path / TOKENS_FILE).read_text()
    assert text not in stored and text.split("_")[2] not in stored
    assert json.loads(stored)["tokens"][0]["hash"].startswith("$argon2id$")
    assert store.authenticate(text) == owner
    assert TokenStore(tmp_path).authenticate(text) == owner  # another process, same file
    assert store.authenticate(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    assert store.authenticate("Bearer nonsense") is None


def test_a_reused_name_revokes_all_its_live_tokens(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    first, _ = store.create(Role.VIEWER, "ci")
    second, owner = store.create(Role.ADMIN, "ci")
    other, _ = store.create(Role.VIEWER, "keep")
    assert [p.role for p in store.revoke("ci")] == [Role.VIEWER, Role.ADMIN]
    assert store.authenticate(first) is None and store.authenticate(second) is None
    assert store.authenticate(other) is not None
    with pytest.raises(TokenError, match="no live token"):
        store.revoke("ci")
    with pytest.raises(TokenError, match="--name: letters"):
        store.create(Role.VIEWER, "no spaces")
    assert owner.id in {t["id"] for t in store.list()}


def test_token_commands(tmp_path: Path) -> None:
    made = subprocess.run(
        [TWIN, "token", "create", "--role", "operator", "--name", "mes", "--data", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(made.stdout)
    assert set(document) == {"token", "name", "role"} and document["role"] == "operator"
    assert TokenStore(tmp_path).authenticate(document["token"]) is not None
    gone = subprocess.run([TWIN, "token", "revoke", "mes", "--data", str(tmp_path)], capture_output=True, text=True)
    assert gone.returncode == 0 and TokenStore(tmp_path).authenticate(document["token"]) is None
    again = subprocess.run([TWIN, "token", "revoke", "mes", "--data", str(tmp_path)], capture_output=True, text=True)
    assert again.returncode == 2 and "no live token" in again.stderr and "Traceback" not in again.stderr
