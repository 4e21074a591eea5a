"""The ASGI middleware in front of every request: the body size limit and the audit log.

It reads the body first (refusing one past ``max_body`` bytes with 413, by its
Content-Length or as it streams), hashes it, hands it on, and, for a mutating call (any
method but GET, HEAD and OPTIONS), appends the outcome to the audit log with the token the
route authenticated (``scope["state"]["principal"]``) and the model version a decision used
(``scope["state"]["model_version"]``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.service.audit import AuditLog

__all__ = ["Guard"]

_READING = frozenset({"GET", "HEAD", "OPTIONS"})


class Guard:
    """Body limit and audit around ``app`` (see the module doc)."""

    def __init__(self, app: ASGIApp, audit: AuditLog, max_body: int) -> None:
        self.app, self.audit, self.max_body = app, audit, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        body = await self._read_body(scope, receive)
        status = {"code": 500}

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()
            message: Message = {"type": "http.request", "body": body, "more_body": False}
            body = None
            return message

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        digest = hashlib.sha256(body or b"").hexdigest()
        try:
            if body is None:
                await self._too_large(record_status)
            else:
                await self.app(scope, replay, record_status)
        finally:
            if scope["method"] not in _READING:
                principal = state.get("principal")
                self.audit.append(
                    token=principal.name if principal else "",
                    role=principal.role.label if principal else "",
                    method=scope["method"],
                    endpoint=scope["path"],
                    request_hash=digest,
                    outcome=status["code"],
                    model_version=state.get("model_version"),
                )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it is larger than the limit."""
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        line = f"body: larger than the limit of {self.max_body} bytes"
        content = json.dumps({"detail": line, "problems": [line]}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": content})
