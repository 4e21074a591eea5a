"""Confidence intervals over independent replications, and differences between two runs.

Every interval the twin reports comes from here, so the CLI, the dashboard, evaluations and
design studies agree to the last digit. ``scipy.stats`` is loaded on first use: a command
that only validates a file never pays for it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["confidence_interval", "difference", "prediction_interval"]


def _t_quantile(level: float, dof: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, dof))


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replications' values.

    NaN values (a KPI undefined in some replication) are dropped; with fewer than two values
    left the interval is (nan, nan).
    """
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = _t_quantile(level, len(values) - 1) * float(values.std(ddof=1)) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def prediction_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t interval that holds one more replication's value with probability ``level``:
    ``mean +- t * sd * sqrt(1 + 1/n)`` (what a single observed period is compared with).

    NaN values are dropped; with fewer than two left the interval is (nan, nan).
    """
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return math.nan, math.nan
    mean = float(values.mean())
    half = _t_quantile(level, len(values) - 1) * float(values.std(ddof=1)) * math.sqrt(1 + 1 / len(values))
    return mean - half, mean + half


def difference(
    baseline: np.ndarray, other: np.ndarray, paired: bool, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``other - baseline`` with its ``level`` confidence interval.

    ``paired``: replication ``r`` of both used the same random-number streams (common random
    numbers), so the t-interval is taken over the per-replication differences, which removes
    the shared noise. Otherwise Welch's unpaired t-interval.
    """
    if paired:
        return confidence_interval(other - baseline, level)
    a, b = baseline[~np.isnan(baseline)], other[~np.isnan(other)]
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    diff = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return diff, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = _t_quantile(level, dof) * math.sqrt(va + vb)
    return diff, diff - half, diff + half
