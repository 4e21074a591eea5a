"""What the pages show, as plain functions over the scenario library and the run store.

No Streamlit here (the pages cache these at the edge, see :mod:`dashboard.cache`) and no KPI
arithmetic: numbers come from :mod:`twin.studies.compare`, :mod:`twin.studies.store`, :mod:`twin.measure.timeline`
and :mod:`twin.jobshop.evaluation`; this module only selects, joins and words them.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.errors import ScenarioError
from twin.measure.labels import format_interval, format_number, kpi_label, kpi_unit
from twin.scenario import Scenario, load_scenario, load_warnings, offered_loads
from twin.scenario import Station as StationSpec
from twin.studies.report import format_change

__all__ = [
    "RUN_KINDS",
    "ScenarioEntry",
    "Settings",
    "compare_table",
    "cpsat_available",
    "default_selection",
    "describe_distribution",
    "evaluation_kpi",
    "jobshop_instances",
    "kpi_choices",
    "kpi_display_table",
    "method_ranking",
    "mixed_scenarios",
    "oee_table",
    "output_table",
    "pick_runs",
    "products_table",
    "ranking_display",
    "replication_table",
    "route_dot",
    "run_baselines",
    "run_scenario",
    "runs_table",
    "scenario_library",
    "settings",
    "stations_table",
    "store_signature",
    "verdicts_table",
]


@dataclass(frozen=True)
class Settings:
    """Where the dashboard reads from; ``twin dashboard`` sets them as environment variables."""

    runs: Path
    """The run store (``TWIN_RUNS``, default ``runs``)."""
    scenarios: Path
    """The scenario library (``TWIN_SCENARIOS``, default ``scenarios/examples``)."""
    jobshop: Path
    """Job-shop instances for evaluations (``TWIN_JOBSHOP``, default ``scenarios/jobshop``)."""


def settings() -> Settings:
    """The settings from the environment."""
    return Settings(
        Path(os.environ.get("TWIN_RUNS", "runs")),
        Path(os.environ.get("TWIN_SCENARIOS", "scenarios/examples")),
        Path(os.environ.get("TWIN_JOBSHOP", "scenarios/jobshop")),
    )


def store_signature(root: Path) -> tuple[tuple[str, int], ...]:
    """Names and modification times of ``root`` and its direct sub-folders: changes whenever a
    run, sweep point or evaluation is added or removed (a cache key, cheap for 1,000 runs)."""
    if not root.is_dir():
        return ()
    entries = [(str(root), root.stat().st_mtime_ns)]
    with os.scandir(root) as children:
        entries += sorted((c.name, c.stat().st_mtime_ns) for c in children if c.is_dir() and not c.name.startswith("."))
    return tuple(entries)


# Scenarios


@dataclass(frozen=True)
class ScenarioEntry:
    """One file of the scenario library: the scenario, or why it is invalid."""

    path: Path
    scenario: Scenario | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The scenario's name, or the file name of an invalid one."""
        return self.scenario.name if self.scenario is not None else self.path.name


def scenario_library(folder: Path) -> list[ScenarioEntry]:
    """Every ``*.yaml``/``*.yml`` file of ``folder``, validated, by file name."""
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            entries.append(ScenarioEntry(path, None, [str(p) for p in error.problems]))
            continue
        entries.append(ScenarioEntry(path, scenario, [], load_warnings(scenario)))
    return entries


def describe_distribution(spec: Any, unit: str) -> str:
    """A distribution in words, e.g. ``exponential, mean 2 min`` or ``1.45 min (constant)``."""
    if spec is None:
        return "per product"
    data = spec.model_dump() if hasattr(spec, "model_dump") else spec
    if isinstance(data, int | float):
        return f"{data:g} {unit} (constant)"
    kind = data.get("dist", "constant")
    if kind == "constant":
        return f"{data['value']:g} {unit} (constant)"
    params = ", ".join(f"{k} {v:g}" for k, v in data.items() if k != "dist" and isinstance(v, int | float))
    mean = getattr(spec, "mean", None)
    suffix = f"; mean {mean:.3g} {unit}" if isinstance(mean, float) and "mean" not in data else ""
    return f"{kind} ({params}){suffix}" if params else kind


def stations_table(scenario: Scenario) -> pd.DataFrame:
    """One row per station: machines, buffer, process time, rule, failures, setups, scrap, and
    the optional features it declares (batching, assembly, rework, maintenance, energy)."""
    unit = scenario.time_unit
    loads = offered_loads(scenario)
    rows = []
    for name, station in scenario.stations.items():
        failures = "none"
        if station.failures is not None:
            failures = (
                f"every {station.failures.ttf.mean:.4g} {unit} of {station.failures.basis} time, "
                f"repair {station.failures.ttr.mean:.3g} {unit}"
            )
        rows.append(
            {
                "Station": name,
                "Machines": station.machines,
                "Offered load": f"{loads[name]:.0%}" + (" overloaded" if loads[name] >= 1 else ""),
                "Buffer (jobs)": "unlimited" if station.buffer is None else str(station.buffer),
                "Process time": describe_distribution(station.process_time, unit),
                "Dispatching": station.dispatching,
                "Failures": failures,
                "Setups": "yes" if station.setup is not None else "none",
                "Scrap": f"{station.scrap:.1%}" if station.scrap else "none",
                "Features": ", ".join(_features(station, unit)) or "none",
                "Description": station.description or "",
            }
        )
    return pd.DataFrame(rows)


def _features(station: StationSpec, unit: str) -> list[str]:
    """The optional features of a station, in words."""
    features = []
    if station.batch is not None:
        wait = f", start after {station.batch.max_wait:g} {unit}" if station.batch.max_wait is not None else ""
        features.append(f"batches of {station.batch.size}{wait}")
    if station.assemble is not None:
        features.append("assembles " + ", ".join(f"{n} {p}" for p, n in station.assemble.items()))
    if station.rework is not None:
        features.append(f"rework {station.rework.probability:.1%} to {station.rework.to}")
    if station.maintenance is not None:
        m = station.maintenance
        features.append(f"maintenance every {m.every:g} {unit} ({m.basis}), {m.duration.mean:.3g} {unit}")
    if station.energy is not None:
        features.append(f"energy {station.energy.busy:g} kW busy")
    return features


def products_table(scenario: Scenario) -> pd.DataFrame:
    """One row per product: how it arrives, its route, its due date."""
    unit = scenario.time_unit
    rows = []
    for name, product in scenario.products.items():
        if product.arrival is not None:
            arrival = f"every {describe_distribution(product.arrival, unit)}"
        elif product.release is not None:
            jobs = sum(order.quantity for order in product.release)
            arrival = f"{jobs} jobs in {len(product.release)} orders"
        else:
            arrival = "one job at time 0"
        rows.append(
            {
                "Product": name,
                "Arrivals": arrival,
                "Route": " → ".join(step.station for step in product.route),
                "Due date": f"arrival + {product.due_date.slack:g} {unit}" if product.due_date else "none",
                "Description": product.description or "",
            }
        )
    return pd.DataFrame(rows)


def route_dot(scenario: Scenario) -> str:
    """The routes as a Graphviz (DOT) graph: arrivals -> stations -> done, one edge per step,
    labelled with the products taking it."""
    edges: dict[tuple[str, str], list[str]] = {}
    for name, product in scenario.products.items():
        stops = ["arrivals", *(step.station for step in product.route), "done"]
        for a, b in itertools.pairwise(stops):
            edges.setdefault((a, b), []).append(name)
    lines = ["digraph routes {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#e8f0fe"];']
    lines.append('  "arrivals" [shape=oval, fillcolor="#ffffff"]; "done" [shape=oval, fillcolor="#ffffff"];')
    for sname, station in scenario.stations.items():
        buffer = "∞" if station.buffer is None else str(station.buffer)
        lines.append(f'  "{sname}" [label="{sname}\\n{station.machines} machine(s), buffer {buffer}"];')
    many = len(scenario.products) > 1
    for (a, b), products in edges.items():
        label = (
            f' [label="{", ".join(products)}", fontsize=9]' if many and len(products) < len(scenario.products) else ""
        )
        lines.append(f'  "{a}" -> "{b}"{label};')
    lines.append("}")
    return "\n".join(lines)


# Runs


RUN_KINDS = ("run", "what-if", "sweep point", "design run")
"""What a stored run is: a plain run, a named what-if, a point of a sweep, a design of a study."""


def runs_table(root: Path) -> pd.DataFrame:
    """Every run of the store, newest first: ``run_id``, ``name`` (given name, or the
    scenario plus its overrides), ``scenario``, ``created``, ``replications``, ``seed``,
    ``when`` (created, to the minute), ``kind`` (:data:`RUN_KINDS`), ``study_id`` (its sweep or
    design study), ``tags`` (list),
    ``events`` (whether the event log is stored), ``time_unit``, ``overrides`` (JSON text),
    ``path``."""
    from twin.studies.store import StoreError, list_runs

    columns = [
        "run_id", "name", "scenario", "created", "when", "replications", "seed", "kind", "study_id", "tags", "events",
        "time_unit", "overrides", "path",
    ]  # fmt: skip
    try:
        runs = list_runs(root) if root.is_dir() else pd.DataFrame()
    except StoreError:  # a store without a complete run yet
        runs = pd.DataFrame()
    if runs.empty:
        return pd.DataFrame(columns=columns)
    runs["name_given"] = runs["name"]
    runs["name"] = [_run_name(row) for row in runs.itertuples()]
    runs["events"] = [Path(path, "events.parquet").is_file() for path in runs["path"]]
    runs["time_unit"] = runs["time_unit"].fillna("time unit")
    runs["when"] = runs["created"].astype(str).str.slice(0, 16).str.replace("T", " ")
    runs["kind"] = [
        "sweep point" if isinstance(sweep, str) else "design run" if isinstance(study, str) else
        "what-if" if isinstance(given, str) and given else "run"
        for sweep, study, given in zip(runs["sweep_id"], runs["study_id"], runs["name_given"], strict=True)
    ]  # fmt: skip
    runs["study_id"] = runs["sweep_id"].where(runs["sweep_id"].notna(), runs["study_id"])
    runs["tags"] = [list(t) if isinstance(t, list | tuple | np.ndarray) else [] for t in runs["tags"]]
    return runs.iloc[::-1][columns].reset_index(drop=True)


def _run_name(row: Any) -> str:
    if isinstance(row.name_given, str) and row.name_given:
        return row.name_given
    overrides = json.loads(row.overrides) if isinstance(row.overrides, str) else {}
    changes = ", ".join(f"{path}={json.dumps(value)}" for path, value in (overrides or {}).items())
    return f"{row.scenario} ({changes})" if changes else str(row.scenario)


def pick_runs(
    runs: pd.DataFrame,
    scenarios: list[str] | None = None,
    kinds: tuple[str, ...] = ("run", "what-if"),
    tags: list[str] | None = None,
) -> pd.DataFrame:
    """The runs of :func:`runs_table` of the given ``scenarios`` (all when None), ``kinds``
    (plain runs and what-ifs by default: sweep points and design runs belong to their
    studies) and carrying every one of ``tags``."""
    keep = runs["kind"].isin(kinds)
    if scenarios:
        keep &= runs["scenario"].isin(scenarios)
    if tags:
        keep &= pd.Series([set(tags) <= set(t) for t in runs["tags"]], index=runs.index)
    return runs[keep].reset_index(drop=True)


def default_selection(runs: pd.DataFrame) -> list[str]:
    """The runs Compare opens with: the newest run and the newest other run of the same
    scenario (oldest first, so the older one is the baseline); one run when it has no sibling."""
    if runs.empty:
        return []
    newest = runs.iloc[0]
    siblings = runs[(runs["scenario"] == newest["scenario"]) & (runs["run_id"] != newest["run_id"])]
    return [str(siblings["run_id"].iloc[0]), str(newest["run_id"])] if not siblings.empty else [str(newest["run_id"])]


def mixed_scenarios(runs: pd.DataFrame, selected: list[str]) -> list[str]:
    """The distinct scenarios of the ``selected`` runs when there is more than one."""
    names = list(dict.fromkeys(runs.set_index("run_id").loc[selected, "scenario"].astype(str)))
    return names if len(names) > 1 else []


def compare_table(paths: list[Path], names: dict[str, str] | None = None) -> pd.DataFrame:
    """:func:`twin.studies.compare.compare` of ``paths`` (the first is the baseline), with the run's
    given name as ``label`` where it has one and the KPI in words as ``kpi_label``."""
    from twin.studies.compare import compare

    table = compare(paths)
    if table.empty:
        return table
    if names:
        table["label"] = [
            names.get(run_id) or label for run_id, label in zip(table["run_id"], table["label"], strict=True)
        ]
    # Two runs may share a label; charts need distinct ones.
    labels = dict(zip(table["run_id"], table["label"], strict=False))
    seen: dict[str, int] = {}
    unique = {}
    for run_id, label in labels.items():
        seen[label] = seen.get(label, 0) + 1
        unique[run_id] = label if seen[label] == 1 else f"{label} #{seen[label]}"
    table["label"] = table["run_id"].map(unique)
    table["kpi_label"] = [kpi_label(k, u) for k, u in zip(table["kpi"], table["time_unit"], strict=True)]
    return table


def replication_table(paths: list[Path], kpis: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """Per-replication values of ``kpis`` for the runs: ``run_id``, ``label``, ``replication``,
    ``kpi``, ``value`` (long format, for box plots)."""
    from twin.studies.store import load_kpis

    frame = load_kpis(paths)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "label", "replication", "kpi", "value"])
    present = [k for k in kpis if k in frame.columns]
    long = frame.melt(id_vars=["run_id", "replication"], value_vars=present, var_name="kpi", value_name="value")
    long["label"] = long["run_id"].map(labels)
    return long.dropna(subset=["value"])


def run_scenario(run: Path) -> Scenario:
    """The fully resolved scenario a run simulated."""
    return load_scenario(run / "scenario.yaml")


def oee_table(means: dict[str, float], stations: list[str]) -> pd.DataFrame:
    """Per station its OEE and OEE's factors from a run's KPI means: ``station``, ``factor``
    (``availability``, ``performance``, ``quality``, ``oee``), ``value``; stations of runs
    stored before the factors existed report only ``oee``."""
    rows = [
        {"station": station, "factor": factor, "value": means[f"stations.{station}.{factor}"]}
        for station in stations
        for factor in ("availability", "performance", "quality", "oee")
        if f"stations.{station}.{factor}" in means
        and means[f"stations.{station}.{factor}"] == means[f"stations.{station}.{factor}"]
    ]
    return pd.DataFrame(rows, columns=["station", "factor", "value"])


def output_table(events: pd.DataFrame, scenario: Scenario, end: float, period: str) -> pd.DataFrame | None:
    """Jobs completed per shift or day (``period``) of one replication's events, with a
    ``label`` per period (``day 2, 06:00``); None when the time unit is not a unit of time."""
    from twin.measure.timeline import output_per_period, period_edges

    edges = period_edges(scenario, end, period)
    if edges is None or len(edges) < 2:
        return None
    frame = output_per_period(events, edges)
    minutes = {"min": 1.0, "h": 60.0, "s": 1 / 60}.get(scenario.time_unit, 1.0)
    labels = []
    for start in frame["start"]:
        total = start * minutes
        day, rest = divmod(total, 1440.0)
        labels.append(
            f"day {int(day) + 1}"
            if period == "day"
            else f"day {int(day) + 1}, {int(rest // 60):02d}:{int(rest % 60):02d}"
        )
    full = frame["end"] - frame["start"]
    if len(frame) > 1 and full.iloc[-1] < full.iloc[0] - 1e-9:  # the horizon cuts the last period short
        labels[-1] += " (part)"
    frame["label"] = labels
    return frame


def evaluation_kpi(results: pd.DataFrame) -> str | None:
    """The KPI an evaluation of methods on a scenario scored (``twin evaluate --scenario``
    stores it in the ``kpi`` column, with no gap to a best known makespan); None for job-shop
    instances, scored by their gap."""
    if "kpi" not in results.columns or results["kpi"].isna().all() or results["gap"].notna().any():
        return None
    return str(results["kpi"].dropna().iloc[0])


def method_ranking(results: pd.DataFrame, kpi: str) -> Any:
    """:func:`twin.studies.ranking.rank` of the methods of a scenario evaluation on ``kpi``,
    each method's value per seed (the seeds are common random numbers, so paired)."""
    from twin.studies.ranking import rank

    rows = results[results["kpi"] == kpi]
    values = {str(m): f.groupby("seed")["value"].mean() for m, f in rows.groupby("method", sort=False)}
    return rank(values, kpi)


# Display tables


def verdicts_table(paths: list[Path], names: dict[str, str], differences: bool = True) -> pd.DataFrame:
    """:func:`twin.studies.verdicts.verdict_table` of the runs ``paths`` (the first is the
    baseline; ``differences`` off: each run on its own), with ``label`` (``names``, made
    distinct), ``time_unit``, ``kpi_label`` and ``unit`` (the KPI's unit) columns."""
    from twin.studies.store import load_kpis, read_meta
    from twin.studies.verdicts import verdict_table

    if not paths:
        return pd.DataFrame()
    ids = [p.name for p in paths]
    table = verdict_table(load_kpis(paths), ids, differences=differences)
    seen: dict[str, int] = {}
    labels = {}
    for run_id in ids:
        label = names.get(run_id) or run_id
        seen[label] = seen.get(label, 0) + 1
        labels[run_id] = label if seen[label] == 1 else f"{label} #{seen[label]}"
    unit = str(read_meta(paths[0]).get("time_unit") or "time unit")
    table["label"] = table["run_id"].map(labels)
    table["time_unit"] = unit
    table["kpi_label"] = [kpi_label(k, unit) for k in table["kpi"]]
    table["unit"] = [kpi_unit(k, unit) for k in table["kpi"]]
    return table


def kpi_display_table(table: pd.DataFrame, kpis: list[str] | None = None) -> pd.DataFrame:
    """A comparison (:func:`verdicts_table`, or :func:`compare_table` for one run) as people
    read it: one row per KPI in words; per run its mean with 95% CI, and for every run after
    the baseline its change (absolute and percent, with 95% CI) and what the change means."""
    if table.empty or kpis == []:
        return pd.DataFrame(columns=["KPI"])
    shown = table if kpis is None else table[table["kpi"].isin(kpis)]
    order = list(dict.fromkeys(shown["kpi"])) if kpis is None else [k for k in kpis if k in set(shown["kpi"])]
    runs = list(dict.fromkeys(shown["run_id"]))
    labels = dict(zip(shown["run_id"], shown["label"], strict=False))
    records = {(str(r["kpi"]), str(r["run_id"])): r for r in shown.to_dict("records")}
    rows = []
    for kpi in order:
        row: dict[str, str] = {"KPI": str(records[(kpi, runs[0])]["kpi_label"])}
        for i, run_id in enumerate(runs):
            r = records[(kpi, run_id)]
            suffix = " (baseline)" if i == 0 and len(runs) > 1 else ""
            row[f"{labels[run_id]}{suffix}: mean [95% CI]"] = (
                f"{format_number(r['mean'])} {format_interval(r['ci_low'], r['ci_high'])}".strip()
            )
            if i > 0:
                row[f"{labels[run_id]}: change vs baseline [95% CI]"] = format_change(r, str(r.get("unit", "")))
                row[f"{labels[run_id]}: verdict"] = str(r.get("effect", ""))
        rows.append(row)
    return pd.DataFrame(rows)


def _estimate(row: dict[Any, Any]) -> str:
    return f"{format_number(row['mean'])} {format_interval(row['ci_low'], row['ci_high'])}".strip()


def ranking_display(ranking: Any) -> pd.DataFrame:
    """A :class:`twin.studies.ranking.Ranking` as people read it: rank, run, mean with its 95%
    CI, difference to the best with its Bonferroni 95% CI, whether it may be the best."""
    rows = []
    for row in ranking.table.to_dict("records"):
        difference = (
            "best"
            if row["rank"] == 1
            else (f"{format_number(row['diff_to_best'])} {format_interval(row['diff_low'], row['diff_high'])}".strip())
        )
        rows.append(
            {
                "Rank": int(row["rank"]),
                "Run": str(row["label"]),
                "Mean [95% CI]": _estimate(row),
                "Difference to the best [Bonferroni 95% CI]": difference,
                "May be the best (95%)": "yes" if row["in_subset"] else "no",
            }
        )
    return pd.DataFrame(rows)


def kpi_choices(table: pd.DataFrame) -> dict[str, str]:
    """``{kpi: words}`` for the KPIs of a comparison table, leaving out the setup, off-shift
    and maintenance shares of stations that have none in every run."""
    if table.empty:
        return {}
    nonzero = table.groupby("kpi", sort=False)["mean"].apply(lambda m: bool((m.fillna(0) != 0).any()))
    words = dict(zip(table["kpi"], table["kpi_label"], strict=False))
    return {
        k: words[k]
        for k in dict.fromkeys(table["kpi"])
        if not k.endswith((".setup", ".off_shift", ".maintenance")) or nonzero.get(k, False)
    }


# Evaluations


def cpsat_available() -> bool:
    """Whether OR-Tools (the ``solver`` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("ortools") is not None


def jobshop_instances(folder: Path) -> list[str]:
    """Instance names (file stems) of a job-shop folder, in natural order."""
    if not folder.is_dir():
        return []
    names = [p.stem for p in folder.glob("*.txt")]

    def natural(name: str) -> tuple[str, int]:
        head = name.rstrip("0123456789")
        return head, int(name[len(head) :] or -1)

    return sorted(names, key=natural)


def run_baselines(
    folder: Path,
    instances: list[str],
    rules: list[str],
    cpsat_time_limit: float | None,
    root: Path,
    name: str,
    progress: Any = None,
) -> Path:
    """Evaluate ``rules`` (through the twin) and, with a time limit, CP-SAT on ``instances`` of
    ``folder`` and store the evaluation in ``root``; return its folder."""
    from twin.jobshop.bounds import BOUNDS_FILE, best_known
    from twin.jobshop.evaluation import evaluate, rule_method
    from twin.jobshop.instances import load_instance
    from twin.studies.store import write_evaluation

    best = best_known([folder / BOUNDS_FILE])
    methods = {f"rule:{rule}": rule_method(rule) for rule in rules}
    if cpsat_time_limit:
        from agents.methods import cpsat_method

        methods["cpsat"] = cpsat_method(cpsat_time_limit, workers=None)
    loaded = [load_instance(folder / f"{name}.txt") for name in instances]
    results, schedules = evaluate(loaded, methods, best, progress=progress)
    return write_evaluation(results, schedules, root, name, {"cpsat_time_limit_s": cpsat_time_limit})
