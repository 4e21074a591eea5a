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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from twin.experiment import Result
from twin.scenario import scenario_to_yaml

__all__ = [
    "META_COLUMNS",
    "StoreError",
    "find_runs",
    "is_run",
    "list_runs",
    "load_kpis",
    "new_run_id",
    "read_meta",
    "write_json_atomic",
    "write_run",
]

META_COLUMNS = {
    "run_id": "VARCHAR",
    "scenario": "VARCHAR",
    "seed": "BIGINT",
    "replications": "BIGINT",
    "created": "VARCHAR",
    "overrides": "JSON",
    "sweep_id": "VARCHAR",
    "point": "BIGINT",
    "name": "VARCHAR",
    "time_unit": "VARCHAR",
}
"""Fields of meta.json that :func:`list_runs` returns, with their DuckDB types."""


class StoreError(ValueError):
    """A path given as a run, sweep or store is none of them; the message names it."""


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


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``document`` in one step (write a temporary file, then rename)."""
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def write_run(
    result: Result,
    root: str | Path,
    overrides: Mapping[str, Any] | None = None,
    events: bool = False,
    wall_time_s: float | None = None,
    run_id: str | None = None,
    extra_meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``result`` as a new run under ``root`` and return its folder.

    Args:
        run_id: the folder name (default: a new unique id).
        extra_meta: more fields for meta.json (a sweep's id and point number).

    Raises:
        ValueError: ``events`` is asked for but the result kept no event logs.
        FileExistsError: a run with this id is already complete.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    run_id = run_id or new_run_id(result.scenario.name, created)
    final = root / run_id
    if final.exists():
        raise FileExistsError(f"run {final} already exists")
    temporary = root / f".{run_id}.partial"
    shutil.rmtree(temporary, ignore_errors=True)  # left by a crash
    frame = result.events if events else None
    if events and frame is None:
        raise ValueError("events were asked for but the result kept no event logs")
    temporary.mkdir()
    try:
        (temporary / "scenario.yaml").write_text(scenario_to_yaml(result.scenario), encoding="utf-8")
        meta = {
            "run_id": run_id,
            "scenario": result.scenario.name,
            "time_unit": result.scenario.time_unit,
            "seed": result.seed,
            "replications": len(result.replications),
            "overrides": dict(overrides or {}),
            "created": created.isoformat(),
            "wall_time_s": wall_time_s,
            "versions": _versions(),
            **(extra_meta or {}),
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


def is_run(path: Path) -> bool:
    """Whether ``path`` is a complete run folder (partial ones are hidden and never count)."""
    return not path.name.startswith(".") and (path / "meta.json").is_file() and (path / "kpis.parquet").is_file()


def read_meta(run: Path) -> dict[str, Any]:
    """The meta.json of a run folder."""
    meta: dict[str, Any] = json.loads((run / "meta.json").read_text(encoding="utf-8"))
    return meta


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Run folders named by ``paths``: a run, a sweep (its points in order) or a store root
    (every run and sweep point in it, oldest first). Hidden (partial) folders never count.

    Raises:
        StoreError: a path is none of these, or holds no run.
    """
    runs: list[Path] = []
    for given in paths:
        path = Path(given)
        if is_run(path):
            runs.append(path)
        elif (path / "sweep.json").is_file():
            plan = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
            runs += [path / p["run_id"] for p in plan["points"] if is_run(path / p["run_id"])]
        elif path.is_dir():
            found = [
                run
                for run in sorted(path.glob("*/meta.json")) + sorted(path.glob("*/*/meta.json"))
                if not any(part.startswith(".") for part in run.relative_to(path).parts) and is_run(run.parent)
            ]
            runs += sorted((run.parent for run in found), key=lambda run: (read_meta(run)["created"], run.name))
        else:
            raise StoreError(f"{path}: no such run, sweep or run store")
        if not runs:
            raise StoreError(f"{path}: holds no complete run")
    return runs


def list_runs(root: str | Path) -> pd.DataFrame:
    """One row per complete run under ``root`` (sweep points included), from their meta.json
    files in one DuckDB query: the :data:`META_COLUMNS` plus ``path``."""
    import duckdb

    root = Path(root)
    files = [str(run / "meta.json") for run in find_runs([root])] if root.is_dir() else []
    if not files:
        return pd.DataFrame(columns=[*META_COLUMNS, "path"])
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in META_COLUMNS.items())
    query = f"""
        SELECT * EXCLUDE (filename, overrides), overrides::VARCHAR AS overrides,
               regexp_replace(filename, '/meta.json$', '') AS path
        FROM read_json($files, columns = {{{columns}}}, filename = true)
        ORDER BY created, run_id
    """
    return duckdb.connect().execute(query, {"files": files}).df()


def load_kpis(runs: list[Path]) -> pd.DataFrame:
    """Per-replication KPIs of many runs in one DuckDB query over their Parquet files, with a
    ``run_id`` column (runs may have different KPI columns; missing ones are null)."""
    import duckdb

    if not runs:
        return pd.DataFrame()
    files = [str(run / "kpis.parquet") for run in runs]
    query = """
        SELECT regexp_extract(filename, '([^/]+)/kpis.parquet$', 1) AS run_id, * EXCLUDE (filename)
        FROM read_parquet($files, filename = true, union_by_name = true)
        ORDER BY list_position($files, filename), replication
    """
    return duckdb.connect().execute(query, {"files": files}).df()
