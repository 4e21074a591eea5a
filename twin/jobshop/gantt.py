"""Gantt charts of job-shop schedules as PNG files (matplotlib, loaded when drawing)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twin.jobshop.schedules import ScheduledOperation

__all__ = ["plot_gantt"]


def plot_gantt(
    schedule: Sequence[ScheduledOperation], path: str | Path, machines: int | None = None, title: str = ""
) -> Path:
    """Draw ``schedule`` as a Gantt chart (one row per machine, one colour per job) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    rows = machines if machines is not None else 1 + max((op.machine for op in schedule), default=0)
    jobs = 1 + max((op.job for op in schedule), default=0)
    cmap = plt.get_cmap("tab20", max(jobs, 1))
    fig, ax = plt.subplots(figsize=(12, 0.35 * rows + 1.5), constrained_layout=True)
    for op in schedule:
        ax.barh(op.machine, op.end - op.start, left=op.start, color=cmap(op.job % 20), edgecolor="black", linewidth=0.3)
        if jobs <= 20:
            ax.text((op.start + op.end) / 2, op.machine, str(op.job), ha="center", va="center", fontsize=6)
    ax.set_yticks(range(rows), [f"m{m}" for m in range(rows)])
    ax.invert_yaxis()
    ax.set_xlabel("time")
    makespan = max((op.end for op in schedule), default=0.0)
    ax.set_title(f"{title}  makespan {makespan:g}".strip())
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
