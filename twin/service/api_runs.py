"""Routes of scenarios, runs, sweeps and jobs: what ``twin validate``, ``run`` and ``sweep`` do,
over HTTP.

A run or a sweep is a job (202 with its id); ``GET /v1/jobs/{id}`` shows its status and, once
done, its result: the ``twin run --json`` document with the ``run_id`` it was stored under, or
the ``twin sweep --json`` rows with the ``sweep_id``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam

from twin.errors import ScenarioError
from twin.scenario import load_warnings
from twin.service.app import fail, require, services_of
from twin.service.jobs import JobConflict, QueueFull
from twin.service.limits import RateLimiter
from twin.service.mirrored import NoMirror, plant_of
from twin.service.roles import Role
from twin.service.scenarios import BudgetError, budget_check, overrides_of, read_scenario, sweep_points
from twin.service.schemas import ForecastRequest, RunRequest, ScenarioRequest, SweepRequest
from twin.service.tokens import Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1")

Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Planner = Annotated[Principal, Depends(require(Role.PLANNER))]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$")]
RunId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")]


def _problems(error: ScenarioError) -> list[str]:
    return [str(problem) for problem in error.problems]


@router.post("/scenarios/validate", tags=["scenarios"])
def validate(body: ScenarioRequest, _: Viewer) -> dict[str, Any]:
    """Check a scenario as ``twin validate`` does: ``valid``, the problem lines (as the CLI
    prints them) and the warnings."""
    try:
        scenario = read_scenario(body.scenario, body.overrides)
    except ScenarioError as error:
        return {"valid": False, "problems": _problems(error), "warnings": []}
    return {
        "valid": True,
        "problems": [],
        "warnings": list(load_warnings(scenario)),
        "name": scenario.name,
        "products": len(scenario.products),
        "stations": len(scenario.stations),
    }


def _submit(request: Request, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    try:
        job = services_of(request).jobs.submit(kind, spec)
    except QueueFull as error:
        raise fail(429, str(error), headers={"Retry-After": RateLimiter.retry_after(5)}) from None
    return job.to_json()


@router.post("/runs", status_code=202, tags=["runs"])
def start_run(body: RunRequest, request: Request, _: Planner) -> dict[str, Any]:
    """Start a run (as ``twin run``) as a job; 422 with the problem lines for a bad scenario or
    one over the simulation budget."""
    config = services_of(request).config
    try:
        scenario = read_scenario(body.scenario, body.overrides)
        overrides = overrides_of(body.overrides)
        budget_check(scenario, body.replications, config.budget)
    except ScenarioError as error:
        raise fail(422, *_problems(error)) from None
    except BudgetError as error:
        raise fail(422, str(error)) from None
    spec = {
        "kind": "run",
        "scenario": scenario.to_dict(),
        "replications": body.replications or scenario.replications,
        "seed": scenario.seed if body.seed is None else body.seed,
        "overrides": overrides,
        "runs": str(config.runs_dir),
    }
    return _submit(request, "run", spec)


@router.post("/sweeps", status_code=202, tags=["runs"])
def start_sweep(body: SweepRequest, request: Request, _: Planner) -> dict[str, Any]:
    """Start a sweep (as ``twin sweep``) as a job; the budget counts every point."""
    config = services_of(request).config
    try:
        scenario = read_scenario(body.scenario, body.overrides)
        points = sweep_points(scenario, body.vary, body.zip)
        budget_check(scenario, body.replications, config.budget, points=len(points))
    except ScenarioError as error:
        raise fail(422, *_problems(error)) from None
    except BudgetError as error:
        raise fail(422, str(error)) from None
    spec = {
        "kind": "sweep",
        "scenario": scenario.to_dict(),
        "vary": body.vary,
        "zip": body.zip,
        "replications": body.replications or scenario.replications,
        "seed": scenario.seed if body.seed is None else body.seed,
        "runs": str(config.runs_dir),
    }
    return _submit(request, "sweep", spec)


@router.post("/forecast", tags=["forecasts"])
def forecast(body: ForecastRequest, request: Request, _: Planner) -> dict[str, Any]:
    """The ``twin forecast --json`` document of ``horizon`` from a plant state (default: the
    mirror's, with the served scenario): KPIs with 95% intervals, completions per bin, per job
    its completion quantiles and probability of being late. Answered at once (not a job); the
    budget counts replications x horizon x stations."""
    from twin.sync.forecast import forecast as run_forecast

    services = services_of(request)
    try:
        scenario, state = plant_of(services.mirror, body.scenario, body.overrides, body.state)
        budget_check(scenario, body.replications, services.config.budget, horizon=body.horizon)
        return run_forecast(scenario, state, body.horizon, body.replications, body.seed)
    except ScenarioError as error:
        raise fail(422, *_problems(error)) from None
    except (BudgetError, NoMirror) as error:
        raise fail(422, str(error)) from None


@router.get("/state", tags=["forecasts"])
def mirrored_state(request: Request, _: Viewer) -> dict[str, Any]:
    """The plant state the live mirror keeps current (``twin serve --mirror-state``): ``time``,
    ``age_s`` (seconds since the mirror wrote it), ``scenario`` (its name) and ``state``; 404
    when the service follows no mirror or it has written nothing yet."""
    services = services_of(request)
    try:
        state, age = services.mirror.current()
    except NoMirror as error:
        raise fail(404, str(error)) from None
    except ScenarioError as error:
        raise fail(409, *_problems(error)) from None
    assert services.scenario is not None  # a mirror is followed with its scenario
    return {
        "time": state.time,
        "age_s": age,
        "scenario": services.scenario.name,
        "state": state.model_dump(mode="json"),
    }


@router.get("/jobs", tags=["jobs"])
def list_jobs(request: Request, _: Viewer) -> list[dict[str, Any]]:
    """Every job since the service started, oldest first."""
    return [job.to_json() for job in services_of(request).jobs.list()]


@router.get("/jobs/{job_id}", tags=["jobs"])
def get_job(job_id: JobId, request: Request, _: Viewer) -> dict[str, Any]:
    """One job: ``status`` (queued, running, done, failed, cancelled, timed_out), ``result``."""
    job = services_of(request).jobs.get(job_id)
    if job is None:
        raise fail(404, f"job: no such job (got {job_id!r})")
    return job.to_json()


@router.post("/jobs/{job_id}/cancel", tags=["jobs"])
def cancel_job(job_id: JobId, request: Request, _: Planner) -> dict[str, Any]:
    """Cancel a waiting job or stop a running one; 409 when it has ended."""
    jobs = services_of(request).jobs
    try:
        job = jobs.cancel(job_id)
    except KeyError:
        raise fail(404, f"job: no such job (got {job_id!r})") from None
    except JobConflict as error:
        raise fail(409, str(error)) from None
    return jobs.wait(job.id, timeout=5).to_json()


def _runs_by_id(root: Path) -> dict[str, Path]:
    from twin.studies.store import StoreError, find_runs

    try:
        return {run.name: run for run in find_runs([root])} if root.is_dir() else {}
    except StoreError:
        return {}


@router.get("/runs", tags=["runs"])
def list_runs(request: Request, _: Viewer) -> list[dict[str, Any]]:
    """Every stored run (sweep points included), oldest first: the fields of meta.json."""
    from twin.studies.store import list_runs as stored_runs

    frame = stored_runs(services_of(request).config.runs_dir).drop(columns=["path"])
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    for row in rows:
        row["overrides"] = json.loads(row["overrides"]) if row.get("overrides") else {}
    return rows


@router.get("/runs/{run_id}", tags=["runs"])
def get_run(run_id: RunId, request: Request, _: Viewer) -> dict[str, Any]:
    """One stored run: its meta.json and KPIs as ``twin run --json`` gives them."""
    import pandas as pd

    from twin.measure.labels import json_number
    from twin.measure.stats import confidence_interval
    from twin.studies.store import read_meta

    run = _runs_by_id(services_of(request).config.runs_dir).get(run_id)
    if run is None:
        raise fail(404, f"run: no such run (got {run_id!r})")
    meta = read_meta(run)
    frame = pd.read_parquet(run / "kpis.parquet")
    kpis = {}
    for name in frame.columns:
        if name != "replication":
            mean, low, high = confidence_interval(frame[name].to_numpy(float))
            kpis[str(name)] = {"mean": json_number(mean), "ci_low": json_number(low), "ci_high": json_number(high)}
    return {"meta": meta, "scenario": meta["scenario"], "replications": len(frame), "kpis": kpis}
