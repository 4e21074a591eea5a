"""Bearer tokens of the service: created once, stored only as argon2 hashes, revocable.

A token reads ``twin_<id>_<secret>``: ``id`` (8 hex digits) finds its entry in
``<data>/tokens.json`` without trying every hash; the secret (32 random bytes, URL-safe) is
checked against the entry's argon2id hash. The text is shown once, when created; the file
holds ``{"tokens": [{"id", "name", "role", "hash", "created", "revoked"}]}`` and is replaced
in one rename on every change.

argon2 is slow on purpose (tens of milliseconds), so :class:`TokenStore` remembers the
tokens it has verified (by their SHA-256, in memory only) and re-reads the file when it
changes, so a token revoked from the command line is refused by a running server at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from twin.service.roles import Role
from twin.studies.store import write_json_atomic

__all__ = ["TOKENS_FILE", "Principal", "TokenError", "TokenStore"]

TOKENS_FILE = "tokens.json"
_TOKEN = re.compile(r"^twin_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class TokenError(ValueError):
    """A token cannot be created or revoked; the message says which field and why."""


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to."""

    id: str
    name: str
    role: Role


class TokenStore:
    """The tokens of one service data folder (see the module doc)."""

    def __init__(self, data: str | Path) -> None:
        self.path = Path(data) / TOKENS_FILE
        self._hasher = PasswordHasher()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, dict[str, Any]] = {}
        self._verified: dict[str, str] = {}  # sha256 of a token -> its id

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        tokens: list[dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))["tokens"]
        return tokens

    def _write(self, tokens: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, {"tokens": tokens})

    def create(self, role: Role, name: str | None = None) -> tuple[str, Principal]:
        """A new token for ``role``: its text (shown once; only its hash is stored) and owner.

        Names need not be unique (a script may create ``--name ci`` on every run); revoking a
        name revokes every live token of that name.

        Raises:
            TokenError: ``name`` is not a plain name.
        """
        with self._lock:
            tokens = self._read()
            token_id = secrets.token_hex(4)
            while any(entry["id"] == token_id for entry in tokens):
                token_id = secrets.token_hex(4)
            name = name or f"token-{token_id}"
            if not _NAME.match(name):
                raise TokenError(f"--name: letters, digits and _.@- only, at most 64 (got {name!r})")
            text = f"twin_{token_id}_{secrets.token_urlsafe(32)}"
            tokens.append(
                {
                    "id": token_id,
                    "name": name,
                    "role": role.label,
                    "hash": self._hasher.hash(text),
                    "created": datetime.now(UTC).isoformat(),
                    "revoked": None,
                }
            )
            self._write(tokens)
        return text, Principal(token_id, name, role)

    def revoke(self, name_or_id: str) -> list[Principal]:
        """Revoke every live token of this name, or the one of this id; return their owners.

        Raises:
            TokenError: no live token has this name or id.
        """
        with self._lock:
            tokens = self._read()
            now = datetime.now(UTC).isoformat()
            revoked = []
            for entry in tokens:
                if name_or_id in (entry["name"], entry["id"]) and entry["revoked"] is None:
                    entry["revoked"] = now
                    revoked.append(Principal(entry["id"], entry["name"], Role.parse(entry["role"])))
            if revoked:
                self._write(tokens)
                return revoked
        raise TokenError(f"token: no live token has this name or id (got {name_or_id!r})")

    def list(self) -> list[dict[str, Any]]:
        """Every token's entry without its hash (revoked ones too)."""
        return [{k: v for k, v in entry.items() if k != "hash"} for entry in self._read()]

    def _refresh(self) -> None:
        """Re-read the file when it changed since the last look (size and modification time)."""
        try:
            status = self.path.stat()
            stamp = (status.st_mtime_ns, status.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != self._stamp:
            self._entries = {entry["id"]: entry for entry in self._read()}
            self._stamp = stamp

    def authenticate(self, text: str) -> Principal | None:
        """The owner of a live token, or None for a malformed, unknown, wrong or revoked one."""
        match = _TOKEN.match(text)
        if match is None:
            return None
        digest = hashlib.sha256(text.encode()).hexdigest()
        with self._lock:
            self._refresh()
            entry = self._entries.get(match.group(1))
            if entry is None or entry["revoked"] is not None:
                return None
            if self._verified.get(digest) != entry["id"]:
                try:
                    self._hasher.verify(entry["hash"], text)
                except (VerificationError, InvalidHashError):
                    return None
                self._verified[digest] = entry["id"]
            return Principal(entry["id"], entry["name"], Role.parse(entry["role"]))
