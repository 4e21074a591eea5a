"""`twin sweep`, `twin compare` and `twin warmup`: what-if studies over several scenarios."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.commands.common import (
    Overrides,
    ScenarioFile,
    err,
    fail,
    out_problems,
    plot_problems,
    progress_bar,
    read_scenario,
    size_problems,
    stdout_console,
    warn,
)
from twin.errors import ScenarioError, SimulationStalled
from twin.measure.executors import Engine
from twin.measure.kpi import MAIN_KPIS
from twin.measure.labels import count_of, format_estimate, format_interval, format_number, json_number, kpi_label

__all__ = ["compare", "sweep", "warmup"]

Workers = Annotated[int, typer.Option(min=1, help="Parallel workers (processes, or Dask workers).")]
EngineOption = Annotated[str, typer.Option(help="Where tasks run: local (processes) or dask.")]
Address = Annotated[str | None, typer.Option(help="Running Dask scheduler to join, e.g. tcp://127.0.0.1:8786.")]


def _estimate(stats: Any) -> str:
    return format_estimate(stats["mean"], stats["ci_low"], stats["ci_high"])


def _engine(engine: str, address: str | None) -> Engine:
    if engine not in ("local", "dask"):
        fail([f"--engine: must be local or dask (got {engine})"])
    if address is not None and engine != "dask":
        fail(["--address: needs --engine dask"])
    return "dask" if engine == "dask" else "local"


def sweep(
    file: ScenarioFile,
    vary: Annotated[
        list[str],
        typer.Option(
            metavar="PATH=V1,V2,...", help="Values of a scenario path (repeatable); the full factorial is run."
        ),
    ],
    zipped: Annotated[bool, typer.Option("--zip", help="Pair the i-th values of every --vary instead.")] = False,
    replications: Annotated[int | None, typer.Option(min=1, help="Replications per point.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed, the same for every point.")] = None,
    overrides: Overrides = None,
    workers: Workers = 1,
    engine: EngineOption = "local",
    address: Address = None,
    out: Annotated[Path | None, typer.Option(help="Run store to write the sweep into.")] = None,
    events: Annotated[
        bool, typer.Option("--events", help="Also store each point's event log, for its timeline (needs --out).")
    ] = False,
    resume: Annotated[bool, typer.Option(help="Finish the unfinished sweep of this study in --out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Run a scenario at every combination of values, with common random numbers."""
    from twin.measure.executors import ExecutorError
    from twin.studies.store import StoreError
    from twin.studies.sweep import parse_vary, plan_points, run_sweep

    scenario = read_scenario(file, overrides)
    chosen = _engine(engine, address)
    problems = ["--resume: needs --out"] if resume and out is None else []
    problems += ["--events: needs --out"] if events and out is None else []
    problems += out_problems(out) + size_problems(scenario, replications)
    if problems:
        fail(problems)
    try:
        varied = parse_vary(vary)
        total_points = len(plan_points(varied, zipped))
    except ScenarioError as error:
        fail([str(problem) for problem in error.problems])
    warn(scenario)
    count = replications or scenario.replications
    with progress_bar("points x replications", disable=not err.is_terminal) as progress:
        task = progress.add_task("sweep", total=total_points * count)
        try:
            result = run_sweep(
                scenario,
                varied,
                zipped,
                count,
                seed,
                root=out,
                resume=resume,
                workers=workers,
                engine=chosen,
                address=address,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                events=events,
            )
        except ScenarioError as error:
            fail([str(problem) for problem in error.problems])
        except (StoreError, ExecutorError) as error:
            fail([str(error)])
        except SimulationStalled as stalled:
            fail([f"{file}: {stalled}"])
        except KeyboardInterrupt:
            typer.echo("interrupted: finished points are stored; run again with --resume to finish", err=True)
            raise typer.Exit(130) from None
    if result.folder is not None:
        typer.echo(f"sweep written to {result.folder}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n")
        return
    table = Table(title=f"{scenario.name}: {count_of(count, 'replication')} per point, mean ± 95% CI half-width")
    for path in varied:
        table.add_column(path)
    for kpi in MAIN_KPIS:
        table.add_column(kpi_label(kpi, scenario.time_unit), justify="right")
    for point in result.points:
        stats = point.result.summary_dict()
        table.add_row(*(json.dumps(point.overrides[p]) for p in varied), *(_estimate(stats[k]) for k in MAIN_KPIS))
    stdout_console().print(table)


WIDE_RUNS = 8
"""Most runs shown side by side; beyond, `twin compare` prints one row per run and KPI."""


def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(
            metavar="RUN_OR_DIR...", help="Runs, sweep folders or run stores; the first run is the baseline."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of the main KPIs with 95% CI error bars.")] = None,
    best: Annotated[
        str | None,
        typer.Option(
            help="Rank the runs on this KPI (e.g. throughput): the subset that holds the best with 95% "
            "confidence over all comparisons, intervals against the best, replications to separate the leaders."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Compare runs of different scenarios anyway (with a warning).")
    ] = False,
) -> None:
    """KPIs of runs side by side: difference to the first, paired 95% CI, significance (*).

    Runs of different scenarios are refused unless --force: their differences mix what sets
    the plants apart with what was changed. Past 8 runs the table has one row per run and KPI.
    """
    from twin.studies.compare import compare as compare_runs
    from twin.studies.store import StoreError

    problems = plot_problems(plot)
    if problems:
        fail(problems)
    try:
        table = compare_runs(runs)
    except StoreError as error:
        fail([str(error)])
    _refuse_mixed(table, force)
    if plot is not None:
        from twin.measure.plots import plot_comparison

        typer.echo(f"plot written to {plot_comparison(table, MAIN_KPIS, plot)}", err=True)
    if best is not None:
        _print_ranking(table, best, as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps(_comparison_json(table), indent=2, allow_nan=False) + "\n")
        return
    shown = table[~table.groupby("kpi")["mean"].transform(lambda m: bool((m.fillna(0) == 0).all()))]
    order = list(dict.fromkeys(shown["run"]))
    console = stdout_console()
    console.print(_wide_table(shown, order) if len(order) <= WIDE_RUNS else _long_table(shown))
    if len(order) > WIDE_RUNS:
        typer.echo(f"{len(order)} runs: one row per run and KPI; --json gives every number", err=True)


def _difference(row: Any) -> str:
    mark = " *" if row["significant"] else ""
    return f"Δ {format_number(row['diff'], 3)} {format_interval(row['diff_low'], row['diff_high'])}{mark}".rstrip()


def _wide_table(table: Any, order: list[str]) -> Table:
    labels = dict(zip(table["run"], table["label"], strict=False))
    ids = dict(zip(table["run"], table["run_id"], strict=False))
    unit = str(table["time_unit"].iloc[0])
    out = Table(title="Comparison with the first run: mean [95% CI]; difference (* = significant)")
    out.add_column("KPI")
    for i, run in enumerate(order):
        out.add_column(f"{labels[run]}\n{ids[run]}" if i == 0 else labels[run], justify="right")
    for kpi, rows in table.groupby("kpi", sort=False):
        cells = []
        for i, (_, row) in enumerate(rows.iterrows()):
            cell = f"{format_number(row['mean'])} {format_interval(row['ci_low'], row['ci_high'])}".strip()
            if i and not math.isnan(row["diff"]):
                cell += "\n" + _difference(row)
            cells.append(cell)
        out.add_row(kpi_label(str(kpi), unit), *cells)
    return out


def _long_table(table: Any) -> Table:
    unit = str(table["time_unit"].iloc[0])
    out = Table(title="Comparison with the first run: mean [95% CI]; difference (* = significant)")
    for column in ("KPI", "Run", "Mean [95% CI]", "Difference to the first"):
        out.add_column(column, justify="left" if column in ("KPI", "Run") else "right")
    for kpi, rows in table.groupby("kpi", sort=False):
        for i, (_, row) in enumerate(rows.iterrows()):
            estimate = f"{format_number(row['mean'])} {format_interval(row['ci_low'], row['ci_high'])}".strip()
            difference = "baseline" if i == 0 else _difference(row)
            out.add_row(kpi_label(str(kpi), unit) if i == 0 else "", str(row["label"]), estimate, difference)
    return out


def _refuse_mixed(table: Any, force: bool) -> None:
    """Refuse (exit 2), or with ``force`` warn, when the runs simulate different scenarios:
    their differences mix what sets the plants apart with what was changed, and share no
    random numbers."""
    names = list(dict.fromkeys(str(name) for name in table["scenario"]))
    if len(names) < 2:
        return
    message = f"these runs simulate different scenarios ({', '.join(names)})"
    if not force:
        fail([f"{message}: a difference would not say what a change did; --force compares them anyway"])
    typer.echo(f"warning: {message}: a significant difference only says the numbers differ", err=True)


def _print_ranking(table: Any, kpi: str, as_json: bool) -> None:
    """``--best KPI``: the ranking as a table and a sentence, or with ``--json`` the comparison
    document with a ``ranking`` key (:meth:`twin.studies.ranking.Ranking.to_json`)."""
    from twin.measure.labels import kpi_noun
    from twin.studies.ranking import METHOD, rank_runs

    runs = table.drop_duplicates("run")
    labels = dict(zip(runs["run"], runs["label"], strict=True))
    try:
        ranking = rank_runs([Path(r) for r in runs["run"]], kpi, labels)
    except ValueError as error:
        fail([f"--best: {error}"])
    if as_json:
        document = {**_comparison_json(table), "ranking": ranking.to_json()}
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return
    unit = str(table["time_unit"].iloc[0])
    out = Table(title=f"Ranking on {kpi_label(kpi, unit)}: {METHOD}, {ranking.level:.0%} over all comparisons")
    for column in ("Rank", "Run", "Mean [95% CI]", "Difference to the best [Bonferroni 95% CI]", "May be the best"):
        out.add_column(column, justify="right" if column != "Run" else "left")
    for row in ranking.table.to_dict("records"):
        difference = (
            "best"
            if row["rank"] == 1
            else f"{format_number(row['diff_to_best'])} {format_interval(row['diff_low'], row['diff_high'])}"
        )
        interval = f"{format_number(row['mean'])} {format_interval(row['ci_low'], row['ci_high'])}".strip()
        subset = "yes" if row["in_subset"] else "no"
        out.add_row(str(row["rank"]), f"{row['label']}\n{Path(row['run_id']).name}", interval, difference, subset)
    console = stdout_console()
    console.print(out)
    console.print(ranking.sentence(kpi_noun(kpi)))


def _comparison_json(table: Any) -> dict[str, Any]:
    runs = table.drop_duplicates("run")
    kpis: dict[str, list[dict[str, Any]]] = {}
    for _, row in table.iterrows():
        kpis.setdefault(row["kpi"], []).append(
            {
                "run_id": row["run_id"],
                "path": row["run"],
                **{k: json_number(row[k]) for k in ("mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high")},
                "paired": bool(row["paired"]),
                "significant": bool(row["significant"]),
            }
        )
    return {
        "baseline": runs["run_id"].iloc[0],
        "runs": [
            {"run_id": r, "path": p, "label": label}
            for r, p, label in zip(runs["run_id"], runs["run"], runs["label"], strict=True)
        ],
        "kpis": kpis,
    }


def warmup(
    file: ScenarioFile,
    replications: Annotated[int | None, typer.Option(min=1, help="Replications to average.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed.")] = None,
    overrides: Overrides = None,
    bins: Annotated[int, typer.Option(min=4, help="Time bins over the horizon.")] = 200,
    window: Annotated[int, typer.Option(min=1, help="Half-width of the moving average, in bins.")] = 5,
    workers: Workers = 1,
    plot: Annotated[
        Path | None, typer.Option(help="PNG to write (default: <scenario>-warmup.png here; none with --json).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Welch's method: plot WIP over time averaged over replications, suggest a warm-up."""
    from twin.studies.store import file_slug
    from twin.studies.warmup import plot_warmup, welch

    scenario = read_scenario(file, overrides)
    # Without --plot: a PNG in the working folder, named like a run id (never a path out of it);
    # with --json, none unless asked for.
    target = plot if plot is not None or as_json else Path(f"{file_slug(scenario.name)}-warmup.png")
    problems = plot_problems(target) + size_problems(scenario, replications)
    if scenario.horizon is None:
        problems.append("horizon: a warm-up study needs one")
    if window >= bins // 2:
        problems.append(f"--window: must be < bins / 2 = {bins // 2} (got {window})")
    if problems:
        fail(problems)
    try:
        study = welch(scenario, replications, seed, bins=bins, window=window, workers=workers)
    except SimulationStalled as stalled:
        fail([f"{file}: {stalled}"])
    if target is not None:
        plot_warmup(study, scenario, target)
        typer.echo(f"plot written to {target}", err=True)
    if as_json:
        document = {
            "scenario": scenario.name,
            "suggested_warmup": study.suggested,
            "plot": None if target is None else str(target),
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif study.suggested is None:
        typer.echo("WIP has not settled within the first half of the horizon: lengthen the horizon")
    else:
        typer.echo(
            f"suggested warm-up: {study.suggested:.6g} {scenario.time_unit} (where the moving average settles); "
            f"current: {scenario.warmup:g}"
        )
