"""Parameter sweeps: the same scenario at several points, with common random numbers.

Every point runs replications ``0..R-1`` with the same seed, so replication ``r`` of every
point sees the same arrivals, process times and failures wherever the point did not change
them: differences between points are the points' doing, and paired comparisons are tight.

A stored sweep is a folder ``<root>/<sweep_id>/`` holding ``sweep.json`` (the plan: base
scenario, what varies, seeds, the run id of every point, status) and one run folder per
finished point, written atomically. Killing a sweep keeps every finished point; running it
again with ``resume=True`` finds the unfinished sweep of the same study and runs only the
points that are missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from twin.errors import Problem, ScenarioError, show
from twin.measure.executors import Engine, make_executor
from twin.measure.experiment import Replication, Result, result_of, run_replication
from twin.scenario import Scenario, apply_overrides, parse_override, parse_scenario, scenario_to_yaml
from twin.studies.store import (
    StoreError,
    atomic_file,
    find_sweeps,
    is_run,
    new_run_id,
    read_sweep,
    sweep_lock,
    write_run,
    write_sweep,
)

__all__ = ["SweepPoint", "SweepResult", "parse_vary", "plan_points", "run_sweep", "sweep"]


NOT_VARIED = {
    "seed": "a sweep runs every point with the same seed (common random numbers); use --seed, or one sweep per seed",
    "replications": "every point runs the same replications; use --replications",
}
"""Scenario keys a sweep cannot vary, and why: they say how a point is run, not what it is."""


def parse_vary(texts: list[str]) -> dict[str, list[Any]]:
    """Turn ``["stations.cut.machines=1,2,3", ...]`` into ``{path: [values]}`` (values read as YAML).

    Raises:
        ScenarioError: a text without ``=``, without values, a path given twice, or a path
            of :data:`NOT_VARIED`.
    """
    vary: dict[str, list[Any]] = {}
    problems = []
    for text in texts:
        path, sep, raw = text.partition("=")
        path = path.strip()
        if not sep or not path or not raw.strip():
            problems.append(Problem("--vary", "expected path=v1,v2,...", show(text)))
        elif path in vary:
            problems.append(Problem(f"--vary {path}", "given twice"))
        elif path in NOT_VARIED:
            problems.append(Problem(f"--vary {path}", NOT_VARIED[path]))
        else:
            vary[path] = [parse_override(f"{path}={value.strip()}")[1] for value in raw.split(",")]
    if problems:
        raise ScenarioError(problems)
    return vary


def plan_points(vary: Mapping[str, list[Any]], zipped: bool = False) -> list[dict[str, Any]]:
    """The overrides of each point: the full factorial of the values, or (``zipped``) the
    i-th value of every path together.

    Raises:
        ScenarioError: ``zipped`` with lists of different lengths.
    """
    paths = list(vary)
    if zipped:
        lengths = {len(values) for values in vary.values()}
        if len(lengths) > 1:
            sizes = ", ".join(f"{p}: {len(v)}" for p, v in vary.items())
            raise ScenarioError([Problem("--zip", f"every --vary needs as many values ({sizes})")])
        combos: list[tuple[Any, ...]] = list(zip(*vary.values(), strict=True))
    else:
        combos = list(itertools.product(*vary.values()))
    return [dict(zip(paths, combo, strict=True)) for combo in combos]


def _point_scenarios(base: Scenario, points: list[dict[str, Any]]) -> list[Scenario]:
    scenarios, problems = [], []
    for point in points:
        label = ", ".join(f"{path}={value}" for path, value in point.items())
        try:
            scenarios.append(parse_scenario(apply_overrides(base.to_dict(), point.items())))
        except ScenarioError as error:
            problems += [Problem(f"point {label}: {p.path}", p.message, p.got) for p in error.problems]
    if problems:
        raise ScenarioError(problems)
    return scenarios


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: what it overrides, its run id and its result."""

    index: int
    overrides: dict[str, Any]
    run_id: str
    result: Result


@dataclass(frozen=True)
class SweepResult:
    """Every point of a sweep, in plan order, and the folder it is stored in (if any)."""

    points: list[SweepPoint]
    folder: Path | None

    def summary(self) -> pd.DataFrame:
        """Tidy table: one row per (point, KPI) with the point's overrides as columns, then
        ``run_id``, ``kpi``, ``mean``, ``ci_low``, ``ci_high``."""
        rows = []
        for point in self.points:
            for kpi, stats in point.result.summary_dict().items():
                rows.append({"point": point.index, **point.overrides, "run_id": point.run_id, "kpi": kpi, **stats})
        return pd.DataFrame(rows)

    def to_json(self) -> list[dict[str, Any]]:
        """The ``twin sweep --json`` document (docs/architecture.md, JSON documents)."""
        return [
            {"overrides": point.overrides, "run_id": point.run_id, "kpis": point.result.to_json()["kpis"]}
            for point in self.points
        ]


def _plan_key(base: Scenario, vary: Mapping[str, list[Any]], zipped: bool, replications: int, seed: int) -> str:
    study = {
        "scenario": scenario_to_yaml(base),
        "vary": vary,
        "zip": zipped,
        "replications": replications,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(study, sort_keys=True, default=str).encode()).hexdigest()


def _find_unfinished(root: Path, key: str) -> Path | None:
    """The newest sweep folder under ``root`` planned with ``key`` (a damaged sweep.json is
    skipped: its plan cannot be trusted, so a fresh sweep starts)."""
    plans = []
    for folder in find_sweeps(root):
        try:
            plan = read_sweep(folder)
        except StoreError:
            continue
        points = plan.get("points")
        if plan.get("plan_key") == key and isinstance(points, list) and isinstance(plan.get("created"), str):
            plans.append((plan["created"], folder))
    return max(plans)[1] if plans else None


def _read_point(folder: Path, scenario: Scenario, seed: int) -> Result:
    """A finished point's result, from its stored KPIs (no event logs)."""
    kpis = pd.read_parquet(folder / "kpis.parquet")
    replications = [
        Replication(
            int(row["replication"]),
            {str(k): float(v) for k, v in row.items() if k != "replication"},
            math.nan,
            0,
            0,
            0,
            None,
        )
        for _, row in kpis.iterrows()
    ]
    return result_of(scenario, seed, replications)


def run_sweep(
    base: Scenario,
    vary: Mapping[str, list[Any]],
    zipped: bool = False,
    replications: int | None = None,
    seed: int | None = None,
    root: str | Path | None = None,
    resume: bool = False,
    workers: int = 1,
    engine: Engine = "local",
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    events: bool = False,
) -> SweepResult:
    """Run every point of the study (see :func:`plan_points`) with common random numbers.

    Args:
        root: run store to write the sweep into (``<root>/<sweep_id>/``); None keeps it in memory.
        resume: reuse the newest sweep of the same study in ``root`` and run only its missing points.
        progress: called with (replications done, replications in all) as they finish.
        events: store each point's event log with it (needs ``root``), for its timeline.

    Raises:
        ScenarioError: a point's overrides make an invalid scenario (nothing is run or written).
        StoreError: another process is running the sweep being resumed.
        ValueError: ``events`` without ``root``.
    """
    if events and root is None:
        raise ValueError("events are stored with the sweep: give a root")
    count = base.replications if replications is None else replications
    base_seed = base.seed if seed is None else seed
    points = plan_points(vary, zipped)
    scenarios = _point_scenarios(base, points)
    key = _plan_key(base, vary, zipped, count, base_seed)
    folder = None
    if root is not None:
        folder = _find_unfinished(Path(root), key) if resume else None
        if folder is None:
            folder = _new_sweep(Path(root), base, key, vary, zipped, count, base_seed, points)
    with sweep_lock(folder) if folder is not None else contextlib.nullcontext():
        results = _run_points(scenarios, points, folder, count, base_seed, events, workers, engine, address, progress)
        plan = read_sweep(folder) if folder is not None else None
        if folder is not None and plan is not None:
            write_sweep(folder, {**plan, "status": "complete"})
    run_ids = [p["run_id"] for p in plan["points"]] if plan else [f"p{i:03d}" for i in range(len(points))]
    return SweepResult([SweepPoint(i, points[i], run_ids[i], results[i]) for i in range(len(points))], folder)


def _new_sweep(
    root: Path,
    base: Scenario,
    key: str,
    vary: Mapping[str, list[Any]],
    zipped: bool,
    count: int,
    seed: int,
    points: list[dict[str, Any]],
) -> Path:
    """Create the folder of a new sweep with its plan (``sweep.json``) and base scenario."""
    sweep_id = new_run_id(f"{base.name}-sweep")
    folder = root / sweep_id
    plan = {
        "sweep_id": sweep_id,
        "scenario": base.name,
        "plan_key": key,
        "vary": dict(vary),
        "zip": zipped,
        "replications": count,
        "seed": seed,
        "created": datetime.now(UTC).isoformat(),
        "status": "running",
        "points": [{"index": i, "overrides": p, "run_id": f"{sweep_id}-p{i:03d}"} for i, p in enumerate(points)],
    }
    write_sweep(folder, plan)
    with atomic_file(folder / "scenario.yaml") as temporary:
        temporary.write_text(scenario_to_yaml(base), encoding="utf-8")
    return folder


def _run_points(
    scenarios: list[Scenario],
    points: list[dict[str, Any]],
    folder: Path | None,
    count: int,
    seed: int,
    events: bool,
    workers: int,
    engine: Engine,
    address: str | None,
    progress: Callable[[int, int], None] | None,
) -> dict[int, Result]:
    """Every point's result: read back when stored already, else simulated (and stored)."""
    plan = read_sweep(folder) if folder is not None else None
    run_ids = [p["run_id"] for p in plan["points"]] if plan else [f"p{i:03d}" for i in range(len(points))]
    finished = {child.name for child in folder.iterdir() if is_run(child)} if folder is not None else set()
    results: dict[int, Result] = {}
    for i, run_id in enumerate(run_ids):
        if run_id in finished:
            assert folder is not None
            results[i] = _read_point(folder / run_id, scenarios[i], seed)
    todo = [i for i in range(len(points)) if i not in results]
    done_reps: dict[int, dict[int, Replication]] = {i: {} for i in todo}
    total, done = len(todo) * count, 0
    executor = make_executor(min(workers, max(total, 1)), engine, address)
    try:
        tasks = (((i, r), (scenarios[i], r, seed, events)) for i in todo for r in range(count))
        for (i, r), replication in executor.run(run_replication, tasks):
            done_reps[i][r] = replication
            done += 1
            if progress is not None:
                progress(done, total)
            if len(done_reps[i]) == count:
                reps = done_reps.pop(i)
                results[i] = result_of(scenarios[i], seed, [reps[k] for k in range(count)])
                if folder is not None:
                    write_run(
                        results[i],
                        folder,
                        overrides=points[i],
                        events=events,
                        run_id=run_ids[i],
                        extra_meta={"sweep_id": folder.name, "point": i},
                    )
                if events:  # stored: keep the KPIs, free the logs
                    kept = [dataclasses.replace(rep, log=None) for rep in results[i].replications]
                    results[i] = result_of(scenarios[i], seed, kept)
    finally:
        executor.close()
    return results


def sweep(
    scenario: Scenario | str | Path,
    vary: Mapping[str, list[Any]],
    zipped: bool = False,
    replications: int | None = None,
    seed: int | None = None,
    root: str | Path | None = None,
    workers: int = 1,
    engine: Engine = "local",
    address: str | None = None,
) -> pd.DataFrame:
    """Notebook entry point: run a sweep (see :func:`run_sweep`) and return its tidy summary
    (one row per point and KPI: overrides, ``run_id``, ``kpi``, ``mean``, ``ci_low``, ``ci_high``)."""
    from twin.scenario import load_scenario

    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    result = run_sweep(
        base, vary, zipped, replications, seed, root=root, workers=workers, engine=engine, address=address
    )
    return result.summary()
