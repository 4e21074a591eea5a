"""What the Studies page shows, as plain functions over the run store: the list of studies,
a study's points with their varied values and costs, the Pareto front of a design study.

No Streamlit here (cached in :mod:`dashboard.cache`) and no statistics: intervals come from
:mod:`twin.studies.verdicts`, fronts and costs from :mod:`twin.studies.sensitivity`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.data import verdicts_table
from twin.measure.labels import format_interval, format_number

__all__ = ["pareto_table", "point_label", "points_table", "studies_table", "study_table"]


def studies_table(root: Path) -> pd.DataFrame:
    """:func:`twin.studies.store.list_studies` in words: ``study_id``, ``kind``, ``scenario``,
    ``varied`` (paths, joined), ``size`` (``3 of 4 points``, ``286 designs``), ``status``,
    ``method``, ``created`` (to the minute), ``path``."""
    from twin.studies.store import list_studies

    studies = list_studies(root)
    if studies.empty:
        return pd.DataFrame(
            columns=["study_id", "kind", "scenario", "varied", "size", "status", "method", "created", "path"]
        )
    studies["size"] = [
        f"{points:,} of {int(planned):,} points" if kind == "sweep" and points != planned
        else f"{points:,} points" if kind == "sweep" else f"{points:,} designs"
        for kind, points, planned in zip(studies["kind"], studies["points"], studies["planned"].fillna(0), strict=True)
    ]  # fmt: skip
    studies["varied"] = [", ".join(v) for v in studies["varied"]]
    studies["created"] = studies["created"].astype(str).str.slice(0, 16).str.replace("T", " ")
    return studies[["study_id", "kind", "scenario", "varied", "size", "status", "method", "created", "path"]]


def point_label(values: dict[str, Any]) -> str:
    """A study point in words: ``m2.buffer=4, m3.machines=2`` (``stations.`` and
    ``products.`` left out: the names are unique)."""
    return ", ".join(
        f"{path.removeprefix('stations.').removeprefix('products.')}={json.dumps(value)}"
        for path, value in values.items()
    )


def study_table(folder: Path) -> tuple[list[str], pd.DataFrame]:
    """The varied paths of a stored study and a :func:`verdicts_table` of its finished points
    (each on its own: the ranking compares them) with one column per varied path holding the point's
    value, and for a design study ``cost`` (of the design) and ``best`` (the design its
    search recommended)."""
    from twin.studies.sensitivity import design_costs, point_values
    from twin.studies.store import read_study_summary

    varied, values = point_values(folder)
    runs = [folder / run_id for run_id in values]
    table = verdicts_table(runs, {run_id: point_label(v) for run_id, v in values.items()}, differences=False)
    if table.empty:
        return varied, table
    for path in varied:
        table[path] = [values[run_id].get(path) for run_id in table["run_id"]]
    if not (folder / "sweep.json").is_file():
        costs = design_costs(folder, values)
        table["cost"] = table["run_id"].map(costs)
        best = (read_study_summary(folder) or {}).get("best", {}).get("design")
        table["best"] = [values[run_id] == best for run_id in table["run_id"]]
    return varied, table


def points_table(table: pd.DataFrame, varied: list[str], kpis: list[str]) -> pd.DataFrame:
    """A study's points as people read them, one row per point: its varied values (and cost),
    then each KPI's mean with its 95% CI."""
    records = {(str(r["run_id"]), str(r["kpi"])): r for r in table.to_dict("records")}
    rows = []
    for run_id in dict.fromkeys(table["run_id"]):
        first = records[(run_id, str(table["kpi"].iloc[0]))]
        row: dict[str, Any] = {path: first.get(path) for path in varied}
        if "cost" in table.columns:
            row["Cost"] = first.get("cost")
        for kpi in kpis:
            r = records.get((run_id, kpi))
            if r is not None:
                row[str(r["kpi_label"])] = (
                    f"{format_number(r['mean'])} {format_interval(r['ci_low'], r['ci_high'])}".strip()
                )
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_table(table: pd.DataFrame, kpi: str = "throughput") -> pd.DataFrame:
    """The designs of a design study's :func:`study_table` on ``kpi`` against cost: ``run_id``,
    ``design`` (in words), ``cost``, ``mean``, ``ci_low``, ``ci_high``, ``front`` (on the
    Pareto front), ``best``; by cost."""
    from twin.measure.kpi import kpi_direction
    from twin.studies.sensitivity import pareto_mask

    rows = table[(table["kpi"] == kpi) & table["cost"].notna()]
    frame = pd.DataFrame(
        {
            "run_id": rows["run_id"],
            "design": rows["label"],
            "cost": rows["cost"].astype(float),
            "mean": rows["mean"],
            "ci_low": rows["ci_low"],
            "ci_high": rows["ci_high"],
            "best": rows["best"].astype(bool),
        }
    )
    direction = kpi_direction(kpi) or "up"
    frame["front"] = pareto_mask(frame["cost"].to_numpy(), frame["mean"].to_numpy(), direction)
    return frame.sort_values(["cost", "mean"], ascending=[True, direction != "up"]).reset_index(drop=True)
