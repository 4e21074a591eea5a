"""Choosing the best of many scenarios on one KPI, with the multiple comparisons accounted for.

Comparing ten sweep points pairwise at 95% each would find a "significant" difference by
chance in most studies. Two procedures that hold their 95% over all the comparisons at once:

- **Subset selection** (the screening procedure of Nelson, Swann, Goldsman and Song, 2001,
  with the Bonferroni correction that keeps it valid under common random numbers): scenario
  ``i`` stays in the subset unless some ``j`` beats it by more than
  ``W_ij = t(1 - alpha / (k - 1), dof) * se(mean_i - mean_j)``. The subset contains the truly
  best scenario with probability at least 95%; a subset of one names the winner.
- **Intervals against the best** (multiple comparisons with the best): every scenario's
  difference to the observed best with a Bonferroni-corrected 95% interval over the ``k - 1``
  comparisons.

With the same replication numbers in every run (common random numbers) the standard errors
are those of the per-replication differences (paired), otherwise Welch's. How many more
replications would separate the leaders is the number that shrinks every ``W`` between the
best and the rest of the subset below the observed gap (``W`` falls as ``1 / sqrt(n)``), an
estimate that holds if the observed means and spreads do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.measure.kpi import Direction, kpi_bounds, kpi_direction
from twin.measure.labels import json_number
from twin.measure.stats import bounded_interval

__all__ = ["METHOD", "Ranking", "rank", "rank_runs"]

METHOD = "subset selection (Nelson et al. 2001, Bonferroni) and Bonferroni intervals against the best"
"""The procedures, in words, as reports name them."""


@dataclass(frozen=True)
class Ranking:
    """Scenarios ranked on one KPI.

    Attributes:
        kpi: the KPI ranked on; ``direction`` which way is better.
        level: the joint confidence (0.95).
        paired: every run has the same replications (common random numbers).
        table: one row per run, best first: ``run_id``, ``label``, ``rank`` (1 = best
            observed mean), ``mean``, ``ci_low``, ``ci_high`` (each run's own interval),
            ``diff_to_best``, ``diff_low``, ``diff_high`` (Bonferroni interval of the
            difference to the best; 0 for the best), ``in_subset``.
        replications: replications per run now (the smallest).
        replications_needed: replications per run that would leave only the best (and the
            runs tied with it) in the subset if the observed means and spreads hold; equal to
            ``replications`` when it is already alone.
        ties: runs whose mean equals the best's: no number of replications separates them
            (with common random numbers, usually a change that makes no difference at all).
    """

    kpi: str
    direction: Direction
    level: float
    paired: bool
    table: pd.DataFrame
    replications: int
    replications_needed: int
    ties: tuple[str, ...] = ()

    @property
    def best(self) -> str:
        """The run with the best observed mean."""
        return str(self.table["run_id"].iloc[0])

    @property
    def subset(self) -> list[str]:
        """The runs that may be the best, at the joint confidence ``level``."""
        return [str(r) for r in self.table.loc[self.table["in_subset"], "run_id"]]

    def sentence(self, words: str) -> str:
        """The result in one sentence; ``words`` names the KPI (``throughput``)."""
        labels = dict(zip(self.table["run_id"], self.table["label"], strict=True))
        confidence = f"{self.level:.0%}"
        if len(self.table) == 1:
            return f"Only one run: {labels[self.best]}."
        ties = f" {_listing([labels[r] for r in self.ties])} tie(s) with it exactly." if self.ties else ""
        contenders = [labels[r] for r in self.subset if r != self.best and r not in self.ties]
        if not contenders:
            return (
                f"{labels[self.best]} is the best on {words}: no other run can be better "
                f"at {confidence} confidence over all {len(self.table) - 1} comparisons.{ties}"
            )
        more = self.replications_needed - self.replications
        return (
            f"{labels[self.best]} has the best {words}, but {len(contenders)} other run(s) may be as good "
            f"at {confidence} confidence over all comparisons ({_listing(contenders)}).{ties} "
            f"About {more:,} more replication{'' if more == 1 else 's'} per run would separate the leaders."
        )

    def to_json(self) -> dict[str, Any]:
        """The ranking as JSON data (``twin compare --best KPI --json``, key ``ranking``)."""
        return {
            "kpi": self.kpi,
            "direction": self.direction,
            "level": self.level,
            "method": METHOD,
            "paired": self.paired,
            "best": self.best,
            "subset": self.subset,
            "replications": self.replications,
            "replications_needed": self.replications_needed,
            "ties": list(self.ties),
            "runs": [
                {
                    "run_id": row["run_id"],
                    "label": row["label"],
                    "rank": int(row["rank"]),
                    **{
                        k: json_number(row[k])
                        for k in ("mean", "ci_low", "ci_high", "diff_to_best", "diff_low", "diff_high")
                    },
                    "in_subset": bool(row["in_subset"]),
                }
                for row in self.table.to_dict("records")
            ],
        }


_NUMBERS = ("mean", "ci_low", "ci_high", "diff_to_best", "diff_low", "diff_high")


def _listing(names: list[str], shown: int = 3) -> str:
    rest = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {rest} more" if rest > 0 else "")


def _pair_stats(values: list[np.ndarray], paired: bool) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors of ``mean_i - mean_j`` for every pair and their degrees of freedom
    (matrices, ``k x k``): of the per-replication differences when ``paired``, else Welch's."""
    if paired:
        matrix = np.vstack(values)
        n = matrix.shape[1]
        differences = matrix[:, None, :] - matrix[None, :, :]
        return differences.std(axis=2, ddof=1) / math.sqrt(n), np.full((len(values), len(values)), n - 1.0)
    sizes = np.array([len(v) for v in values], dtype=float)
    shares = np.array([v.var(ddof=1) for v in values]) / sizes
    total = shares[:, None] + shares[None, :]
    spread = shares**2 / (sizes - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = total**2 / (spread[:, None] + spread[None, :])
    dof = np.where(total > 0, dof, sizes[:, None] + sizes[None, :] - 2)
    return np.sqrt(total), dof


def _t(probability: float, dof: np.ndarray) -> np.ndarray:
    from scipy import stats

    return np.asarray(stats.t.ppf(probability, dof), dtype=float)


def rank(
    values: Mapping[str, pd.DataFrame | pd.Series | np.ndarray],
    kpi: str,
    labels: Mapping[str, str] | None = None,
    direction: Direction | None = None,
    level: float = 0.95,
) -> Ranking:
    """Rank runs on ``kpi`` from their per-replication values.

    Args:
        values: per run id, the KPI's value in each replication (a Series indexed by
            replication number, or an array); runs whose replications match are paired.
        direction: which way is better (default: the KPI's own, :func:`kpi_direction`).

    Raises:
        ValueError: no direction is known for the KPI, or a run has fewer than two
            replications with a value (the message names it).
    """
    chosen = direction or kpi_direction(kpi)
    if chosen is None:
        raise ValueError(f"{kpi}: no better direction is known for this KPI; give one")
    series = {
        run: (v if isinstance(v, pd.Series) else pd.Series(np.asarray(v, float))).dropna() for run, v in values.items()
    }
    for run, s in series.items():
        if len(s) < 2:
            raise ValueError(f"{run}: ranking needs at least 2 replications with a value of {kpi} (got {len(s)})")
    indexes = [tuple(s.index) for s in series.values()]
    paired = len(set(indexes)) == 1
    runs = list(series)
    sign = 1.0 if chosen == "up" else -1.0
    arrays = [series[r].to_numpy(float) for r in runs]
    means = np.array([a.mean() for a in arrays])
    order = sorted(range(len(runs)), key=lambda i: -sign * means[i])
    best = order[0]
    k = len(runs)
    alpha = 1.0 - level
    se, dof = _pair_stats(arrays, paired)
    widths = _t(1 - alpha / max(k - 1, 1), dof) * se
    # i stays unless some j beats it by more than W_ij (Nelson et al.'s screening).
    beaten = sign * (means[:, None] - means[None, :]) < -widths
    np.fill_diagonal(beaten, False)
    in_subset = ~beaten.any(axis=1)
    halves = _t(1 - alpha / (2 * max(k - 1, 1)), dof[:, best]) * se[:, best]
    lower, upper = kpi_bounds(kpi)
    rows = []
    for position, i in enumerate(order, start=1):
        mean, low, high = bounded_interval(arrays[i], lower, upper, level)
        diff = float(means[i] - means[best])
        half = 0.0 if i == best else float(halves[i])
        rows.append(
            {
                "run_id": runs[i],
                "label": (labels or {}).get(runs[i], runs[i]),
                "rank": position,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "diff_to_best": diff,
                "diff_low": diff - half,
                "diff_high": diff + half,
                "in_subset": bool(in_subset[i]),
            }
        )
    replications = min(len(a) for a in arrays)
    ties = tuple(runs[i] for i in order[1:] if means[i] == means[best])
    others = np.arange(k) != best
    needed = _needed(
        np.abs(means - means[best])[others],
        se[best][others] * math.sqrt(replications),
        1 - alpha / max(k - 1, 1),
        replications,
    )
    return Ranking(kpi, chosen, level, paired, pd.DataFrame(rows), replications, needed, ties)


def _needed(gaps: np.ndarray, spreads: np.ndarray, probability: float, n: int) -> int:
    """Replications per run after which the screening width ``t(probability, n' - 1) * S /
    sqrt(n')`` between the best and every other run (not tied with it) falls below their
    observed gap; ``spreads`` are the per-replication standard deviations ``S`` of the
    differences (``se * sqrt(n)``). The quantile shrinks with ``n'`` too, which a plain
    ``1 / sqrt(n)`` scaling would ignore."""

    def separated(count: int) -> bool:
        width = _t(probability, np.full(len(gaps), count - 1.0)) * spreads / math.sqrt(count)
        return bool(np.all((gaps == 0) | (width < gaps)))

    if separated(n):
        return n
    high = max(n, 2) * 2
    while not separated(high):
        high *= 2
    low = high // 2
    while high - low > 1:  # the smallest count that separates, by bisection
        middle = (low + high) // 2
        low, high = (low, middle) if separated(middle) else (middle, high)
    return high


def rank_runs(runs: Sequence[Path], kpi: str, labels: Mapping[str, str] | None = None, level: float = 0.95) -> Ranking:
    """:func:`rank` over stored runs (their ``kpis.parquet``), keyed by the run's path (two
    stores may hold runs of one id); ``labels`` may be keyed by path or by run id.

    Raises:
        ValueError: the runs do not report ``kpi``, or as :func:`rank`.
    """
    from twin.studies.store import load_kpis

    frame = load_kpis(list(runs))
    if kpi not in frame.columns or frame[kpi].isna().all():
        known = ", ".join(c for c in frame.columns if c not in ("run", "run_id", "replication"))
        raise ValueError(f"{kpi}: not a KPI of these runs (KPIs: {known})")
    values = {str(r): f.set_index("replication")[kpi] for r, f in frame.groupby("run", sort=False)}
    given = labels or {}
    named = {key: given.get(key) or given.get(Path(key).name) or Path(key).name for key in values}
    return rank(values, kpi, named, level=level)
