"""The ``twin`` command: the composition root that puts the commands together.

Commands live in :mod:`twin.commands`, one module per area; heavy dependencies are imported
inside the commands that need them, so ``twin --help`` stays fast.
"""

from __future__ import annotations

import typer

from twin.commands import agents, dashboard, design, jobshop, run, state, study, sync

__all__ = ["app", "main"]

app = typer.Typer(
    help="factory-twin: run, compare and optimise a SimPy digital twin of a production line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
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


def main() -> None:
    """Entry point of the ``twin`` console script."""
    app()
