"""What a job process does: one run or one sweep with the library, written to the run store.

Jobs run in their own processes (see :mod:`twin.service.jobs`) so that a timeout or a cancel
can stop them at once; this module is what those processes import, and nothing more.
"""

from __future__ import annotations

import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["child_main", "run_job"]


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Do the job ``spec`` describes and return its result document.

    ``spec`` has ``kind`` (``run`` or ``sweep``), ``scenario`` (validated plain data),
    ``replications``, ``seed``, ``runs`` (the run store) and ``overrides`` (``{path: value}``,
    for the run's meta) or ``vary`` and ``zip`` (for a sweep). A run's result is the ``twin run
    --json`` document plus ``run_id``; a sweep's is ``{"sweep_id", "points": [twin sweep
    --json rows]}``.
    """
    from twin.measure.experiment import simulate
    from twin.scenario import parse_scenario
    from twin.studies.store import write_run
    from twin.studies.sweep import run_sweep

    scenario = parse_scenario(spec["scenario"])
    runs = Path(spec["runs"])
    if spec["kind"] == "sweep":
        swept = run_sweep(scenario, spec["vary"], bool(spec["zip"]), spec["replications"], spec["seed"], root=runs)
        assert swept.folder is not None  # written, since a root was given
        return {"sweep_id": swept.folder.name, "points": swept.to_json()}
    started = time.perf_counter()
    result = simulate(scenario, spec["replications"], spec["seed"], keep_events=False)
    folder = write_run(result, runs, spec["overrides"], wall_time_s=time.perf_counter() - started)
    return {"run_id": folder.name, **result.to_json()}


def child_main(connection: Connection, spec: dict[str, Any]) -> None:
    """Entry point of a job process: send back ``("done", result)`` or ``("failed", reason)``."""
    try:
        outcome: tuple[str, Any] = ("done", run_job(spec))
    except Exception as error:  # a job's failure is reported to its caller, not raised here
        outcome = ("failed", f"{type(error).__name__}: {error}")
    connection.send(outcome)
    connection.close()
