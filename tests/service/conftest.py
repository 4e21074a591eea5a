"""Servers shared by the service tests (one per module that asks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.service.server import Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A service with generous limits, for the role table and the run checks."""
    running = start_server(tmp_path_factory.mktemp("service"), "--rate", "1000", "--burst", "1000")
    yield running
    running.stop()
