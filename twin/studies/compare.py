"""Side-by-side comparison of stored runs: which differences are real?

For every KPI and every run after the first (the baseline), the difference of means with a
95% confidence interval:

- **paired** when both runs have the same replication numbers: replication ``r`` of both
  used the same random-number streams (common random numbers), so the t-interval is taken
  over the per-replication differences, which removes the shared noise;
- otherwise **Welch's** unpaired t-interval.

A difference is *significant* when its interval excludes 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from twin.measure.kpi import kpi_bounds
from twin.measure.stats import bounded_interval, difference
from twin.studies.store import find_runs, load_kpis, read_meta

__all__ = ["compare", "load_runs"]


def _label(meta: dict[str, object], run: Path) -> str:
    overrides = meta.get("overrides") or {}
    if isinstance(overrides, dict) and overrides:
        return ", ".join(f"{path}={json.dumps(value)}" for path, value in overrides.items())
    return str(meta.get("scenario") or run.name)


def load_runs(paths: Sequence[str | Path]) -> tuple[list[Path], pd.DataFrame]:
    """The run folders named by ``paths`` (runs, sweeps or stores) and their per-replication
    KPIs (one DuckDB query)."""
    runs = find_runs(paths)
    return runs, load_kpis(runs)


def compare(paths: Sequence[str | Path], level: float = 0.95) -> pd.DataFrame:
    """Compare runs with the first one; a tidy table with one row per (run, KPI):
    ``run`` (the run's folder: runs are keyed by path, since two stores may hold runs of one
    id), ``run_id``, ``label``, ``scenario``, ``time_unit``, ``kpi``, ``mean``, ``ci_low``,
    ``ci_high`` (an interval that respects the KPI's range, e.g. never below 0), ``diff``,
    ``diff_low``, ``diff_high``, ``paired``, ``significant`` (difference columns are
    NaN/False for the baseline itself).

    Raises:
        StoreError: a path is not a run, sweep or store, or a run's files are damaged.
    """
    runs, kpis = load_runs(paths)
    names = [c for c in kpis.columns if c not in ("run", "run_id", "replication")]
    by_run = {str(key): frame.sort_values("replication") for key, frame in kpis.groupby("run", sort=False)}
    baseline = by_run[str(runs[0])]
    rows = []
    for run in runs:
        frame = by_run[str(run)]
        meta = read_meta(run)
        paired = run != runs[0] and list(frame["replication"]) == list(baseline["replication"])
        for kpi in names:
            values = frame[kpi].to_numpy(float)
            mean, low, high = bounded_interval(values, *kpi_bounds(kpi), level)
            diff = diff_low = diff_high = math.nan
            if run != runs[0]:
                diff, diff_low, diff_high = difference(baseline[kpi].to_numpy(float), values, paired, level)
            significant = bool(not math.isnan(diff_low) and (diff_low > 0 or diff_high < 0))
            rows.append(
                {
                    "run": str(run),
                    "run_id": run.name,
                    "label": _label(meta, run),
                    "scenario": str(meta.get("scenario", "")),
                    "time_unit": meta.get("time_unit", "time unit"),
                    "kpi": kpi,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "diff": diff,
                    "diff_low": diff_low,
                    "diff_high": diff_high,
                    "paired": paired,
                    "significant": significant,
                }
            )
    return pd.DataFrame(rows)
