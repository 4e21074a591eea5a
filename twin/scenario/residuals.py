"""Residual times: what is left of a random time that has already run for a while.

A warm start (:mod:`twin.sim.warmstart`) knows that a job has been processed for ``elapsed``
or a machine has been up for its age; what is left is drawn from the distribution *given
that it exceeds* ``elapsed``: ``X - e | X > e``. Exponential times are memoryless (a fresh
draw); Weibull, uniform, constant and empirical times have closed forms; the other families
are drawn by rejection from the distribution itself, falling back to the inverse of the
conditional distribution function (scipy, loaded only then) deep in the tail.
"""

from __future__ import annotations

import math

import numpy as np

from twin.scenario.distributions import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)

__all__ = ["residual"]

_TRIES = 4
_BLOCK = 64


def residual(dist: Distribution, elapsed: float, rng: np.random.Generator) -> float:
    """A draw of ``X - elapsed`` given ``X > elapsed`` for ``X ~ dist`` (0 when ``X`` cannot
    exceed ``elapsed``); with ``elapsed <= 0`` a plain draw of ``X``."""
    if elapsed <= 0:
        return float(dist.draw(rng, 1)[0])
    if isinstance(dist, Exponential):
        return float(rng.exponential(dist.mean_))  # memoryless
    if isinstance(dist, Constant):
        return max(dist.value - elapsed, 0.0)
    if isinstance(dist, Weibull):
        scaled = float((elapsed / dist.scale) ** dist.shape + rng.exponential())
        return max(float(dist.scale * scaled ** (1.0 / dist.shape)) - elapsed, 0.0)
    if isinstance(dist, Uniform):
        low = max(dist.low, elapsed)
        return 0.0 if low >= dist.high else float(rng.uniform(low, dist.high)) - elapsed
    if isinstance(dist, Empirical):
        return _empirical(dist, elapsed, rng)
    for _ in range(_TRIES):
        draws = dist.draw(rng, _BLOCK)
        above = draws[draws > elapsed]
        if above.size:
            return float(above[0]) - elapsed
    return _inverse(dist, elapsed, rng)


def _empirical(dist: Empirical, elapsed: float, rng: np.random.Generator) -> float:
    values = np.asarray(dist.values, dtype=float)
    weights = np.ones_like(values) if dist.weights is None else np.asarray(dist.weights, dtype=float)
    keep = (values > elapsed) & (weights > 0)
    if not keep.any():
        return 0.0
    chosen = rng.choice(values[keep], p=weights[keep] / weights[keep].sum())
    return float(chosen) - elapsed


def _inverse(dist: Distribution, elapsed: float, rng: np.random.Generator) -> float:
    """Inverse conditional CDF, for the far tail where rejection would take too long."""
    from scipy import stats

    frozen: stats.rv_continuous | None = None
    if isinstance(dist, Normal):
        if dist.sd == 0:
            return max(dist.mean_ - elapsed, 0.0)
        frozen = stats.truncnorm(-dist.mean_ / dist.sd, math.inf, loc=dist.mean_, scale=dist.sd)
    elif isinstance(dist, LogNormal):
        if dist.sd == 0:
            return max(dist.mean_ - elapsed, 0.0)
        sigma2 = math.log1p((dist.sd / dist.mean_) ** 2)
        frozen = stats.lognorm(math.sqrt(sigma2), scale=dist.mean_ * math.exp(-sigma2 / 2))
    elif isinstance(dist, Gamma):
        frozen = stats.gamma(dist.shape, scale=dist.scale)
    elif isinstance(dist, Triangular):
        width = dist.high - dist.low
        if width <= 0 or elapsed >= dist.high:
            return max(dist.high - elapsed, 0.0)
        frozen = stats.triang((dist.mode - dist.low) / width, loc=dist.low, scale=width)
    if frozen is None:
        return 0.0
    tail = float(frozen.sf(elapsed))
    if tail <= 0.0:
        return 0.0
    value = float(frozen.isf(tail * rng.random()))
    return max(value - elapsed, 0.0) if math.isfinite(value) else 0.0
