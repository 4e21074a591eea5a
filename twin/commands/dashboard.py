"""`twin dashboard`: start the Streamlit dashboard over a run store (needs the `dashboard` extra)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from twin.commands.common import fail

__all__ = ["dashboard"]


def _app() -> Path | None:
    """The dashboard's server.py (its ``st.App``): the installed ``dashboard`` package, or the
    one beside ``twin`` in a source checkout."""
    spec = importlib.util.find_spec("dashboard")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent / "server.py"
    checkout = Path(__file__).resolve().parents[2] / "dashboard" / "server.py"
    return checkout if checkout.is_file() else None


def dashboard(
    runs: Annotated[Path, typer.Option(help="Run store to show (and to write what-if runs to).")] = Path("runs"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
    scenarios: Annotated[Path, typer.Option(help="Folder of scenario files to offer.")] = Path("scenarios/examples"),
    jobshop: Annotated[Path, typer.Option(help="Folder of job-shop instances for evaluations.")] = Path(
        "scenarios/jobshop"
    ),
) -> None:
    """Start the dashboard (Streamlit) on http://ADDRESS:PORT; stop it with Ctrl-C."""
    problems = []
    if importlib.util.find_spec("streamlit") is None:
        problems.append("the dashboard needs Streamlit: pip install 'factory-twin[dashboard]'")
    app = _app()
    if app is None:
        problems.append("the dashboard package is not installed with this twin")
    if runs.exists() and not runs.is_dir():
        problems.append(f"--runs: not a folder (got {runs})")
    if problems or app is None:
        fail(problems)
    runs.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "TWIN_RUNS": str(runs.resolve()),
        "TWIN_SCENARIOS": str(scenarios.resolve()),
        "TWIN_JOBSHOP": str(jobshop.resolve()),
        # The pages import `dashboard`: make its parent importable in a source checkout too.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(app.parent.parent), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", address,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # For users, not developers: no Deploy button or developer menu; errors are shown by
        # the pages themselves (dashboard.widgets.friendly_error), never as tracebacks.
        "--client.toolbarMode", "viewer",
        "--client.showErrorDetails", "none",
    ]  # fmt: skip
    typer.echo(f"dashboard on http://{address}:{port} (runs: {runs})", err=True)
    # Replace this process: the server keeps our PID, so whoever started us can stop it.
    os.execve(sys.executable, command, environment)
