"""Confidence intervals over independent replications, and differences between two runs.

Every interval the twin reports comes from here, so the CLI, the dashboard, evaluations and
design studies agree to the last digit. ``scipy.stats`` is loaded on first use: a command
that only validates a file never pays for it.

Quantities that cannot leave a range (counts and times are never negative, shares lie in
[0, 1]) get :func:`bounded_interval`: the Student-t interval when it stays inside the range,
otherwise the t-interval taken on the log scale (``[0, inf)``) or the logit scale (``[0, 1]``)
and mapped back (the delta method), which never crosses the bound. Relative changes
(:func:`percent_change`) are intervals of the log of the ratio of means, mapped back, so
they never fall below -100%.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["bounded_interval", "confidence_interval", "difference", "percent_change", "prediction_interval"]


@functools.lru_cache(maxsize=4096)
def _t_quantile(level: float, dof: float) -> float:
    # Cached: a study of hundreds of runs asks for the same few quantiles thousands of times.
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


def bounded_interval(
    values: np.ndarray, lower: float | None = 0.0, upper: float | None = None, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean and ``level`` confidence interval of replications of a quantity that lies in
    ``[lower, upper]`` (``None``: no bound on that side); the interval never leaves the range.

    The Student-t interval of :func:`confidence_interval` when it lies inside the range; when
    it would cross a bound, the t-interval of the log of the mean (one bound, ``lower``) or of
    its logit (both bounds), mapped back: ``mean * exp(+-t * se / mean)`` for ``[0, inf)``.
    A mean on the bound itself (every value 0, say) has no spread to show: (mean, mean).
    """
    mean, low, high = confidence_interval(values, level)
    if math.isnan(low) or ((lower is None or low >= lower) and (upper is None or high <= upper)):
        return mean, low, high
    clean = values[~np.isnan(values)]
    se = float(clean.std(ddof=1)) / math.sqrt(len(clean))
    t = _t_quantile(level, len(clean) - 1)
    if upper is None or lower is None:
        bound, sign = (lower, 1.0) if lower is not None else (upper, -1.0)
        assert bound is not None  # one of the two is given, or the t-interval fitted
        gap = sign * (mean - bound)
        if gap <= 0:
            return mean, mean, mean
        spread = math.exp(min(t * se / gap, 700.0))  # a mean barely off the bound: a huge upper end
        ends = sorted((bound + sign * gap / spread, bound + sign * gap * spread))
        return mean, ends[0], ends[1]
    width = upper - lower
    share = (mean - lower) / width
    if share <= 0 or share >= 1:
        return mean, mean, mean
    centre, half = math.log(share / (1 - share)), t * se / (width * share * (1 - share))
    return mean, lower + width / (1 + math.exp(half - centre)), lower + width / (1 + math.exp(-half - centre))


def percent_change(
    baseline: np.ndarray, other: np.ndarray, paired: bool, level: float = 0.95
) -> tuple[float, float, float]:
    """Change of the mean of ``other`` relative to the mean of ``baseline``, in percent, with
    its ``level`` confidence interval (NaN when the baseline mean is not positive).

    The interval is that of the log of the ratio of the two means (delta method: variance
    ``s_o^2 / (n m_o^2) + s_b^2 / (n m_b^2) - 2 cov / (n m_o m_b)``, the covariance only for
    ``paired`` replications, which share their random numbers), mapped back to percent; with
    Welch's degrees of freedom when unpaired. An interval that excludes 0 agrees in sign with
    the change of the means. For non-negative quantities; a mean of 0 in ``other`` is a
    change of -100% with no interval.
    """
    if paired:
        keep = ~(np.isnan(baseline) | np.isnan(other))
        baseline, other = baseline[keep], other[keep]
    else:
        baseline, other = baseline[~np.isnan(baseline)], other[~np.isnan(other)]
    if len(baseline) == 0 or len(other) == 0:
        return math.nan, math.nan, math.nan
    mb, mo = float(baseline.mean()), float(other.mean())
    if mb <= 0:
        return math.nan, math.nan, math.nan
    change = 100.0 * (mo / mb - 1.0)
    if mo <= 0 or len(baseline) < 2 or len(other) < 2:
        return change, math.nan, math.nan
    vb = float(baseline.var(ddof=1)) / (len(baseline) * mb**2)
    vo = float(other.var(ddof=1)) / (len(other) * mo**2)
    if paired:
        covariance = float(np.cov(baseline, other, ddof=1)[0, 1]) / (len(baseline) * mb * mo)
        variance, dof = max(vb + vo - 2 * covariance, 0.0), float(len(baseline) - 1)
    else:
        variance = vb + vo
        dof = variance**2 / (vb**2 / (len(baseline) - 1) + vo**2 / (len(other) - 1)) if variance > 0 else 1.0
    half = _t_quantile(level, dof) * math.sqrt(variance)
    centre = math.log(mo / mb)
    return change, 100.0 * (math.exp(centre - half) - 1.0), 100.0 * (math.exp(centre + half) - 1.0)
