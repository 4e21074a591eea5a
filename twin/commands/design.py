"""`twin optimize`: search the design space a scenario's ``design:`` section declares."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from twin.commands.common import (
    Overrides,
    ScenarioFile,
    err,
    fail,
    plot_problems,
    progress_bar,
    read_scenario,
    stdout_console,
    warn,
)
from twin.errors import ScenarioError
from twin.measure.labels import format_estimate

if TYPE_CHECKING:
    from agents.design_search import SearchResult
    from twin.studies.design import DesignEvaluator, DesignSpace

__all__ = ["optimize", "overlap_sentence"]

METHODS = ("grid", "optuna", "rl")
SHOWN = 5
"""Best designs listed in the table."""


def _space_or_fail(scenario: Any) -> DesignSpace:
    from twin.studies.design import DesignSpace

    try:
        space = DesignSpace.of(scenario)
        # Every option at each end of its range must make a valid scenario (machines >= 1, ...).
        start = space.start()
        space.scenario_for(start)
        for i, option in enumerate(space.options):
            space.scenario_for(tuple(option.max if j == i else v for j, v in enumerate(start)))
    except ScenarioError as error:
        fail([str(problem) for problem in error.problems])
    if space.maximal(start):
        cheapest = min(o.cost for o in space.options)
        fail(
            [f"design.budget: buys no unit of any option (got {space.budget:g}; the cheapest unit costs {cheapest:g})"]
        )
    return space


def _check_extras(method: str) -> None:
    needs = {"optuna": ("optuna", "design"), "rl": ("stable_baselines3", "rl")}
    if method in needs:
        module, extra = needs[method]
        try:
            __import__(module)
        except ImportError:
            fail([f"--method {method}: needs the `{extra}` extra: pip install 'factory-twin[{extra}]'"])


def _search(
    method: str,
    evaluator: DesignEvaluator,
    trials: int,
    timesteps: int,
    seed: int,
    storage: str | None,
    maximal: bool,
    workers: int,
    progress: Any,
) -> SearchResult:
    if method == "grid":
        from agents.design_search import grid_search

        return grid_search(evaluator, maximal=maximal, progress=progress)
    if method == "optuna":
        from agents.design_search import optuna_search

        return optuna_search(evaluator, trials, seed=seed, storage=storage, batch=workers, progress=progress)
    from agents.design_rl import DesignRLConfig, rl_search

    return rl_search(evaluator, DesignRLConfig(timesteps=timesteps, seed=seed), progress=progress)


def _tables(result: SearchResult, space: DesignSpace) -> list[Table]:
    unit = space.scenario.time_unit
    objective = space.design.objective
    ranked = result.ranked()[:SHOWN]
    if result.best not in ranked:
        ranked = [result.best, *ranked[: SHOWN - 1]]
    best = Table(
        title=f"{space.scenario.name}: best designs by {objective} ({result.method}, "
        f"{result.evaluations} designs evaluated in {result.wall_time_s:.1f} s), mean ± 95% CI"
    )
    best.add_column("")
    for path in space.paths:
        best.add_column(path.removeprefix("stations."), justify="right")
    best.add_column("cost", justify="right")
    best.add_column(f"{objective}" + ("" if objective == "profit" else f" (jobs/{unit})"), justify="right")
    for evaluation in ranked:
        mark = "best" if evaluation is result.best else ""
        best.add_row(
            mark,
            *(f"{v:g}" for v in evaluation.values),
            f"{evaluation.cost:g}",
            format_estimate(evaluation.objective, *evaluation.objective_ci),
        )
    front = Table(title="Pareto front: the most throughput for each cost")
    front.add_column("cost", justify="right")
    front.add_column(f"throughput (jobs/{unit})", justify="right")
    front.add_column("design")
    for evaluation in result.pareto():
        design = ", ".join(f"{p.removeprefix('stations.')}={v:g}" for p, v in evaluation.design.items())
        front.add_row(f"{evaluation.cost:g}", f"{evaluation.throughput:.4g}", design)
    return [best, front]


def overlap_sentence(result: SearchResult) -> str | None:
    """Whether the best design is really better than the runner-up: do their 95% intervals
    of the objective overlap? None with fewer than two designs or without intervals."""
    ranked = [e for e in result.ranked() if e is not result.best]
    if not ranked:
        return None
    best, second = result.best, ranked[0]
    low, high = best.objective_ci
    low2, high2 = second.objective_ci
    if any(v != v for v in (low, high, low2, high2)):  # NaN: too few replications for intervals
        return None
    if low <= high2 and low2 <= high:
        return (
            f"The best design's 95% interval [{low:.4g}, {high:.4g}] overlaps the runner-up's "
            f"[{low2:.4g}, {high2:.4g}]: it may not really be better; more replications would tell."
        )
    return (
        f"The best design's 95% interval [{low:.4g}, {high:.4g}] lies clear of the runner-up's "
        f"[{low2:.4g}, {high2:.4g}]."
    )


class _LineProgress:
    """Progress off a terminal (a log, CI): a line on stderr every :data:`EVERY_S` seconds."""

    EVERY_S = 10.0

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.last = self.started

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last >= self.EVERY_S or (total is not None and done >= total):
            self.last = now
            of = f"/{total}" if total is not None else ""
            typer.echo(f"{self.label}: {done}{of} after {now - self.started:.0f} s", err=True)


def optimize(
    file: ScenarioFile,
    method: Annotated[str, typer.Option(help="grid (every feasible design), optuna (TPE) or rl (an agent).")],
    trials: Annotated[int, typer.Option(min=1, help="Optuna: trials the study should have in all.")] = 50,
    replications: Annotated[int | None, typer.Option(min=1, help="Per design (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed of every design, and of the search.")] = None,
    overrides: Overrides = None,
    maximal: Annotated[
        bool, typer.Option("--maximal", help="Grid: only designs that leave no affordable unit unbought.")
    ] = False,
    timesteps: Annotated[int, typer.Option(min=1, help="RL: env steps of training.")] = 12_000,
    workers: Annotated[int, typer.Option(min=1, help="Parallel worker processes for the simulations.")] = 1,
    out: Annotated[Path, typer.Option(help="Run store: every evaluated design is written there as a run.")] = Path(
        "runs"
    ),
    storage: Annotated[
        str | None,
        typer.Option(help="Optuna storage URL (default sqlite:///OUT/optuna.db): a rerun resumes the study."),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of throughput against cost, Pareto front.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Search the scenario's design space: best designs and the throughput-versus-cost Pareto front."""
    from twin.studies.design import DesignEvaluator, plot_pareto

    scenario = read_scenario(file, overrides)
    problems = []
    if method not in METHODS:
        problems.append(f"--method: must be one of {', '.join(METHODS)} (got {method})")
    if out.exists() and not out.is_dir():
        problems.append(f"--out: not a folder (got {out})")
    problems += plot_problems(plot)
    if storage is not None and method != "optuna":
        problems.append("--storage: only for --method optuna")
    if storage is not None and "://" not in storage:
        problems.append(f"--storage: expected a database URL such as sqlite:///study.db (got {storage})")
    if maximal and method != "grid":
        problems.append("--maximal: only for --method grid")
    if problems:
        fail(problems)
    space = _space_or_fail(scenario)
    _check_extras(method)
    warn(scenario)
    if method == "optuna" and storage is None:
        storage = f"sqlite:///{(out / 'optuna.db').as_posix()}"
    out.mkdir(parents=True, exist_ok=True)
    base_seed = scenario.seed if seed is None else seed
    label = {"grid": "designs", "optuna": "trials", "rl": "training steps"}[method]
    with (
        DesignEvaluator(space, replications, base_seed, workers=workers, root=out, label=method) as evaluator,
        progress_bar(label, disable=not err.is_terminal) as bar,
    ):
        task = bar.add_task(method, total={"optuna": trials, "rl": timesteps}.get(method))
        lines = _LineProgress(label)

        def progress(done: int, total: int | None) -> None:
            if err.is_terminal:
                bar.update(task, completed=done, total=total)
            else:
                lines(done, total)

        try:
            result = _search(method, evaluator, trials, timesteps, base_seed, storage, maximal, workers, progress)
        except KeyboardInterrupt:
            typer.echo(
                "interrupted: evaluated designs are stored"
                + ("; run again to resume the Optuna study" if method == "optuna" else ""),
                err=True,
            )
            raise typer.Exit(130) from None
    document = result.to_json()
    where = evaluator.write_summary({**document, "details": result.details, "wall_time_s": result.wall_time_s})
    if where is not None:
        typer.echo(f"designs written to {where.parent}", err=True)
    if plot is not None:
        title = f"{scenario.name}: {result.method}, {result.evaluations} designs"
        typer.echo(f"plot written to {plot_pareto(result.designs, result.best, plot, title)}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return
    console = stdout_console()
    for table in _tables(result, space):
        console.print(table)
    sentence = overlap_sentence(result)
    if sentence is not None:
        console.print(sentence)
