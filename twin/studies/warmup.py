"""Choosing a warm-up period with Welch's graphical method.

Replications start empty, so early observations are biased low. Welch's method averages the
WIP over replications in each time bin, smooths that curve with a centred moving average of
half-width ``window`` bins, and looks for where it flattens. The plot is what an engineer should
look at; as a starting point the study also suggests a warm-up by the MSER rule (White, 1997)
applied to the mean WIP per bin: the truncation that minimises the marginal standard error of
what remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.measure.executors import Engine, make_executor
from twin.measure.kpi import wip_series
from twin.measure.labels import count_of
from twin.scenario import Scenario
from twin.sim.plant import Plant

__all__ = ["BATCH", "WarmupStudy", "moving_average", "mser", "plot_warmup", "settling_point", "welch", "wip_by_bin"]


def wip_by_bin(scenario: Scenario, replication: int, seed: int, edges: np.ndarray) -> np.ndarray:
    """Average WIP in each bin of one replication."""
    plant = Plant(scenario, seed=seed, replication=replication)
    plant.run()
    return wip_series(plant.log, edges)


BATCH = 5
"""Bins per batch of MSER-5: batch means smooth the bin-to-bin noise that makes plain MSER
jump between runs with different replication counts."""


def mser(values: np.ndarray, batch: int = BATCH) -> int | None:
    """MSER-``batch`` truncation point (White, 1997; Spratt's batch means): over batch means
    of ``batch`` values, the ``d`` minimising the marginal standard error ``var(means[d:]) /
    (k - d)`` over ``d < k / 2``, returned in values (``d * batch``); None when the minimum
    lies at the limit, i.e. the series has not settled within the first half."""
    k = len(values) // batch
    if k < 4:
        raise ValueError(f"MSER-{batch} needs at least {4 * batch} values (got {len(values)})")
    means = values[: k * batch].reshape(k, batch).mean(axis=1)
    tail_sum = np.cumsum(means[::-1])[::-1]
    tail_sq = np.cumsum((means**2)[::-1])[::-1]
    count = k - np.arange(k)
    variance = np.maximum(tail_sq / count - (tail_sum / count) ** 2, 0.0)
    score = variance[: k // 2] / count[: k // 2]
    best = int(np.argmin(score))
    return None if best == k // 2 - 1 else best * batch


def settling_point(smoothed: np.ndarray) -> int | None:
    """Where Welch's moving average first comes within two standard deviations of its level,
    the level and its noise taken over the second half of the curve; None when that second
    half still trends (its linear change exceeds twice its residual noise): no steady state.

    Unlike MSER, which weighs the variance of every tail and so jumps with the noise (and can
    stop on the rising part of a slow curve), this reads the curve a person reads: it gives
    similar answers for 3 and for 10 replications of one scenario."""
    n = len(smoothed)
    tail = smoothed[n // 2 :]
    x = np.arange(len(tail), dtype=float)
    slope, intercept = np.polyfit(x, tail, 1)
    noise = float(np.std(tail - (slope * x + intercept)))
    if abs(slope) * len(tail) > 2 * noise + 1e-12 * max(1.0, abs(float(tail.mean()))):
        return None
    level, spread = float(tail.mean()), float(tail.std())
    near = np.nonzero(np.abs(smoothed - level) <= 2 * spread + 1e-12)[0]
    return int(near[0])


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Welch's centred moving average: half-width ``window``, shrinking near the start; the
    last ``window`` points, which lack a full window, are dropped."""
    n = len(values) - window
    out = np.empty(max(n, 0))
    for i in range(len(out)):
        half = min(i, window)
        out[i] = values[i - half : i + half + 1].mean()
    return out


@dataclass(frozen=True)
class WarmupStudy:
    """Welch's method on one scenario: bin centres, mean WIP per bin, the smoothed curve and
    the suggested warm-up (None if the curve never settles)."""

    times: np.ndarray
    mean_wip: np.ndarray
    smoothed: np.ndarray
    suggested: float | None
    replications: int
    window: int


def welch(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    bins: int = 200,
    window: int = 5,
    workers: int = 1,
    engine: Engine = "local",
) -> WarmupStudy:
    """Run replications over the scenario's horizon and apply Welch's method.

    Raises:
        ValueError: the scenario has no horizon, or ``bins``/``window`` do not fit.
    """
    if scenario.horizon is None:
        raise ValueError("a warm-up study needs a scenario with a horizon")
    if bins < 4 or not 1 <= window < bins // 2:
        raise ValueError(f"need bins >= 4 and 1 <= window < bins / 2 (got bins={bins}, window={window})")
    count = scenario.replications if replications is None else replications
    base_seed = scenario.seed if seed is None else seed
    edges = np.linspace(0.0, scenario.horizon, bins + 1)
    executor = make_executor(min(workers, count), engine)
    try:
        series = dict(executor.run(wip_by_bin, ((r, (scenario, r, base_seed, edges)) for r in range(count))))
    finally:
        executor.close()
    mean_wip = np.mean([series[r] for r in range(count)], axis=0)
    smoothed = moving_average(mean_wip, window)
    times = (edges[:-1] + edges[1:])[: len(smoothed)] / 2
    cut = settling_point(smoothed)
    suggested = float(edges[cut]) if cut is not None else None
    return WarmupStudy(times, mean_wip[: len(smoothed)], smoothed, suggested, count, window)


def plot_warmup(study: WarmupStudy, scenario: Scenario, path: str | Path) -> Path:
    """Draw the mean WIP per bin, its moving average, the suggested and the current warm-up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5), constrained_layout=True)
    ax.plot(
        study.times,
        study.mean_wip,
        color="#c7c7c7",
        label=f"mean WIP over {count_of(study.replications, 'replication')}",
    )
    ax.plot(study.times, study.smoothed, color="#1f77b4", label=f"moving average (window {study.window})")
    if study.suggested is not None:
        ax.axvline(study.suggested, color="#d62728", linestyle="--", label=f"suggested warm-up {study.suggested:.4g}")
    if scenario.warmup:
        ax.axvline(scenario.warmup, color="#2ca02c", linestyle=":", label=f"scenario warm-up {scenario.warmup:.4g}")
    ax.set_xlabel(f"Simulated time ({scenario.time_unit})")
    ax.set_ylabel("Work in process (jobs)")
    ax.set_title(f"{scenario.name}: Welch's method for the warm-up period")
    ax.legend(loc="lower right")
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
