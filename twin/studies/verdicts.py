"""Verdicts: what a comparison says, in a sentence and one card per KPI.

For every run after the baseline and every KPI: the change of the mean in the KPI's units
and in percent (each with its 95% interval, :func:`twin.measure.stats.difference` and
:func:`twin.measure.stats.percent_change`), whether it is significant and whether it is good
for that KPI (:func:`twin.measure.kpi.kpi_direction`). Significance is judged on the percent
interval (the log of the ratio of means, which respects the bound at 0 that skewed
quantities such as WIP press against) wherever the baseline mean is positive, else on the
interval of the difference (a baseline of 0: tardiness that was none). Each run's own mean has an interval that
respects the KPI's range (:func:`twin.measure.stats.bounded_interval`): a lead time's never
goes below 0, a share's never above 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from twin.measure.kpi import kpi_bounds, kpi_direction
from twin.measure.labels import finite, format_number, kpi_noun, kpi_unit
from twin.measure.stats import bounded_interval, difference, percent_change

__all__ = ["COLUMNS", "Effect", "sentence", "verdict_table"]

Effect = Literal["baseline", "better", "worse", "changed", "no significant change", "n/a"]
"""A change in words: ``better``/``worse`` (significant, for a KPI with a good direction),
``changed`` (significant, for a KPI without one), ``no significant change``, ``n/a``
(undefined: one replication, or a KPI missing in a run)."""

COLUMNS = [
    "run_id", "kpi", "direction", "mean", "ci_low", "ci_high", "baseline_mean", "diff", "diff_low", "diff_high",
    "pct", "pct_low", "pct_high", "paired", "significant", "effect",
]  # fmt: skip
"""Columns of :func:`verdict_table`."""


def _effect(direction: str | None, diff: float, low: float, high: float) -> Effect:
    """What a change means, judged by the interval ``[low, high]`` of the change."""
    if not (finite(low) and finite(high)):
        return "n/a"
    if low <= 0 <= high:
        return "no significant change"
    if direction is None:
        return "changed"
    return "better" if (diff > 0) == (direction == "up") else "worse"


def verdict_table(
    kpis: pd.DataFrame, runs: Sequence[str], level: float = 0.95, differences: bool = True
) -> pd.DataFrame:
    """Every run of ``runs`` (the first is the baseline) on every KPI of ``kpis``.

    Args:
        kpis: per-replication KPIs with a ``run_id`` and a ``replication`` column, and
            optionally a ``run`` column (:func:`twin.studies.store.load_kpis`: the run's path).
        runs: the runs in order, the first is the baseline: values of the ``run`` column
            (paths, which tell apart runs of one id from two stores) or of ``run_id``.
        differences: compare every run with the baseline (off: each run's own mean and
            interval only, difference columns NaN and ``effect`` ``n/a``; for large studies).

    Returns:
        One row per (run, KPI), columns :data:`COLUMNS`; difference columns are NaN for the
        baseline, whose ``effect`` is ``baseline``. Runs with the same replication numbers
        as the baseline are compared pairwise (common random numbers).
    """
    names = [c for c in kpis.columns if c not in ("run", "run_id", "replication")]
    key = "run" if "run" in kpis.columns and str(runs[0]) in set(kpis["run"]) else "run_id"
    ordered = kpis.sort_values([key, "replication"], kind="stable")
    by_run = {
        str(r): (f["replication"].to_numpy(), f[names].to_numpy(float)) for r, f in ordered.groupby(key, sort=False)
    }
    if key == "run_id" and "run" in kpis.columns and kpis.groupby("run_id")["run"].nunique().max() > 1:
        raise ValueError("runs of one id from different folders: name the runs by their path")
    base_reps, base = by_run[runs[0]]
    with warnings.catch_warnings():  # a KPI undefined in every replication has a NaN mean
        warnings.simplefilter("ignore", RuntimeWarning)
        base_means = np.nanmean(base, axis=0)
    directions = [kpi_direction(k) for k in names]
    bounds = [kpi_bounds(k) for k in names]
    rows = []
    for run in runs:
        reps, values = by_run[run]
        is_base = run == runs[0]
        paired = not is_base and np.array_equal(reps, base_reps)
        for j, kpi in enumerate(names):
            column = values[:, j]
            mean, low, high = bounded_interval(column, *bounds[j], level)
            row = {
                "run_id": run, "kpi": kpi, "direction": directions[j], "mean": mean, "ci_low": low, "ci_high": high,
                "baseline_mean": float(base_means[j]), "paired": paired,
            }  # fmt: skip
            if is_base or not differences:
                row |= dict.fromkeys(("diff", "diff_low", "diff_high", "pct", "pct_low", "pct_high"), math.nan)
                row |= {"significant": False, "effect": "baseline" if is_base else "n/a"}
            else:
                diff, diff_low, diff_high = difference(base[:, j], column, paired, level)
                pct, pct_low, pct_high = percent_change(base[:, j], column, paired, level)
                # Judged on the scale the card shows: the percent interval where the baseline is
                # positive (it respects the bound at 0), else the interval of the difference.
                judged = (pct_low, pct_high) if finite(pct_low) and finite(pct_high) else (diff_low, diff_high)
                effect = _effect(directions[j], diff, *judged)
                row |= {
                    "diff": diff, "diff_low": diff_low, "diff_high": diff_high,
                    "pct": pct, "pct_low": pct_low, "pct_high": pct_high,
                    "significant": effect in ("better", "worse", "changed"), "effect": effect,
                }  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _verb(row: dict[str, Any]) -> str:
    return "raises" if row["diff"] > 0 else "cuts"


def _change(row: dict[str, Any], unit: str) -> str:
    if finite(row["pct"]):
        size = f"{abs(row['pct']):.2g}%" if abs(row["pct"]) < 10 else f"{abs(row['pct']):.0f}%"
        ci = ""
        if finite(row["pct_low"]) and finite(row["pct_high"]):
            ends = (row["pct_low"], row["pct_high"]) if row["diff"] > 0 else (row["pct_high"], row["pct_low"])
            ci = f" (95% CI {_pct(ends[0], row['diff'])} to {_pct(ends[1], row['diff'])})"
        return f"by {size}{ci}"
    return f"by {format_number(abs(row['diff']))} {kpi_unit(str(row['kpi']), unit)}".rstrip()


def _pct(value: float, diff: float) -> str:
    """An end of a percent interval, signed as the change is (a cut of 18% reads 15 to 21%)."""
    shown = value if diff > 0 else -value
    return f"{shown:.2g}%" if abs(shown) < 10 else f"{shown:.0f}%"


def sentence(table: pd.DataFrame, run: str, labels: dict[str, str], kpis: Sequence[str], time_unit: str) -> str:
    """One sentence on how ``run`` differs from the baseline on ``kpis`` (rows of
    :func:`verdict_table`), e.g. ``B raises throughput by 4.2% (95% CI 3.1 to 5.3%) and cuts
    lead time by 18% (95% CI 15 to 21%).``"""
    picked = table[(table["run_id"] == run) & table["kpi"].isin(kpis)]
    rows: dict[str, dict[str, Any]] = {
        str(r["kpi"]): {str(k): v for k, v in r.items()} for r in picked.to_dict("records")
    }
    base = str(table["run_id"].iloc[0])
    name, base_name = labels.get(run, run), labels.get(base, base)
    shown = [k for k in kpis if k in rows]
    significant = [k for k in shown if rows[k]["significant"]]
    quiet = [kpi_noun(k) for k in shown if not rows[k]["significant"] and rows[k]["effect"] != "n/a"]
    if not significant:
        if not quiet:
            return f"{name} and {base_name} cannot be compared: one replication is too few for an interval."
        return f"{name} shows no significant change against {base_name} in {_join(quiet, 'or')} (95% confidence)."
    parts = [f"{_verb(rows[k])} {kpi_noun(k)} {_change(rows[k], time_unit)}" for k in significant]
    text = f"{name} {_join(parts, 'and')} against {base_name}"
    if quiet:
        text += f"; no significant change in {_join(quiet, 'or')}"
    return text + "."


def _join(parts: list[str], word: str) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {word} {parts[-1]}"
