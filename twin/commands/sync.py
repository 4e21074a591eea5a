"""`twin calibrate` and `twin backtest`: the twin learnt from a plant's event log, and checked against one."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from twin.commands.common import ScenarioFile, err, fail, progress_bar, read_scenario, stdout_console
from twin.errors import ScenarioError
from twin.measure.labels import count_of, format_interval, format_number, kpi_label

if TYPE_CHECKING:
    from twin.sync.backtest import Backtest

__all__ = ["backtest", "calibrate"]

LogFile = Annotated[Path, typer.Argument(help="Event log: CSV with a header, or Parquet.", show_default=False)]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _writable(option: str, path: Path | None, suffixes: tuple[str, ...]) -> list[str]:
    if path is None:
        return []
    problems = []
    if not path.name.lower().endswith(suffixes):
        problems.append(f"{option}: must end in {' or '.join(suffixes)} (got {path.name})")
    if not path.parent.is_dir():
        problems.append(f"{option}: folder does not exist (got {path.parent})")
    elif path.is_dir():
        problems.append(f"{option}: is a folder (got {path})")
    return problems


def calibrate(
    log: LogFile,
    base: Annotated[
        Path | None,
        typer.Option(help="Scenario to keep and fill in with what the log shows (rules, names, design stay)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the calibrated scenario here (default: print it).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the calibration report (JSON) here.")] = None,
    time_unit: Annotated[
        str | None, typer.Option(help="Unit for timestamps in the log: s, min, h, d (default: the base's, else min).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Infer a scenario from a plant's event log: stations, machines, routes, fitted
    distributions (MLE, least AIC), failures, scrap, setups, buffers."""
    from twin.studies.store import atomic_file, write_json_atomic
    from twin.sync.calibrate import calibrate_log

    problems = _writable("--out", out, (".yaml", ".yml")) + _writable("--report", report, (".json",))
    if base is not None:
        read_scenario(base, None)
    if problems:
        fail(problems)
    try:
        found = calibrate_log(log, base, time_unit=time_unit)
    except ScenarioError as error:
        fail([str(p) for p in error.problems])
    text = found.yaml()
    document = found.report()
    if out is not None:
        with atomic_file(out) as temporary:
            temporary.write_text(text, encoding="utf-8")
        typer.echo(f"scenario written to {out}", err=True)
    if report is not None:
        write_json_atomic(report, document)
        typer.echo(f"report written to {report}", err=True)
    for line in found.hygiene.lines() + found.findings:
        typer.echo(f"note: {line}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    elif out is None:
        sys.stdout.write(text)


def _table(found: Backtest, time_unit: str, name: str) -> Table:
    t0, t1 = found.window
    runs = count_of(len(found.result.replications), "replication")
    table = Table(title=f"{name}: backtest over [{t0:g}, {t1:g}] {time_unit}, {runs}")
    for column in ("KPI", "observed", "predicted", "95% CI", "error", "in 95% PI"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for kpi, row in found.table.iterrows():
        name = str(kpi)
        if name.endswith((".setup", ".off_shift")) and not row["mean"] and not row["observed"]:
            continue
        error = "" if row["error"] != row["error"] else f"{row['error']:+.1%}"
        inside = "" if row["inside"] is None else ("yes" if row["inside"] else "no")
        table.add_row(
            kpi_label(name, time_unit),
            format_number(row["observed"]),
            format_number(row["mean"]),
            format_interval(row["ci_low"], row["ci_high"], digits=4),
            error,
            inside,
        )
    return table


def backtest(
    file: ScenarioFile,
    log: LogFile,
    replications: Annotated[int | None, typer.Option(min=1, help="Replications (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed (default: the scenario's).")] = None,
    as_json: AsJson = False,
) -> None:
    """Run a scenario over a log's window and compare: observed KPIs against predicted means,
    95% intervals, relative errors, and the lead-time Wasserstein distance."""
    from twin.sync.backtest import run_backtest

    scenario = read_scenario(file, None)
    count = replications or scenario.replications
    try:
        if count < 2 or not err.is_terminal:
            found = run_backtest(scenario, log, count, seed)
        else:
            with progress_bar("replications") as bar:
                task = bar.add_task("backtest", total=count)
                found = run_backtest(scenario, log, count, seed, progress=lambda done: bar.update(task, completed=done))
    except ScenarioError as error:
        fail([str(p) for p in error.problems])
    except ValueError as error:
        fail([str(error)])
    for line in found.hygiene.lines():
        typer.echo(f"note: {line}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(found.to_json(), indent=2, allow_nan=False) + "\n")
        return
    console = stdout_console()
    console.print(_table(found, scenario.time_unit, scenario.name))
    console.print(f"lead time Wasserstein distance: {format_number(found.wasserstein)} {scenario.time_unit}")
