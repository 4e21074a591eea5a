"""The append-only audit log: one JSON line per mutating call, each chained to the last.

``<data>/audit.jsonl`` holds one record per line: ``seq`` (from 1), ``time`` (ISO, UTC),
``token`` (the token's name, ``""`` when none was valid), ``role``, ``method``,
``endpoint`` (the path), ``request_hash`` (SHA-256 of the body), ``outcome`` (the HTTP
status), ``model_version`` (``"model@version"`` for decisions, else ``null``), ``prev`` (the
previous line's hash; 64 zeros for the first) and ``hash``: SHA-256 of ``prev`` and the
record without ``hash`` as canonical JSON. Changing a line breaks its own hash; deleting one
breaks the next line's ``prev``. ``<data>/audit.head.json`` keeps the count and the last
hash (replaced in one rename), so cutting lines off the end is seen too.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twin.studies.store import write_json_atomic

__all__ = ["AUDIT_FILE", "AUDIT_HEAD", "AuditLog", "Verification", "verify_audit"]

AUDIT_FILE = "audit.jsonl"
AUDIT_HEAD = "audit.head.json"
_GENESIS = "0" * 64


def _digest(record: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in record.items() if k != "hash"}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((record.get("prev", "") + body).encode()).hexdigest()


class AuditLog:
    """Appends chained records to one data folder's audit log (thread-safe)."""

    def __init__(self, data: str | Path) -> None:
        self.path = Path(data) / AUDIT_FILE
        self.head = Path(data) / AUDIT_HEAD
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = json.loads(self.head.read_text(encoding="utf-8")) if self.head.is_file() else {}
        self._seq = int(state.get("lines", 0))
        self._last = str(state.get("hash", _GENESIS))

    def append(
        self,
        *,
        token: str,
        role: str,
        method: str,
        endpoint: str,
        request_hash: str,
        outcome: int,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """Write one record (fields as in the module doc) and return it."""
        with self._lock:
            record: dict[str, Any] = {
                "seq": self._seq + 1,
                "time": datetime.now(UTC).isoformat(),
                "token": token,
                "role": role,
                "method": method,
                "endpoint": endpoint,
                "request_hash": request_hash,
                "outcome": outcome,
                "model_version": model_version,
                "prev": self._last,
            }
            record["hash"] = _digest(record)
            line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode())
            finally:
                os.close(descriptor)
            self._seq, self._last = record["seq"], record["hash"]
            write_json_atomic(self.head, {"lines": self._seq, "hash": self._last})
            return record


@dataclass
class Verification:
    """What :func:`verify_audit` found: ``lines`` read and one text per problem."""

    lines: int
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Whether the chain holds from the first line to the head."""
        return not self.problems


def verify_audit(data: str | Path) -> Verification:
    """Check the chain of a data folder's audit log against itself and its head file."""
    path, head = Path(data) / AUDIT_FILE, Path(data) / AUDIT_HEAD
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    problems: list[str] = []
    previous = _GENESIS
    for number, line in enumerate(lines, start=1):
        where = f"{AUDIT_FILE}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"{where}: not a JSON line")
            previous = ""
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        if record.get("seq") != number:
            problems.append(f"{where}: seq: out of order, a line was deleted or moved (got {record.get('seq')})")
        if record.get("prev") != previous:
            problems.append(f"{where}: prev: not the previous line's hash (a line before was changed or deleted)")
        if record.get("hash") != _digest(record):
            problems.append(f"{where}: hash: does not match the line (the line was changed)")
        previous = str(record.get("hash", ""))
    state = json.loads(head.read_text(encoding="utf-8")) if head.is_file() else {"lines": 0, "hash": _GENESIS}
    if state.get("lines") != len(lines) or state.get("hash") != (previous if lines else _GENESIS):
        problems.append(
            f"{AUDIT_HEAD}: the head names {state.get('lines')} lines ending in {str(state.get('hash'))[:12]}, "
            f"the log has {len(lines)} (lines were cut off the end)"
        )
    return Verification(len(lines), problems)
