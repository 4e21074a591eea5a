"""What every command shares: reading scenarios, reporting bad input (exit 2), warnings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from twin.errors import ScenarioError
from twin.scenario import Scenario, load_scenario, load_warnings

__all__ = [
    "Overrides",
    "ScenarioFile",
    "err",
    "fail",
    "out_problems",
    "plot_problems",
    "progress_bar",
    "read_scenario",
    "size_problems",
    "stdout_console",
    "warn",
]

err = Console(stderr=True)
"""Progress bars and logs go to stderr; stdout is for results (and only JSON with --json)."""


def stdout_console() -> Console:
    """Console for result tables; when piped, wide enough that tables are not squeezed."""
    return Console() if sys.stdout.isatty() else Console(width=160)


ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False, metavar="FILE")]
Overrides = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a scenario value, e.g. --set stations.cut.machines=2 (repeatable).",
    ),
]


def progress_bar(label: str, disable: bool = False) -> Progress:
    """The progress bar every long command shows on stderr: ``label``, bar, done/total, time;
    it disappears when done."""
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err, transient=True, disable=disable)


def fail(lines: list[str]) -> NoReturn:
    """Print problems to stderr and exit with status 2 (bad input)."""
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(2)


def read_scenario(path: Path, overrides: list[str] | None) -> Scenario:
    """Load a scenario for a command, or exit 2 listing its problems."""
    try:
        return load_scenario(path, overrides or ())
    except ScenarioError as error:
        fail([str(problem) for problem in error.problems])


def plot_problems(plot: Path | None, option: str = "--plot") -> list[str]:
    """Why a PNG cannot be written at ``plot`` (checked before any work is done)."""
    if plot is None:
        return []
    if plot.is_dir():
        return [f"{option}: is a folder; give a file name ending in .png (got {plot})"]
    if plot.suffix.lower() != ".png":
        return [f"{option}: only PNG is written; give a file name ending in .png (got {plot})"]
    if not plot.parent.is_dir():
        return [f"{option}: folder does not exist (got {plot.parent})"]
    if not os.access(plot.parent, os.W_OK):
        return [f"{option}: folder is not writable (got {plot.parent})"]
    return []


def out_problems(out: Path | None, option: str = "--out") -> list[str]:
    """Why the run store folder ``out`` cannot be written (checked before any work is done):
    it, or the nearest folder above it that exists, must be a writable folder."""
    if out is None:
        return []
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == out and not out.is_dir():
        return [f"{option}: not a folder (got {out})"]
    if not existing.is_dir():
        return [f"{option}: {existing} is a file, so no folder can be made under it (got {out})"]
    if not os.access(existing, os.W_OK):
        return [f"{option}: folder is not writable (got {existing})"]
    return []


def size_problems(scenario: Scenario, replications: int | None, option: str = "--replications") -> list[str]:
    """Why ``replications`` of ``scenario`` are too big a run (see :mod:`twin.scenario.limits`)."""
    from twin.scenario.limits import run_size_problems

    if replications is None:
        return []
    return [str(problem) for problem in run_size_problems(scenario, replications, option)]


def warn(scenario: Scenario) -> None:
    """Print legal-but-suspicious findings to stderr."""
    for line in load_warnings(scenario):
        typer.echo(f"warning: {line}", err=True)
