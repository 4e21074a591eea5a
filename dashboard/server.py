"""The dashboard as an ASGI app (``st.App``): what ``twin dashboard`` serves.

Streamlit's browser client, opened on a page's deep link (``/compare``), first asks for its
health and host configuration under that page's path (``/compare/_stcore/health``) before it
finds the server's root; Streamlit answers those only at the root. :class:`PagePaths` maps
``/<page>/_stcore/...`` onto ``/_stcore/...``, so deep links load without failed requests and
a load balancer may check health under any page path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

__all__ = ["PagePaths", "app"]

_UNDER_PAGE = re.compile(r"^/[^/]+(/_stcore/(?:health|script-health-check))$")


class PagePaths:
    """ASGI middleware: ``/<page>/_stcore/<rest>`` is served as ``/_stcore/<rest>``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            match = _UNDER_PAGE.match(scope.get("path", ""))
            if match and not scope["path"].startswith("/_stcore/"):
                scope = {**scope, "path": match.group(1), "raw_path": match.group(1).encode()}
        await self.inner(scope, receive, send)


app = st.App(Path(__file__).with_name("app.py"), middleware=[Middleware(PagePaths)])
