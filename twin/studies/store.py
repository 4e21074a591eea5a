"""The run store: every on-disk format of the twin, and the one way they are written.

A run store is a folder (``runs/`` by default) holding (docs/architecture.md, "On disk"):

- **runs** ``<root>/<run_id>/``: ``scenario.yaml`` (fully resolved), ``meta.json`` (seed,
  versions, time, overrides), ``kpis.parquet`` (one row per replication) and, when asked,
  ``events.parquet``;
- **sweeps** ``<root>/<sweep_id>/``: ``sweep.json`` (the plan and its status),
  ``scenario.yaml`` (the base) and one run folder per finished point;
- **design studies** ``<root>/<study_id>/``: one run per evaluated design and
  ``optimize.json`` (the summary);
- **evaluations** ``<root>/evaluations/<evaluation_id>/``: ``evaluation.json``,
  ``results.parquet`` and ``schedules.parquet`` (columns in :mod:`twin.jobshop.evaluation`).

Folders are written by :func:`atomic_folder` (into a hidden temporary folder beside the final
place, renamed into place when complete) and single files by :func:`write_json_atomic` and :func:`atomic_file`,
so a crash never leaves a half-written thing that looks whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.scenario import Scenario, scenario_to_yaml

if TYPE_CHECKING:
    import pandas as pd

    from twin.measure.experiment import Result

__all__ = [
    "EVALUATIONS",
    "META_COLUMNS",
    "PARTIAL",
    "StoreError",
    "atomic_file",
    "atomic_folder",
    "delete_folder",
    "file_slug",
    "find_evaluations",
    "find_run_of",
    "find_runs",
    "find_studies",
    "find_sweeps",
    "is_run",
    "list_runs",
    "list_studies",
    "load_kpis",
    "load_results",
    "load_schedules",
    "new_run_id",
    "package_versions",
    "ran_as",
    "read_evaluation",
    "read_meta",
    "read_study_summary",
    "read_sweep",
    "rename_run",
    "sweep_lock",
    "tag_run",
    "write_evaluation",
    "write_json_atomic",
    "write_run",
    "write_scenario_file",
    "write_study_summary",
    "write_sweep",
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
    "study_id": "VARCHAR",
    "design_index": "BIGINT",
    "tags": "VARCHAR[]",
}
"""Fields of meta.json that :func:`list_runs` returns, with their DuckDB types."""

SWEEP_FILE = "sweep.json"
STUDY_FILE = "optimize.json"
EVALUATIONS = "evaluations"
"""Folder of a run store that holds the evaluations."""


class StoreError(ValueError):
    """A path given as a run, sweep or store is none of them; the message names it."""


MAX_SLUG = 80
"""Characters of a scenario name kept in a run id (file names may hold 255 bytes)."""


def file_slug(name: str) -> str:
    """A scenario name as a safe part of a file name: letters, digits, ``_.-`` only (no
    slashes, so never a path out of the folder), at most :data:`MAX_SLUG` characters."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:MAX_SLUG].strip("-.") or "run"


def new_run_id(scenario_name: str, now: datetime | None = None) -> str:
    """A unique, sortable, filesystem-safe run id: ``<name>-<UTC time>-<random>``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"{file_slug(scenario_name)}-{stamp}-{uuid.uuid4().hex[:6]}"


def package_versions(
    packages: Iterable[str] = ("factory-twin", "simpy", "numpy", "pandas", "pydantic"),
) -> dict[str, str]:
    """Python's and each package's installed version (``unknown`` when not installed), for
    the metadata that makes a stored result reproducible."""
    versions = {"python": platform.python_version()}
    for package in packages:
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


@contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """Write the file ``final`` in one step: yields a hidden temporary path beside it to write
    to, renamed to ``final`` when the block ends, removed if the block raises."""
    temporary = final.with_name(f".{final.name}.partial")
    try:
        yield temporary
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


PARTIAL = ".partial"
"""Hidden folder, beside what is being written, that holds folders under construction:
``<parent>/.partial/<token>/<name>/``, two levels below the parent, so neither a store glob
``store/*/kpis.parquet`` nor a sweep glob ``store/*/*/kpis.parquet`` can match one."""

STALE_S = 3600.0
"""Age after which an unlocked folder under construction is stale even without its lock file."""


def _clean_stale(staging: Path) -> None:
    """Remove folders under construction that no live process owns. Their owner holds an
    exclusive lock on ``<token>.lock`` while it writes ``<token>/``, which the kernel releases
    when the owner dies (even by kill -9); a folder without a lock file counts as stale once
    it is :data:`STALE_S` old."""
    for lock_path in staging.glob("*.lock"):
        try:
            descriptor = os.open(lock_path, os.O_RDWR)
        except OSError:
            continue  # removed meanwhile
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live writer
        finally:
            os.close(descriptor)
        shutil.rmtree(lock_path.with_suffix(""), ignore_errors=True)
        lock_path.unlink(missing_ok=True)
    for token in staging.iterdir():
        try:
            orphan = token.is_dir() and not token.with_suffix(".lock").exists()
            if orphan and time.time() - token.stat().st_mtime > STALE_S:
                shutil.rmtree(token, ignore_errors=True)
        except OSError:
            continue


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Build the folder ``final`` in one step: yields a temporary folder (under the hidden
    :data:`PARTIAL` folder beside it) to write into, renamed to ``final`` when the block ends,
    removed if the block raises. Folders under construction that a crash left beside it are
    removed first.

    Raises:
        FileExistsError: ``final`` already exists.
    """
    if final.exists():
        raise FileExistsError(f"{final} already exists")
    staging = final.parent / PARTIAL
    token = staging / uuid.uuid4().hex
    for attempt in range(3):  # another writer may remove the empty staging folder meanwhile
        staging.mkdir(parents=True, exist_ok=True)
        if attempt == 0:
            _clean_stale(staging)
        try:
            descriptor = os.open(token.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileNotFoundError:
            continue
    else:
        raise OSError(f"cannot create a folder under construction in {staging}")
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        temporary = token / final.name
        temporary.mkdir(parents=True)
        try:
            yield temporary
            os.replace(temporary, final)
        finally:
            shutil.rmtree(token, ignore_errors=True)
            token.with_suffix(".lock").unlink(missing_ok=True)
    finally:
        os.close(descriptor)
        with contextlib.suppress(OSError):  # left in place while others write there
            staging.rmdir()


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``.

    Raises:
        StoreError: the file cannot be read, is not JSON, or holds no JSON object.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise StoreError(f"{path}: damaged or unreadable ({getattr(error, 'strerror', None) or error})") from None
    if not isinstance(document, dict):
        raise StoreError(f"{path}: damaged (expected a JSON object)")
    return document


# Runs


def ran_as(scenario: Scenario, seed: int, replications: int) -> Scenario:
    """``scenario`` with the seed and replications a run actually used (``--seed`` and
    ``--replications`` override the file's): what a run's ``scenario.yaml`` holds, so that
    running the stored file again gives the same result."""
    return scenario.model_copy(update={"seed": seed, "replications": replications})


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
    created = datetime.now(UTC)
    run_id = run_id or new_run_id(result.scenario.name, created)
    frame = result.events if events else None
    if events and frame is None:
        raise ValueError("events were asked for but the result kept no event logs")
    final = Path(root) / run_id
    ran = ran_as(result.scenario, result.seed, len(result.replications))
    with atomic_folder(final) as folder:
        (folder / "scenario.yaml").write_text(scenario_to_yaml(ran), encoding="utf-8")
        meta = {
            "run_id": run_id,
            "scenario": result.scenario.name,
            "time_unit": result.scenario.time_unit,
            "seed": result.seed,
            "replications": len(result.replications),
            "overrides": dict(overrides or {}),
            "created": created.isoformat(),
            "wall_time_s": wall_time_s,
            "versions": package_versions(),
            **(extra_meta or {}),
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        result.kpis.to_parquet(folder / "kpis.parquet", index=False)
        if frame is not None:
            frame.to_parquet(folder / "events.parquet", index=False)
    return final


def is_run(path: Path) -> bool:
    """Whether ``path`` is a complete run folder (partial ones are hidden and never count)."""
    return not path.name.startswith(".") and (path / "meta.json").is_file() and (path / "kpis.parquet").is_file()


def read_meta(run: Path) -> dict[str, Any]:
    """The meta.json of a run folder."""
    return _read_json(run / "meta.json")


def _runs_in(path: Path) -> list[Path]:
    """The runs a path names, or StoreError saying why it names none."""
    if is_run(path):
        return [path]
    if (path / SWEEP_FILE).is_file():
        plan = read_sweep(path)
        points = plan.get("points")
        if not isinstance(points, list) or not all(isinstance(p, dict) and "run_id" in p for p in points):
            raise StoreError(f"{path / SWEEP_FILE}: damaged (no list of points with run ids)")
        found = [path / str(p["run_id"]) for p in points if is_run(path / str(p["run_id"]))]
    elif (path / "meta.json").is_file():
        raise StoreError(f"{path}: not a complete run (kpis.parquet is missing)")
    elif path.is_dir():
        metas = sorted(path.glob("*/meta.json")) + sorted(path.glob("*/*/meta.json"))
        runs = [
            meta.parent
            for meta in metas
            if not any(part.startswith(".") for part in meta.relative_to(path).parts) and is_run(meta.parent)
        ]
        found = sorted(runs, key=lambda run: (str(read_meta(run).get("created", "")), run.name))
    elif path.exists():
        raise StoreError(f"{path}: not a run, sweep or run store (a file, not a folder)")
    else:
        raise StoreError(f"{path}: no such run, sweep or run store")
    if not found:
        raise StoreError(f"{path}: holds no complete run")
    return found


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Run folders named by ``paths``: a run, a sweep (its points in order) or a store root
    (every run and sweep point in it, oldest first). Hidden (partial) folders never count; a
    run named twice counts once (by its resolved path: runs are keyed by path, never by
    folder name, since two stores may hold runs of the same id).

    Raises:
        StoreError: a path is none of these, or holds no run (each path must hold one).
    """
    runs: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        for run in _runs_in(Path(given)):
            if run.resolve() not in seen:
                seen.add(run.resolve())
                runs.append(run)
    return runs


def find_run_of(root: str | Path, scenario_yaml: str, seed: int, replications: int) -> Path | None:
    """The newest run of the store ``root`` (not a sweep point or design run) that simulated
    exactly ``scenario_yaml`` (a run's stored ``scenario.yaml`` text) with ``seed`` and
    ``replications``, or None."""
    root = Path(root)
    if not root.is_dir():
        return None
    for run in sorted((p for p in root.iterdir() if is_run(p)), key=lambda p: p.name, reverse=True):
        meta = read_meta(run)
        same = meta.get("seed") == seed and meta.get("replications") == replications
        if same and (run / "scenario.yaml").read_text(encoding="utf-8") == scenario_yaml:
            return run
    return None


def list_runs(root: str | Path) -> pd.DataFrame:
    """One row per complete run under ``root`` (sweep points included), from their meta.json
    files in one DuckDB query: the :data:`META_COLUMNS` plus ``path``; an empty table for an
    empty or missing store."""
    import duckdb
    import pandas as pd

    root = Path(root)
    try:
        files = [str(run / "meta.json") for run in find_runs([root])] if root.is_dir() else []
    except StoreError:  # an empty store (or a folder that is none) lists no run
        files = []
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


def _check_kpis(file: Path) -> str | None:
    """Why ``file`` is not a usable kpis.parquet (None when it is)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(file)
    except (OSError, ValueError) as error:
        return f"not a readable Parquet file ({error})"
    if "replication" not in metadata.schema.names:
        return "has no `replication` column"
    if metadata.num_rows == 0:
        return "holds no replication"
    return None


def load_kpis(runs: list[Path]) -> pd.DataFrame:
    """Per-replication KPIs of many runs in one DuckDB query over their Parquet files, with a
    ``run`` column (the run's folder, the key of a run: two stores may hold runs of one id)
    and a ``run_id`` column (the folder name); runs may have different KPI columns, missing
    ones are null.

    Raises:
        StoreError: a kpis.parquet is damaged (unreadable, no rows, no ``replication``).
    """
    import duckdb
    import pandas as pd

    if not runs:
        return pd.DataFrame()
    problems = [f"{run / 'kpis.parquet'}: {why}" for run in runs if (why := _check_kpis(run / "kpis.parquet"))]
    if problems:
        raise StoreError("; ".join(problems))
    files = [str(run / "kpis.parquet") for run in runs]
    query = """
        SELECT regexp_replace(filename, '/kpis.parquet$', '') AS run,
               regexp_extract(filename, '([^/]+)/kpis.parquet$', 1) AS run_id, * EXCLUDE (filename)
        FROM read_parquet($files, filename = true, union_by_name = true)
        ORDER BY list_position($files, filename), replication
    """
    try:
        return duckdb.connect().execute(query, {"files": files}).df()
    except duckdb.Error as error:
        raise StoreError(f"cannot read the KPIs of these runs: {error}") from None


# Sweeps and design studies


def write_sweep(folder: Path, plan: Mapping[str, Any]) -> None:
    """Write (or replace) a sweep's ``sweep.json``: its plan and status."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / SWEEP_FILE, plan)


@contextmanager
def sweep_lock(folder: Path) -> Iterator[None]:
    """Hold the sweep ``folder`` for this process while the block runs (an exclusive lock on
    its hidden ``.lock`` file, released by the kernel even if the process is killed), so two
    ``--resume`` of one sweep never write the same points.

    Raises:
        StoreError: another process holds the sweep.
    """
    descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"{folder}: another process is running this sweep; wait for it to finish (or stop it) first"
            ) from None
        yield
    finally:
        os.close(descriptor)


def read_sweep(folder: Path) -> dict[str, Any]:
    """The ``sweep.json`` of a sweep folder."""
    return _read_json(folder / SWEEP_FILE)


def find_sweeps(root: Path) -> list[Path]:
    """Every sweep folder directly under the store ``root``."""
    return sorted(path.parent for path in root.glob(f"*/{SWEEP_FILE}") if not path.parent.name.startswith("."))


def write_study_summary(folder: Path, document: Mapping[str, Any]) -> Path:
    """Write a design study's summary as ``optimize.json`` into its folder; the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / STUDY_FILE, document)
    return folder / STUDY_FILE


# Evaluations of scheduling methods


def write_evaluation(
    results: pd.DataFrame,
    schedules: pd.DataFrame,
    root: str | Path,
    name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Store an evaluation in the run store ``root`` and return its folder.

    Args:
        name: a label for people (default: the evaluation id).
        extra: more fields for evaluation.json (settings, versions).

    Raises:
        ValueError: a table lacks some of its columns (named in the message).
    """
    from twin.jobshop.evaluation import RESULT_COLUMNS, SCHEDULE_COLUMNS

    for label, table, columns in (("results", results, RESULT_COLUMNS), ("schedules", schedules, SCHEDULE_COLUMNS)):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{label} table lacks columns {missing} (got {list(table.columns)})")
    evaluation_id = new_run_id(name or "evaluation")
    final = Path(root) / EVALUATIONS / evaluation_id
    with atomic_folder(final) as folder:
        meta = {
            "evaluation_id": evaluation_id,
            "name": name or evaluation_id,
            "created": datetime.now(UTC).isoformat(),
            "methods": list(dict.fromkeys(results["method"])),
            "instances": list(dict.fromkeys(results["instance"])),
            **(extra or {}),
        }
        (folder / "evaluation.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        results.to_parquet(folder / "results.parquet", index=False)
        schedules.to_parquet(folder / "schedules.parquet", index=False)
    return final


def find_evaluations(root: str | Path) -> list[Path]:
    """Complete evaluation folders of the run store ``root``, oldest first."""
    folder = Path(root) / EVALUATIONS
    if not folder.is_dir():
        return []
    found = [
        path.parent
        for path in folder.glob("*/evaluation.json")
        if not path.parent.name.startswith(".") and (path.parent / "results.parquet").is_file()
    ]
    return sorted(found, key=lambda path: (read_evaluation(path).get("created", ""), path.name))


def read_evaluation(folder: Path) -> dict[str, Any]:
    """The evaluation.json of an evaluation folder."""
    return _read_json(folder / "evaluation.json")


def load_results(folders: Sequence[Path]) -> pd.DataFrame:
    """The results tables of ``folders`` as one, with an ``evaluation`` column (the folder name)."""
    import pandas as pd

    from twin.jobshop.evaluation import RESULT_COLUMNS

    frames = []
    for folder in folders:
        frame = pd.read_parquet(folder / "results.parquet")
        frame.insert(0, "evaluation", folder.name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["evaluation", *RESULT_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def load_schedules(folder: Path, instance: str, seed: int | None = None) -> pd.DataFrame:
    """The schedules of one instance (every method) in an evaluation; one seed, or all."""
    import pandas as pd

    filters: list[tuple[str, str, Any]] = [("instance", "==", instance)]
    if seed is not None:
        filters.append(("seed", "==", seed))
    return pd.read_parquet(folder / "schedules.parquet", filters=filters)


# What people change afterwards: names, tags, deletions, scenario files


def _update_meta(run: Path, changes: Mapping[str, Any]) -> dict[str, Any]:
    if not is_run(run):
        raise StoreError(f"{run}: no such run")
    meta = {**read_meta(run), **changes}
    write_json_atomic(run / "meta.json", meta)
    return meta


def rename_run(run: Path, name: str) -> dict[str, Any]:
    """Give a run a name for people (``meta.json`` ``name``; empty text removes it); the
    updated meta. The file is replaced in one rename.

    Raises:
        StoreError: ``run`` is not a complete run.
    """
    meta = _update_meta(run, {"name": name.strip()})
    if not meta["name"]:
        del meta["name"]
        write_json_atomic(run / "meta.json", meta)
    return meta


def tag_run(run: Path, tags: Iterable[str]) -> dict[str, Any]:
    """Set a run's tags (``meta.json`` ``tags``: a sorted list of distinct, trimmed,
    non-empty texts); the updated meta.

    Raises:
        StoreError: ``run`` is not a complete run.
    """
    return _update_meta(run, {"tags": sorted({t.strip() for t in tags if t.strip()})})


TRASH = ".trash"
"""Hidden folder of a run store that deletions pass through."""


def delete_folder(root: Path, folder: Path) -> None:
    """Delete a run, sweep, design study or evaluation ``folder`` of the store ``root`` at
    once: it is first renamed into the store's hidden ``.trash`` folder (one step: readers
    see it whole or not at all), then removed. What a crash leaves in ``.trash`` is removed
    by the next deletion.

    Raises:
        StoreError: ``folder`` is not a direct child of ``root`` or of ``root/evaluations``,
            or is not a run, sweep, study or evaluation.
    """
    root, folder = Path(root).resolve(), Path(folder).resolve()
    if folder.parent not in (root, root / EVALUATIONS) or folder.name.startswith("."):
        raise StoreError(f"{folder}: not a folder of the run store {root}")
    known = (folder / "meta.json", folder / SWEEP_FILE, folder / STUDY_FILE, folder / "evaluation.json")
    if not (any(p.is_file() for p in known) or _is_study(folder)):
        raise StoreError(f"{folder}: not a run, sweep, study or evaluation")
    trash = root / TRASH
    trash.mkdir(exist_ok=True)
    for left in trash.iterdir():
        shutil.rmtree(left, ignore_errors=True)
    target = trash / f"{folder.name}-{uuid.uuid4().hex[:8]}"
    os.replace(folder, target)
    shutil.rmtree(target, ignore_errors=True)


def _is_study(folder: Path) -> bool:
    """Whether ``folder`` holds design runs (a study interrupted before its optimize.json)."""
    return any(folder.glob("*/meta.json")) and not (folder / "meta.json").is_file()


def read_study_summary(folder: Path) -> dict[str, Any] | None:
    """A design study's ``optimize.json``, or None while the study has none (interrupted)."""
    path = folder / STUDY_FILE
    return _read_json(path) if path.is_file() else None


def find_studies(root: Path) -> list[Path]:
    """Every design study folder directly under the store ``root`` (one with design runs,
    finished or not)."""
    if not root.is_dir():
        return []
    return sorted(
        path
        for path in root.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name != EVALUATIONS
        and not (path / SWEEP_FILE).is_file()
        and ((path / STUDY_FILE).is_file() or _is_study(path))
    )


def list_studies(root: str | Path) -> pd.DataFrame:
    """Sweeps and design studies of the store ``root``, newest first: ``study_id``, ``kind``
    (``sweep`` or ``design``), ``scenario``, ``varied`` (the paths it varies), ``points``
    (runs finished), ``planned`` (runs planned; None when open-ended), ``status``, ``method``
    (a design study's search), ``created``, ``path``."""
    import pandas as pd

    root = Path(root)
    rows = []
    for folder in find_sweeps(root) if root.is_dir() else []:
        try:
            plan = read_sweep(folder)
        except (OSError, ValueError):  # a damaged sweep.json: listed, never a crash
            plan = {}
        points = plan.get("points", [])
        rows.append(
            {
                "study_id": folder.name,
                "kind": "sweep",
                "scenario": plan.get("scenario", ""),
                "varied": list(plan.get("vary", {})),
                "points": sum(is_run(folder / p.get("run_id", "")) for p in points),
                "planned": len(points),
                "status": plan.get("status", "damaged"),
                "method": "factorial" if not plan.get("zip") else "zipped",
                "created": plan.get("created", ""),
                "path": str(folder),
            }
        )
    for folder in find_studies(root):
        runs = sorted(p.parent for p in folder.glob("*/meta.json") if is_run(p.parent))
        summary = read_study_summary(folder)
        first = read_meta(runs[0]) if runs else {}
        rows.append(
            {
                "study_id": folder.name,
                "kind": "design",
                "scenario": first.get("scenario", ""),
                "varied": list(first.get("overrides", {})),
                "points": len(runs),
                "planned": None,
                "status": "complete" if summary is not None else "interrupted",
                "method": (summary or {}).get("method") or first.get("method", ""),
                "created": first.get("created", ""),
                "path": str(folder),
            }
        )
    columns = ["study_id", "kind", "scenario", "varied", "points", "planned", "status", "method", "created", "path"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("created", ascending=False, kind="stable").reset_index(drop=True)


def write_scenario_file(path: Path, text: str, overwrite: bool = False) -> Path:
    """Write a scenario file ``path`` (YAML ``text``) in one step.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is not set.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text, encoding="utf-8")
    if overwrite:
        os.replace(temporary, path)
        return path
    try:
        os.link(temporary, path)  # fails if the file appeared meanwhile: never a silent overwrite
    finally:
        temporary.unlink()
    return path
