"""What a study says: each point's varied values, which parameter moves a KPI most, and the
cost-versus-throughput front of a design study.

A study is a stored sweep or design study (:func:`twin.studies.store.list_studies`). Its
points are runs whose ``overrides`` are the varied values. Sensitivity is read from the
**main effects**: for each parameter, the KPI's mean over the points at each of its values
(averaged over whatever else varies); a tornado chart draws, per parameter, the range of
those means, widest first. The **Pareto front** of a design study keeps the designs that no
other design beats on both cost (lower) and throughput (higher).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.errors import ScenarioError
from twin.measure.kpi import Direction
from twin.scenario import load_scenario
from twin.studies.store import find_runs, is_run, read_meta, read_sweep

__all__ = ["design_costs", "main_effects", "pareto_mask", "point_values", "tornado"]


def point_values(folder: Path) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The varied paths of a study folder and, per finished run id, its values of them (a
    sweep's from ``sweep.json``, a design study's from each design run's ``overrides``)."""
    if (folder / "sweep.json").is_file():
        plan = read_sweep(folder)
        values = {p["run_id"]: p["overrides"] for p in plan["points"] if is_run(folder / p["run_id"])}
        return list(plan.get("vary", {})), values
    runs = find_runs([folder])
    values = {run.name: dict(read_meta(run).get("overrides") or {}) for run in runs}
    paths = list(dict.fromkeys(path for point in values.values() for path in point))
    return paths, values


def design_costs(folder: Path, values: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The cost of each design run of a design study (the scenario's ``design:`` section:
    ``sum(cost * (value - min))``); empty when the study's scenario declares no design space."""
    from twin.studies.design import DesignSpace

    if not values:
        return {}
    try:
        space = DesignSpace.of(load_scenario(folder / next(iter(values)) / "scenario.yaml"))
    except ScenarioError:
        return {}
    costs = {}
    for run_id, design in values.items():
        try:
            costs[run_id] = space.cost(space.values_of(design))
        except KeyError:  # a run of another space: no cost to show
            continue
    return costs


def _level(value: Any) -> Any:
    """A varied value as a table cell: numbers stay numbers, anything else is its JSON text."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else json.dumps(value)


def main_effects(points: pd.DataFrame, parameters: list[str], value: str = "mean") -> pd.DataFrame:
    """The mean of ``value`` over the points at each level of each parameter: ``parameter``,
    ``level``, ``mean``, ``points``; levels in ascending order."""
    rows = []
    for parameter in parameters:
        levels = points[parameter].map(_level)
        for level, group in points.assign(_level=levels).groupby("_level", sort=True):
            rows.append(
                {
                    "parameter": parameter,
                    "level": level,
                    "mean": float(np.nanmean(group[value].to_numpy(float))),
                    "points": len(group),
                }
            )
    return pd.DataFrame(rows, columns=["parameter", "level", "mean", "points"])


def tornado(points: pd.DataFrame, parameters: list[str], value: str = "mean") -> pd.DataFrame:
    """Per parameter with at least two levels: the lowest and highest main effect
    (``low``, ``high``), the levels where they occur (``low_level``, ``high_level``) and
    ``swing = high - low``; the widest swing first."""
    effects = main_effects(points, parameters, value)
    rows = []
    for parameter, group in effects.groupby("parameter", sort=False):
        if len(group) < 2 or group["mean"].isna().all():
            continue
        means = group["mean"].to_numpy(float)
        low, high = int(np.nanargmin(means)), int(np.nanargmax(means))
        levels = list(group["level"])
        rows.append(
            {
                "parameter": parameter,
                "low": float(means[low]),
                "high": float(means[high]),
                "low_level": levels[low],
                "high_level": levels[high],
                "swing": float(means[high] - means[low]),
            }
        )
    frame = pd.DataFrame(rows, columns=["parameter", "low", "high", "low_level", "high_level", "swing"])
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def pareto_mask(cost: np.ndarray, value: np.ndarray, direction: Direction = "up") -> np.ndarray:
    """Which points are on the front: no other point has a cost as low and a value as good,
    one of them strictly (``direction``: which way the value is better)."""
    cost = np.asarray(cost, float)
    better = np.asarray(value, float) * (1.0 if direction == "up" else -1.0)
    keep = np.ones(len(cost), dtype=bool)
    for i in range(len(cost)):
        dominated = (cost <= cost[i]) & (better >= better[i]) & ((cost < cost[i]) | (better > better[i]))
        keep[i] = not dominated.any()
    return keep
