"""`twin sweep`, `twin compare` and `twin warmup`: what-if studies over several scenarios."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from twin.commands.common import Overrides, ScenarioFile, err, fail, progress_bar, read_scenario, stdout_console, warn
from twin.errors import ScenarioError
from twin.measure.executors import Engine
from twin.measure.kpi import MAIN_KPIS
from twin.measure.labels import format_estimate, json_number, kpi_label

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
    vary: Annotated[list[str], typer.Option(help="path=v1,v2,... (repeatable); the full factorial is run.")],
    zipped: Annotated[bool, typer.Option("--zip", help="Pair the i-th values of every --vary instead.")] = False,
    replications: Annotated[int | None, typer.Option(min=1, help="Replications per point.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Base seed, the same for every point.")] = None,
    overrides: Overrides = None,
    workers: Workers = 1,
    engine: EngineOption = "local",
    address: Address = None,
    out: Annotated[Path | None, typer.Option(help="Run store to write the sweep into.")] = None,
    resume: Annotated[bool, typer.Option(help="Finish the unfinished sweep of this study in --out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Run a scenario at every combination of values, with common random numbers."""
    from twin.studies.sweep import parse_vary, plan_points, run_sweep

    scenario = read_scenario(file, overrides)
    chosen = _engine(engine, address)
    if resume and out is None:
        fail(["--resume: needs --out"])
    if out is not None and out.exists() and not out.is_dir():
        fail([f"--out: not a folder (got {out})"])
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
            )
        except ScenarioError as error:
            fail([str(problem) for problem in error.problems])
        except KeyboardInterrupt:
            typer.echo("interrupted: finished points are stored; run again with --resume to finish", err=True)
            raise typer.Exit(130) from None
    if result.folder is not None:
        typer.echo(f"sweep written to {result.folder}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n")
        return
    table = Table(title=f"{scenario.name}: {count} replications per point, mean ± 95% CI half-width")
    for path in varied:
        table.add_column(path)
    for kpi in MAIN_KPIS:
        table.add_column(kpi_label(kpi, scenario.time_unit), justify="right")
    for point in result.points:
        stats = point.result.summary_dict()
        table.add_row(*(json.dumps(point.overrides[p]) for p in varied), *(_estimate(stats[k]) for k in MAIN_KPIS))
    stdout_console().print(table)


def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="Runs, sweep folders or run stores; the first run is the baseline.")
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
) -> None:
    """KPIs of runs side by side: difference to the first, paired 95% CI, significance (*)."""
    from twin.studies.compare import compare as compare_runs
    from twin.studies.store import StoreError

    if plot is not None and not plot.parent.is_dir():
        fail([f"--plot: folder does not exist (got {plot.parent})"])
    try:
        table = compare_runs(runs)
    except StoreError as error:
        fail([str(error)])
    _warn_mixed(runs)
    if plot is not None:
        from twin.measure.plots import plot_comparison

        typer.echo(f"plot written to {plot_comparison(table, MAIN_KPIS, plot)}", err=True)
    if best is not None:
        _print_ranking(table, runs, best, as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps(_comparison_json(table), indent=2, allow_nan=False) + "\n")
        return
    order = list(dict.fromkeys(table["run_id"]))
    labels = dict(zip(table["run_id"], table["label"], strict=False))
    out = Table(title="Comparison with the first run: mean ± 95% CI; difference (* = significant)")
    out.add_column("KPI")
    for i, run_id in enumerate(order):
        out.add_column(f"{labels[run_id]}\n{run_id}" if i == 0 else labels[run_id], justify="right")
    for kpi, rows in table.groupby("kpi", sort=False):
        cells = []
        for i, (_, row) in enumerate(rows.iterrows()):
            cell = _estimate(row)
            if i and not math.isnan(row["diff"]):
                mark = " *" if row["significant"] else ""
                cell += f"\nΔ {row['diff']:+.3g} [{row['diff_low']:+.3g}, {row['diff_high']:+.3g}]{mark}"
            cells.append(cell)
        out.add_row(str(kpi), *cells)
    stdout_console().print(out)


def _warn_mixed(given: list[Path]) -> None:
    """A warning on stderr when the runs simulate different scenarios: their differences mix
    what sets the plants apart with what was changed, and share no random numbers."""
    from twin.studies.store import find_runs, read_meta

    names = list(dict.fromkeys(str(read_meta(run).get("scenario")) for run in find_runs(given)))
    if len(names) > 1:
        typer.echo(
            f"warning: these runs simulate different scenarios ({', '.join(names)}): a significant difference "
            "only says the numbers differ, not what a change did",
            err=True,
        )


def _print_ranking(table: Any, given: list[Path], kpi: str, as_json: bool) -> None:
    """``--best KPI``: the ranking as a table and a sentence, or with ``--json`` the comparison
    document with a ``ranking`` key (:meth:`twin.studies.ranking.Ranking.to_json`)."""
    from twin.measure.labels import format_interval, format_number, kpi_noun
    from twin.studies.ranking import METHOD, rank_runs
    from twin.studies.store import find_runs

    runs = table.drop_duplicates("run_id")
    labels = dict(zip(runs["run_id"], runs["label"], strict=True))
    paths = {run.name: run for run in find_runs(given)}
    try:
        ranking = rank_runs([paths[r] for r in runs["run_id"]], kpi, labels)
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
        out.add_row(str(row["rank"]), f"{row['label']}\n{row['run_id']}", interval, difference, subset)
    console = stdout_console()
    console.print(out)
    console.print(ranking.sentence(kpi_noun(kpi)))


def _comparison_json(table: Any) -> dict[str, Any]:
    runs = table.drop_duplicates("run_id")
    kpis: dict[str, list[dict[str, Any]]] = {}
    for _, row in table.iterrows():
        kpis.setdefault(row["kpi"], []).append(
            {
                "run_id": row["run_id"],
                **{k: json_number(row[k]) for k in ("mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high")},
                "paired": bool(row["paired"]),
                "significant": bool(row["significant"]),
            }
        )
    return {
        "baseline": runs["run_id"].iloc[0],
        "runs": [{"run_id": r, "label": label} for r, label in zip(runs["run_id"], runs["label"], strict=True)],
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
    plot: Annotated[Path | None, typer.Option(help="PNG to write (default: <scenario>-warmup.png).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Welch's method: plot WIP over time averaged over replications, suggest a warm-up."""
    from twin.studies.warmup import plot_warmup, welch

    scenario = read_scenario(file, overrides)
    target = plot or Path(f"{scenario.name}-warmup.png")
    problems = []
    if scenario.horizon is None:
        problems.append("horizon: a warm-up study needs one")
    if window >= bins // 2:
        problems.append(f"--window: must be < bins / 2 = {bins // 2} (got {window})")
    if not target.parent.is_dir():
        problems.append(f"--plot: folder does not exist (got {target.parent})")
    if problems:
        fail(problems)
    study = welch(scenario, replications, seed, bins=bins, window=window, workers=workers)
    plot_warmup(study, scenario, target)
    typer.echo(f"plot written to {target}", err=True)
    if as_json:
        document = {"scenario": scenario.name, "suggested_warmup": study.suggested, "plot": str(target)}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif study.suggested is None:
        typer.echo("WIP has not settled within the first half of the horizon: lengthen the horizon")
    else:
        typer.echo(
            f"suggested warm-up: {study.suggested:.6g} {scenario.time_unit} (MSER); current: {scenario.warmup:g}"
        )
