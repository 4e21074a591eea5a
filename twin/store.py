"""Runs on disk (DESIGN.md run-store contract).

``<root>/<run_id>/`` holds ``scenario.yaml`` (fully resolved), ``meta.json`` (seed, versions,
time, overrides), ``kpis.parquet`` (one row per replication) and, when asked,
``events.parquet``. A run is written into a hidden temporary folder beside its final place and
renamed into place when complete, so a crash never leaves a half run that looks whole.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from twin.experiment import Result
from twin.scenario import scenario_to_yaml

__all__ = ["new_run_id", "write_run"]


def new_run_id(scenario_name: str, now: datetime | None = None) -> str:
    """A unique, sortable, filesystem-safe run id: ``<name>-<UTC time>-<random>``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario_name).strip("-.") or "run"
    return f"{slug}-{stamp}-{uuid.uuid4().hex[:6]}"


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("factory-twin", "simpy", "numpy", "pandas", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def write_run(
    result: Result,
    root: str | Path,
    overrides: Mapping[str, Any] | None = None,
    events: bool = False,
    wall_time_s: float | None = None,
) -> Path:
    """Write ``result`` as a new run under ``root`` and return its folder.

    Raises:
        ValueError: ``events`` is asked for but the result kept no event logs.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    run_id = new_run_id(result.scenario.name, created)
    final = root / run_id
    temporary = root / f".{run_id}.partial"
    frame = result.events if events else None
    if events and frame is None:
        raise ValueError("events were asked for but the result kept no event logs")
    temporary.mkdir()
    try:
        (temporary / "scenario.yaml").write_text(scenario_to_yaml(result.scenario), encoding="utf-8")
        meta = {
            "run_id": run_id,
            "scenario": result.scenario.name,
            "seed": result.seed,
            "replications": len(result.replications),
            "overrides": dict(overrides or {}),
            "created": created.isoformat(),
            "wall_time_s": wall_time_s,
            "versions": _versions(),
        }
        (temporary / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        result.kpis.to_parquet(temporary / "kpis.parquet", index=False)
        if frame is not None:
            frame.to_parquet(temporary / "events.parquet", index=False)
        os.replace(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return final
