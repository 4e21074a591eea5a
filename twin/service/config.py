"""Settings of one running service: where it keeps things and its limits, with defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServiceConfig"]


@dataclass(frozen=True)
class ServiceConfig:
    """What ``twin serve`` is told (docs/architecture.md, "Decision service").

    Attributes:
        data: folder of tokens, the audit log and (by default) models and runs.
        runs: run store of the runs and sweeps started over HTTP (default ``<data>/runs``).
        models: model registry (default ``<data>/models``).
        max_body: largest request body in bytes (413 beyond).
        budget: largest replications x horizon x stations of one request (422 beyond).
        rate: requests per second per token, refilled continuously (429 beyond).
        burst: requests a token may make at once before the rate applies.
        job_timeout: seconds a run or sweep job may take before it is stopped.
        queue_limit: jobs waiting or running at once (429 beyond).
        workers: jobs running at once, each in its own process.
        scenario: the plant the service follows (decisions and forecasts that bring no
            scenario use it).
        mirror_state: the plant-state file a live mirror keeps current (``twin mirror
            --state-out``); decisions and forecasts that bring no state use it.
    """

    data: Path = Path("twin-service")
    runs: Path | None = None
    models: Path | None = None
    max_body: int = 1_000_000
    budget: float = 1e9
    rate: float = 20.0
    burst: int = 40
    job_timeout: float = 600.0
    queue_limit: int = 16
    workers: int = 1
    scenario: Path | None = None
    mirror_state: Path | None = None

    @property
    def runs_dir(self) -> Path:
        """The run store in use."""
        return self.runs or self.data / "runs"

    @property
    def models_dir(self) -> Path:
        """The model registry in use."""
        return self.models or self.data / "models"
