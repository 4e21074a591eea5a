"""`twin state` and `twin forecast`: the plant state at a time, cut from an event log, and
the horizon forecast from it."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.commands.common import (
    Overrides,
    ScenarioFile,
    fail,
    plot_problems,
    read_scenario,
    size_problems,
    stdout_console,
)
from twin.errors import ScenarioError
from twin.measure.labels import format_interval, format_number, kpi_label

__all__ = ["forecast", "state"]

_JOBS_SHOWN = 30
"""Jobs listed in the table of `twin forecast` (--json has them all)."""


def state(
    log: Annotated[Path, typer.Argument(help="Event log: CSV with a header, or Parquet.", show_default=False)],
    at: Annotated[float, typer.Option("--at", help="Time of the state, in the log's time base.", show_default=False)],
    out: Annotated[Path | None, typer.Option(help="Write the state JSON here (default: print it).")] = None,
    time_unit: Annotated[str, typer.Option(help="Unit for timestamps in the log: s, min, h, d.")] = "min",
) -> None:
    """Cut the plant state at a time from an event log: every job's place, route step,
    elapsed processing and due date, every machine's state and since when (JSON)."""
    from twin.studies.store import write_json_atomic
    from twin.sync.state import state_at

    problems = [] if math.isfinite(at) else [f"--at: must be a finite time (got {at})"]
    if out is not None:
        if not out.name.lower().endswith(".json"):
            problems.append(f"--out: must end in .json (got {out.name})")
        if not out.parent.is_dir():
            problems.append(f"--out: folder does not exist (got {out.parent})")
    if problems:
        fail(problems)
    try:
        cut = state_at(log, at, time_unit=time_unit)
    except ScenarioError as error:
        fail([str(p) for p in error.problems])
    document = cut.state.to_json()
    transit = sum(job.where == "transit" for job in cut.state.jobs)
    typer.echo(
        f"note: {cut.applied} events applied; state at {at:g}: {len(cut.state.jobs)} jobs "
        f"({transit} in transit), {len(cut.state.machines)} machines",
        err=True,
    )
    for reason, count in sorted(cut.rejected.items()):
        typer.echo(f"note: {count} events rejected: {reason}", err=True)
    if out is not None:
        write_json_atomic(out, document)
        typer.echo(f"state written to {out}", err=True)
    else:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


def forecast(
    file: ScenarioFile,
    state_file: Annotated[
        Path, typer.Option("--state", help="Plant state JSON (from `twin state`).", show_default=False)
    ],
    horizon: Annotated[float, typer.Option(help="Time to forecast from the state's time.", show_default=False)],
    replications: Annotated[int | None, typer.Option(min=1, help="Replications (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed (default: the scenario's).")] = None,
    overrides: Overrides = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    engine: Annotated[str, typer.Option(help="Executor: local or dask.")] = "local",
    address: Annotated[str | None, typer.Option(help="Dask scheduler address (with --engine dask).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a fan chart PNG of completions per hour.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Forecast the horizon from a plant state: KPIs with 95% intervals, completions per hour
    (P10/P50/P90), and per job its completion-time quantiles and probability of being late."""
    from twin.scenario.state import load_state
    from twin.sync.forecast import forecast as run_forecast

    scenario = read_scenario(file, overrides)
    problems = plot_problems(plot)
    if engine not in ("local", "dask"):
        problems.append(f"--engine: must be local or dask (got {engine})")
    if math.isfinite(horizon) and horizon > 0:
        problems += size_problems(scenario.model_copy(update={"horizon": horizon}), replications)
    if problems:
        fail(problems)
    try:
        plant_state = load_state(state_file)
        document = run_forecast(
            scenario,
            plant_state,
            horizon,
            replications,
            seed,
            workers=workers,
            engine="dask" if engine == "dask" else "local",
            address=address,
        )
    except ScenarioError as error:
        fail([str(p) for p in error.problems])
    if plot is not None:
        from twin.measure.plots import plot_forecast

        typer.echo(f"plot written to {plot_forecast(document, scenario.time_unit, plot)}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return
    _print_forecast(document, scenario.name, scenario.time_unit)


def _print_forecast(document: dict[str, Any], name: str, unit: str) -> None:
    from twin.measure.kpi import MAIN_KPIS

    console = stdout_console()
    start, horizon = document["time"], document["horizon"]
    window = f"[{start:g}, {start + horizon:g}] {unit}"
    kpis = Table(title=f"{name}: forecast over {window}, {document['replications']} replications")
    for column in ("KPI", "mean", "95% CI"):
        kpis.add_column(column, justify="left" if column == "KPI" else "right")
    for kpi in (*MAIN_KPIS, "completed"):
        row = document["kpis"][kpi]
        kpis.add_row(kpi_label(kpi, unit), format_number(row["mean"]), format_interval(row["ci_low"], row["ci_high"]))
    console.print(kpis)
    completions = document["completions"]
    fan = Table(title=f"completions per {completions['bin']:g} {unit}")
    for column in ("from", "P10", "P50", "P90"):
        fan.add_column(column, justify="right")
    for i, begin in enumerate(completions["start"]):
        fan.add_row(format_number(begin), *(format_number(completions[q][i]) for q in ("p10", "p50", "p90")))
    console.print(fan)
    jobs = Table(title=f"jobs in the state ({len(document['jobs'])}): completion time quantiles")
    for column in ("job", "due", "P10", "P50", "P90", "P(done)", "P(late)"):
        jobs.add_column(column, justify="left" if column == "job" else "right")
    for job in document["jobs"][:_JOBS_SHOWN]:
        jobs.add_row(
            job["id"],
            format_number(job["due"]),
            *(format_number(job[q]) for q in ("p10", "p50", "p90")),
            f"{job['p_done']:.0%}",
            f"{job['p_late']:.0%}",
        )
    console.print(jobs)
    if len(document["jobs"]) > _JOBS_SHOWN:
        console.print(f"... and {len(document['jobs']) - _JOBS_SHOWN} more jobs (all of them with --json)")
