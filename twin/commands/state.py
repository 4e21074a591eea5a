"""`twin state`: the plant state at a time, cut from an event log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from twin.commands.common import fail
from twin.errors import ScenarioError

__all__ = ["state"]


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

    problems = []
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
