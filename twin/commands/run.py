"""`twin validate`, `twin run` and `twin schema`: one scenario, replications, KPIs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from twin.commands.common import (
    Overrides,
    ScenarioFile,
    err,
    fail,
    out_problems,
    plot_problems,
    progress_bar,
    read_scenario,
    size_problems,
    stdout_console,
    warn,
)
from twin.errors import SimulationStalled
from twin.measure.labels import count_of, format_interval, format_number, kpi_label
from twin.scenario import Scenario, parse_override

if TYPE_CHECKING:
    from twin.measure.experiment import Result

__all__ = ["kpi_table", "run", "schema", "validate"]


def validate(file: ScenarioFile, overrides: Overrides = None) -> None:
    """Check a scenario file: exit 0 if valid, else list every problem and exit 2."""
    scenario = read_scenario(file, overrides)
    warn(scenario)
    typer.echo(f"{file}: ok ({len(scenario.products)} products, {len(scenario.stations)} stations)")


def schema(
    state: Annotated[
        bool, typer.Option("--state", help="The schema of plant-state files instead (also in state.schema.json).")
    ] = False,
) -> None:
    """Print the JSON schema of scenario files (for editor autocompletion; also in
    scenario.schema.json), or with --state that of plant-state files."""
    from twin.scenario import json_schema
    from twin.scenario.state import state_json_schema

    sys.stdout.write(state_json_schema() if state else json_schema())


def _run_with_progress(scenario: Scenario, replications: int, seed: int | None, keep_events: bool) -> Result:
    from twin.measure.experiment import simulate

    if replications < 2 or not err.is_terminal:
        return simulate(scenario, replications, seed, keep_events=keep_events)
    with progress_bar("replications") as progress:
        task = progress.add_task("run", total=replications)
        return simulate(
            scenario,
            replications,
            seed,
            keep_events=keep_events,
            progress=lambda done: progress.update(task, completed=done),
        )


def _log_problems(log: Path) -> list[str]:
    from twin.sync.eventlog import log_suffix

    problems = []
    try:
        log_suffix(log)
    except ValueError as error:
        problems.append(f"--log: {error}")
    if not log.parent.is_dir():
        problems.append(f"--log: folder does not exist (got {log.parent})")
    elif log.is_dir():
        problems.append(f"--log: is a folder (got {log})")
    return problems


def kpi_table(result: Result) -> Table:
    """The KPI summary as a rich table: mean and 95% confidence interval."""
    scenario = result.scenario
    table = Table(
        title=f"{scenario.name}: {count_of(len(result.replications), 'replication')}, 95% confidence intervals"
    )
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for name, row in result.summary_dict().items():
        if name.endswith((".setup", ".off_shift", ".maintenance")) and not row["mean"]:
            continue
        interval = format_interval(row["ci_low"], row["ci_high"], digits=4)
        table.add_row(kpi_label(name, scenario.time_unit), format_number(row["mean"]), interval)
    return table


def run(
    file: ScenarioFile,
    replications: Annotated[int | None, typer.Option(min=1, help="Replications (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed (default: the scenario's).")] = None,
    overrides: Overrides = None,
    out: Annotated[Path | None, typer.Option(help="Write the run into this run store folder.")] = None,
    events: Annotated[bool, typer.Option("--events", help="Also store the event log (needs --out).")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of machine states and waits.")] = None,
    log: Annotated[
        Path | None,
        typer.Option(help="Write replication 0's event log here in the plant log format (.csv or .parquet)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Simulate a scenario: KPI means with 95% confidence intervals over replications."""
    scenario = read_scenario(file, overrides)
    problems = []
    if events and out is None:
        problems.append("--events: needs --out")
    problems += out_problems(out) + plot_problems(plot) + size_problems(scenario, replications)
    if log is not None:
        problems += _log_problems(log)
    if problems:
        fail(problems)
    warn(scenario)
    started = time.perf_counter()
    try:
        result = _run_with_progress(
            scenario, replications or scenario.replications, seed, keep_events=events or log is not None
        )
    except SimulationStalled as stalled:
        fail([f"{file}: {stalled}"])
    wall = time.perf_counter() - started
    if out is not None:
        from twin.studies.store import write_run

        where = write_run(
            result, out, dict(parse_override(o) for o in overrides or ()), events=events, wall_time_s=wall
        )
        typer.echo(f"run written to {where}", err=True)
    if log is not None:
        from twin.sync.eventlog import events_to_log, write_log

        assert result.events is not None  # kept because --log asked for them
        write_log(events_to_log(result.events, scenario, replication=0), log)
        typer.echo(f"event log of replication 0 written to {log}", err=True)
    if plot is not None:
        from twin.measure.plots import plot_run

        typer.echo(f"plot written to {plot_run(result, plot)}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n")
    else:
        stdout_console().print(kpi_table(result))
