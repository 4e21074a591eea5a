"""What every command shares: reading scenarios, reporting bad input (exit 2), warnings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from twin.errors import ScenarioError
from twin.scenario import Scenario, load_scenario, load_warnings

__all__ = ["Overrides", "ScenarioFile", "err", "fail", "progress_bar", "read_scenario", "stdout_console", "warn"]

err = Console(stderr=True)
"""Progress bars and logs go to stderr; stdout is for results (and only JSON with --json)."""


def stdout_console() -> Console:
    """Console for result tables; when piped, wide enough that tables are not squeezed."""
    return Console() if sys.stdout.isatty() else Console(width=160)


ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
Overrides = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario value, e.g. --set stations.cut.machines=2 (repeatable)."),
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


def warn(scenario: Scenario) -> None:
    """Print legal-but-suspicious findings to stderr."""
    for line in load_warnings(scenario):
        typer.echo(f"warning: {line}", err=True)
