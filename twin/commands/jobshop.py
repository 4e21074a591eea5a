"""`twin jobshop`: a job-shop instance scheduled by a rule (through the model), CP-SAT or an agent."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from twin.commands.common import fail
from twin.dispatching import rule_names
from twin.jobshop.bounds import BOUNDS_FILE, best_known
from twin.jobshop.evaluation import rule_method
from twin.jobshop.gantt import plot_gantt
from twin.jobshop.instances import InstanceError, Perturbation, load_instance
from twin.jobshop.schedules import ScheduleError, check_schedule

__all__ = ["jobshop"]


def jobshop(
    file: Annotated[Path, typer.Argument(help="Job-shop instance (standard text format).", show_default=False)],
    rule: Annotated[str | None, typer.Option(help=f"Dispatching rule: {', '.join(rule_names())}.")] = None,
    cpsat: Annotated[bool, typer.Option("--cpsat", help="Solve with OR-Tools CP-SAT.")] = False,
    time_limit: Annotated[float, typer.Option(help="CP-SAT time limit in seconds.")] = 10.0,
    agent: Annotated[
        Path | None, typer.Option(help="A saved SB3 model (MaskablePPO, PPO, A2C or DQN) for twin/Dispatch-v0.")
    ] = None,
    mode: Annotated[str, typer.Option(help="The agent's action mode: job or rule.")] = "job",
    decisions: Annotated[
        str,
        typer.Option(
            help="Where the agent decides: plant (the twin's model), or active (Giffler-Thompson) "
            "or non_delay on the array model of the job shop."
        ),
    ] = "plant",
    samples: Annotated[int, typer.Option(min=0, help="The agent's best of K sampled schedules (0: greedy).")] = 0,
    improve: Annotated[
        float | None,
        typer.Option(
            help="Then this many seconds of CP-SAT, with the agent's (or rule's) schedule as hint and "
            "upper bound; without --agent or --rule, the best rule's: a complete search for a tenth of the "
            "time (at most 1 s), then CP-SAT's neighbourhood search alone from its best. Prints the gap over time."
        ),
    ] = None,
    cv: Annotated[float, typer.Option(help="Coefficient of variation of processing times (stochastic shop).")] = 0.0,
    mtbf: Annotated[float | None, typer.Option(help="Mean busy time between machine breakdowns.")] = None,
    mttr: Annotated[float | None, typer.Option(help="Mean time to repair.")] = None,
    arrival_mean: Annotated[float | None, typer.Option(help="Jobs arrive with exponential gaps of this mean.")] = None,
    due_factor: Annotated[float | None, typer.Option(help="Due date = release + factor x work.")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of a stochastic shop.")] = 0,
    gantt: Annotated[Path | None, typer.Option(help="Write a Gantt chart of the schedule (PNG).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Schedule a job-shop instance: a dispatching rule run through the twin, CP-SAT, or an agent.

    With --improve, CP-SAT then improves the rule's or agent's schedule (or the best rule's).
    """
    problems = []
    methods = [name for name, given in (("--rule", rule), ("--cpsat", cpsat), ("--agent", agent)) if given]
    if len(methods) > 1 or not (methods or improve is not None):
        problems.append(f"give exactly one of --rule NAME, --cpsat, --agent MODEL (got {', '.join(methods) or 'none'})")
    if improve is not None and not improve > 0:
        problems.append(f"--improve: must be > 0 seconds (got {improve:g})")
    if improve is not None and cpsat:
        problems.append("--improve: improves a rule's or an agent's schedule; with --cpsat use --time-limit")
    if decisions not in ("plant", "active", "non_delay"):
        problems.append(f"--decisions: must be plant, active or non_delay (got {decisions!r})")
    elif decisions != "plant" and agent is None:
        problems.append(f"--decisions: {decisions} is where an agent decides; give --agent MODEL")
    if samples and agent is None:
        problems.append("--samples: samples an agent's schedules; give --agent MODEL")
    if rule is not None and rule not in rule_names():
        problems.append(f"--rule: unknown rule (expected one of: {', '.join(rule_names())}) (got {rule!r})")
    perturbation = Perturbation()
    try:
        perturbation = Perturbation(cv, mtbf, mttr, arrival_mean, due_factor, seed)
    except ValueError as error:
        problems.append(str(error))
    if cpsat and perturbation.stochastic:
        problems.append("--cpsat: solves the deterministic instance; drop --cv, --mtbf/--mttr and --arrival-mean")
    if improve is not None and perturbation.stochastic:
        problems.append(
            "--improve: CP-SAT solves the deterministic instance; drop --cv, --mtbf/--mttr and --arrival-mean"
        )
    if decisions != "plant" and perturbation.stochastic:
        problems.append(f"--decisions: {decisions} runs the deterministic instance; drop the perturbations")
    if decisions != "plant" and mode != "job":
        problems.append(f"--decisions: {decisions} takes --mode job (got {mode!r})")
    if cpsat and not time_limit > 0:
        problems.append(f"--time-limit: must be > 0 (got {time_limit:g})")
    if agent is not None and not agent.is_file():
        problems.append(f"--agent: no such file (got {agent})")
    if mode not in ("job", "rule"):
        problems.append(f"--mode: must be job or rule (got {mode!r})")
    if gantt is not None and not gantt.parent.is_dir():
        problems.append(f"--gantt: folder does not exist (got {gantt.parent})")
    if problems:
        fail(problems)
    try:
        instance = load_instance(file)
    except InstanceError as error:
        fail([str(error)])

    if cpsat:
        from agents.methods import cpsat_method

        method, run, option = "cpsat", cpsat_method(time_limit, workers=None), "--cpsat"
    elif agent is not None:
        from agents.methods import model_method

        try:
            run = model_method(agent, samples, perturbation, mode, decisions)  # type: ignore[arg-type]
        except ValueError as error:
            fail([f"--agent: {error}"])
        suffix = (f"@{samples}" if samples else "") + ("" if decisions == "plant" else f"+{decisions}")
        method, option = f"agent:{agent.name}{suffix}", "--agent"
    elif rule is not None:
        method, run, option = f"rule:{rule}", rule_method(str(rule), perturbation), "--rule"
    else:
        from agents.methods import best_rule_method

        method, run, option = "best-rule", best_rule_method(), "--improve"
    if improve is not None:
        from agents.methods import improve_method

        method, run = f"{method}+improve:{improve:g}", improve_method(run, improve)
    try:
        outcome = run(instance, perturbation.seed)
    except (ValueError, RuntimeError) as error:  # a model that does not fit, no schedule in the time limit
        fail([f"{option}: {error}"])
    makespan, schedule, optimal = outcome.makespan, outcome.schedule, outcome.optimal
    # Every schedule is checked against the instance: a model bug must not pass for a result.
    broken = check_schedule(instance, schedule, exact_durations=not perturbation.stochastic)
    if broken:
        raise ScheduleError(f"{method} made an infeasible schedule of {instance.name}: {'; '.join(broken[:3])}")

    if gantt is not None:
        typer.echo(
            f"Gantt chart written to {plot_gantt(schedule, gantt, instance.machines, f'{instance.name} {method}')}",
            err=True,
        )
    if as_json:
        document: dict[str, Any] = {
            "instance": instance.name,
            "method": method,
            "makespan": makespan,
            "optimal": optimal,
            "schedule": [op._asdict() for op in schedule],
        }
        if improve is not None:
            document["progress"] = [{"time_s": t, "makespan": m} for t, m in outcome.progress]
        sys.stdout.write(json.dumps(document) + "\n")
        return
    best = best_known([file.parent / BOUNDS_FILE]).get(file.stem)
    gap = f", {100 * (makespan / best - 1):.1f}% above the best known {best:g}" if best else ""
    proof = {True: " (optimal)", False: " (not proven optimal)", None: ""}[optimal]
    typer.echo(f"{instance.name}: makespan {makespan:g} by {method}{proof}{gap}")
    if improve is not None:
        typer.echo(("gap" if best else "makespan") + " over CP-SAT's time (s), from the starting schedule at 0:")
        for seconds, value in _checkpoints(outcome.progress, improve):
            share = f"  {100 * (value / best - 1):5.1f}%" if best else ""
            typer.echo(f"  {seconds:7.2f}  {value:g}{share}")


def _checkpoints(progress: tuple[tuple[float, float], ...], limit: float) -> list[tuple[float, float]]:
    """The best makespan found by 0, 0.5, 1, 2, 5, 10, 20, 50 ... seconds up to ``limit``."""
    marks = [0.0] + [m * 10.0**e for e in range(-1, 5) for m in (1, 2, 5) if 0.5 <= m * 10.0**e < limit]
    rows = []
    for mark in [*marks, limit]:
        found = [value for seconds, value in progress if seconds <= mark]
        if found:
            rows.append((mark, min(found)))
    return rows
