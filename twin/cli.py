"""The ``twin`` command: the composition root that puts the commands together.

Commands live in :mod:`twin.commands`, one module per area; heavy dependencies are imported
inside the commands that need them, so ``twin --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from twin.commands import agents, dashboard, design, jobshop, live, run, service, state, study, sync

__all__ = ["app", "main"]

app = typer.Typer(
    help="factory-twin: run, compare and optimise a SimPy digital twin of a production line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.command()(run.validate)
app.command()(run.run)
app.command()(run.schema)
app.command()(study.sweep)
app.command()(study.compare)
app.command()(study.warmup)
app.command()(jobshop.jobshop)
app.command()(design.optimize)
app.command()(dashboard.dashboard)
app.command()(agents.train)
app.command()(agents.evaluate)
app.command()(sync.calibrate)
app.command()(sync.backtest)
app.command()(state.state)
app.command()(state.forecast)
app.command()(live.replay)
app.command()(live.mirror)
app.command()(agents.export)
app.command()(service.serve)
app.add_typer(service.token_app, name="token")
app.add_typer(service.audit_app, name="audit")


def _version(show: bool) -> None:
    if show:
        from importlib import metadata

        typer.echo(f"factory-twin {metadata.version('factory-twin')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """factory-twin: run, compare and optimise a SimPy digital twin of a production line."""


def main() -> None:
    """Entry point of the ``twin`` console script."""
    app()
