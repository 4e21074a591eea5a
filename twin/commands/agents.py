"""`twin train` and `twin evaluate`: reinforcement-learning agents (torch and SB3 loaded lazily)."""

from __future__ import annotations

import json
import math
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from twin.commands.common import err, fail, progress_bar, read_scenario, stdout_console
from twin.measure.labels import finite, format_number

__all__ = ["evaluate", "export", "train"]


def train(
    config: Annotated[Path, typer.Argument(help="Training config (YAML).", show_default=False)],
    out: Annotated[Path | None, typer.Option(help="Output folder (default: runs/train/<name>).")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in the output folder.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train an agent on twin/Dispatch-v0 as CONFIG says: checkpoints, best model, TensorBoard logs, model card."""
    from agents.config import ConfigError, load_config
    from agents.train import train as run_training

    try:
        settings = load_config(config)
    except ConfigError as error:
        fail([str(problem) for problem in error.problems])
    folder = out or Path("runs") / "train" / settings.name
    if resume and not (folder / "checkpoints" / "state.json").is_file():
        fail([f"--resume: no checkpoint in {folder / 'checkpoints'} (got --out {folder})"])
    if not resume and (folder / "config.yaml").exists():
        fail([f"--out: {folder} already holds a training run; use --resume or another folder (got {folder})"])
    command = "twin train " + shlex.join([str(config), *([f"--out={out}"] if out else [])])
    card = run_training(
        settings,
        folder,
        resume=resume,
        progress_bar=progress and err.is_terminal,
        log=lambda line: typer.echo(line, err=True),
        command=command,
    )
    typer.echo(
        f"{settings.name}: {card['steps']} steps in {card['wall_time_s']:.0f} s; best validation "
        f"{card['best']['metric']} {card['best']['score']:.4g} at step {card['best']['step']}; written to {folder}"
    )


def _parse_random(text: str) -> tuple[int, int, int, int]:
    """``JxM:COUNT[:SEED]`` -> jobs, machines, count, seed."""
    size, _, rest = text.partition(":")
    jobs, _, machines = size.partition("x")
    count, _, seed = rest.partition(":")
    return int(jobs), int(machines), int(count or 100), int(seed or 0)


def _seeds(text: str) -> list[int]:
    """``0-29`` or ``1,2,5``."""
    if "-" in text:
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(part) for part in text.split(",")]


def _number(value: Any, digits: int = 4, scale: float = 1.0) -> str:
    return format_number(scale * value, digits) if finite(value) else ""


def evaluate(
    instances: Annotated[
        list[Path] | None, typer.Argument(metavar="INSTANCE", help="Job-shop instance files.", show_default=False)
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(
            metavar="AGENT",
            help="rule:NAME, model:PATH (greedy), model:PATH@K (best of K samples), cpsat; "
            "+active or +non_delay after a model: decide on the array job shop; "
            "+improve:S after a rule or model: S seconds of CP-SAT from its schedule.",
        ),
    ] = None,
    random: Annotated[str | None, typer.Option(help="Random instances JxM:COUNT[:SEED], e.g. 10x10:100:1000.")] = None,
    scenario: Annotated[Path | None, typer.Option(help="A stochastic scenario, run with --seeds.")] = None,
    seeds: Annotated[str, typer.Option(help="Seeds of the scenario: 0-29 or 1,2,5.")] = "0-9",
    kpi: Annotated[
        str, typer.Option(help="What a scenario's agents minimise: makespan or a KPI name.")
    ] = "tardiness_mean",
    horizon: Annotated[float | None, typer.Option(help="Replaces the scenario's horizon.")] = None,
    bounds: Annotated[Path | None, typer.Option(help="bounds.json (default: the one beside the instances).")] = None,
    time_limit: Annotated[float, typer.Option(help="CP-SAT time limit per instance (s).")] = 10.0,
    store: Annotated[Path | None, typer.Option(help="Store the evaluation in this run store (e.g. runs).")] = None,
    name: Annotated[str | None, typer.Option(help="Label of the stored evaluation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Score agents on job-shop instances or a stochastic scenario: KPI mean, CI, gap, difference to the best rule."""
    from agents.evaluate import evaluate_instances, evaluate_scenario, parse_agent, summarize
    from twin.jobshop.bounds import BOUNDS_FILE, best_known
    from twin.jobshop.instances import InstanceError, generate_instance, load_instance
    from twin.measure.kpi import kpi_names

    problems: list[str] = []
    specs = []
    for i, text in enumerate(agent or []):
        try:
            specs.append(parse_agent(text))
        except ValueError as error:
            problems.append(f"--agent[{i}]: {error}")
    if not agent:
        problems.append("--agent: give at least one agent (got none)")
    sources = [
        label for label, given in (("INSTANCES", instances), ("--random", random), ("--scenario", scenario)) if given
    ]
    if len(sources) != 1:
        problems.append(f"give exactly one of INSTANCES, --random, --scenario (got {', '.join(sources) or 'none'})")
    generated: tuple[int, int, int, int] | None = None
    if random is not None:
        try:
            generated = _parse_random(random)
        except ValueError:
            problems.append(f"--random: expected JxM:COUNT[:SEED] (got {random!r})")
    seed_list: list[int] = []
    try:
        seed_list = _seeds(seeds)
    except ValueError:
        problems.append(f"--seeds: expected 0-29 or 1,2,5 (got {seeds!r})")
    if problems:
        fail(problems)

    with progress_bar("evaluate", disable=not err.is_terminal) as bar:
        task = bar.add_task("evaluate", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if scenario is not None:
            spec = read_scenario(scenario, None)
            if kpi != "makespan" and kpi not in kpi_names(spec):
                known = ", ".join(kpi_names(spec))
                fail([f"--kpi: not a KPI of this scenario (expected makespan or one of {known}) (got {kpi!r})"])
            try:
                results, schedules = evaluate_scenario(spec, specs, seed_list, kpi, horizon, advance)
            except ValueError as error:
                fail([f"--agent: {error}"])
            label = spec.name
        else:
            files = list(instances or [])
            try:
                loaded = [load_instance(file) for file in files]
            except InstanceError as error:
                fail([str(error)])
            if generated is not None:
                jobs, machines, count, first = generated
                loaded = [generate_instance(jobs, machines, seed=first + i) for i in range(count)]
            bounds_files = [bounds] if bounds else sorted({file.parent / BOUNDS_FILE for file in files})
            results, schedules = evaluate_instances(loaded, specs, best_known(bounds_files), time_limit, advance)
            shown = ", ".join(i.name for i in loaded[:3]) + ("..." if len(loaded) > 3 else "")
            label = f"random {random}" if random else shown
    summary = summarize(results)
    folder = None
    if store is not None:
        from twin.studies.store import write_evaluation

        extra = {
            "agents": [s.method for s in specs],
            "kpi": str(results["kpi"].iloc[0]),
            "problems": label,
            "command": "twin evaluate " + shlex.join(sys.argv[2:]),
        }
        folder = write_evaluation(results, schedules, store, name or "agents", extra)
    if as_json:
        document = {
            "problems": label,
            "evaluation": str(folder) if folder else None,
            "summary": json.loads(summary.to_json(orient="records")),
            "results": json.loads(results.to_json(orient="records")),
        }
        sys.stdout.write(json.dumps(document) + "\n")
        return
    kpi_name = str(results["kpi"].iloc[0])
    table = Table(title=Text(f"{kpi_name} on {label} ({summary['episodes'].max()} episodes per agent)"))
    for header in (
        "agent",
        "mean",
        "95% CI",
        "gap %",
        f"vs {summary['vs_rule'].iloc[0]}",
        "diff 95% CI",
        "ms/decision",
    ):
        table.add_column(header, justify="left" if header == "agent" else "right")
    for row in summary.to_dict("records"):
        table.add_row(
            str(row["method"]),
            _number(row["mean"]),
            f"[{_number(row['ci_low'])}, {_number(row['ci_high'])}]",
            _number(row["gap_mean"], 3, 100),
            _number(row["diff_mean"]),
            f"[{_number(row['diff_ci_low'])}, {_number(row['diff_ci_high'])}]"
            if not math.isnan(row["diff_mean"])
            else "",
            _number(row["wall_time_per_decision_s"], 3, 1000),
        )
    stdout_console().print(table)
    if folder is not None:
        typer.echo(f"stored in {folder}", err=True)


def export(
    model: Annotated[str, typer.Argument(help="model.zip, a folder holding one, or a zoo name.", show_default=False)],
    onnx: Annotated[Path, typer.Option("--onnx", help="ONNX file to write.", show_default=False)],
    stations: Annotated[int | None, typer.Option(min=1, help="Stations of the graph (default: the model's).")] = None,
    max_queue: Annotated[
        int | None, typer.Option(min=1, help="Candidate slots of the graph (default: the model's).")
    ] = None,
    fallback_rule: Annotated[str, typer.Option(help="Rule a caller falls back to, stored in the card.")] = "fifo",
) -> None:
    """Export a trained dispatcher as ONNX with the action mask inside, for `twin serve` (no torch there)."""
    from agents.export import ExportError, export_onnx, resolve_model

    if not onnx.parent.is_dir():
        fail([f"--onnx: folder does not exist (got {onnx.parent})"])
    try:
        card = export_onnx(resolve_model(model), onnx, stations, max_queue, fallback_rule)
    except ExportError as error:
        fail([str(error)])
    typer.echo(
        f"{onnx}: {card['stations']} stations x {card['max_queue']} slots, observation of "
        f"{card['observation_size']}, fallback {card['fallback_rule']}"
    )
