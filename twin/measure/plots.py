"""Matplotlib figures of a run, written to files (no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.measure.experiment import Result
from twin.measure.kpi import STATE_KPIS
from twin.measure.labels import STATE_COLORS, kpi_label
from twin.sim.log import MachineState

__all__ = ["plot_comparison", "plot_run"]

_STATE_WORDS = {state: state.label.replace("_", " ") for state in STATE_KPIS} | {
    MachineState.IDLE: "idle (starved)",
}


def plot_run(result: Result, path: str | Path) -> Path:
    """Draw each station's machine-state shares and its mean wait in buffer (95% CI bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenario, summary = result.scenario, result.summary_dict()
    stations = list(scenario.stations)
    unit = scenario.time_unit
    fig, (states_ax, wait_ax) = plt.subplots(
        1, 2, figsize=(12, 0.5 * len(stations) + 3), sharey=True, constrained_layout=True
    )
    left = [0.0] * len(stations)
    for state, kpi in STATE_KPIS.items():
        shares = [summary[f"stations.{s}.{kpi}"]["mean"] for s in stations]
        if max(shares) <= 0:
            continue
        states_ax.barh(stations, shares, left=left, color=STATE_COLORS[state], label=_STATE_WORDS[state])
        left = [a + b for a, b in zip(left, shares, strict=True)]
    states_ax.set_xlim(0, 1)
    states_ax.set_xlabel("Share of machine time")
    states_ax.set_title("Machine states by station")
    states_ax.invert_yaxis()
    fig.legend(loc="outside lower left", ncol=len(STATE_KPIS), frameon=False)

    rows = [summary[f"stations.{s}.wait_mean"] for s in stations]
    means = [row["mean"] for row in rows]
    errors = [
        [max(0.0, row["mean"] - row["ci_low"]) if row["ci_low"] == row["ci_low"] else 0.0 for row in rows],
        [max(0.0, row["ci_high"] - row["mean"]) if row["ci_high"] == row["ci_high"] else 0.0 for row in rows],
    ]
    wait_ax.barh(stations, means, xerr=errors, color="#1f77b4", capsize=4)
    wait_ax.set_xlabel(f"Mean wait in buffer ({unit}), 95% CI")
    wait_ax.set_title("Waiting by station")
    throughput = summary["throughput"]
    fig.suptitle(
        f"{scenario.name}: throughput {throughput['mean']:.4g} jobs/{unit} over {len(result.replications)} replications"
    )
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_comparison(table: pd.DataFrame, kpis: tuple[str, ...], path: str | Path) -> Path:
    """Bars of each run's mean with 95% CI error bars, one panel per KPI (a `twin.studies.compare` table)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [k for k in kpis if k in set(table["kpi"])]
    runs = list(dict.fromkeys(table["label"]))
    fig, axes = plt.subplots(
        1, len(shown), figsize=(4 * len(shown), 1.0 + 0.45 * len(runs) + 1.5), constrained_layout=True
    )
    for ax, kpi in zip(list(getattr(axes, "flat", [axes])), shown, strict=True):
        rows = table[table["kpi"] == kpi]
        means = rows["mean"].to_numpy(float)
        low = np.nan_to_num(means - rows["ci_low"].to_numpy(float))
        high = np.nan_to_num(rows["ci_high"].to_numpy(float) - means)
        colors = ["#7f7f7f"] + ["#1f77b4" if s else "#aec7e8" for s in rows["significant"].iloc[1:]]
        ax.barh(rows["label"], means, xerr=[low, high], color=colors, capsize=3)
        ax.set_title(kpi_label(kpi, str(table["time_unit"].iloc[0])))
        ax.invert_yaxis()
        if ax is not getattr(axes, "flat", [axes])[0]:
            ax.set_yticklabels([])
    fig.suptitle("Runs compared with the first (grey); dark blue = significantly different (95%)")
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_forecast(document: dict[str, Any], time_unit: str, path: str | Path) -> Path:
    """Fan chart of a forecast (:func:`twin.sync.forecast.forecast`): completions per bin,
    P10-P90 band around the median."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    completions = document["completions"]
    # Each bin's value is drawn from its start to the next; the last one to the horizon's end.
    starts = np.append(np.asarray(completions["start"], dtype=float), document["time"] + document["horizon"])
    low, mid, high = (
        np.append(values, values[-1:])
        for values in (np.asarray(completions[k], dtype=float) for k in ("p10", "p50", "p90"))
    )
    fig, ax = plt.subplots(figsize=(9, 4), constrained_layout=True)
    ax.fill_between(starts, low, high, step="post", color="#1f77b4", alpha=0.3, label="P10-P90")
    ax.step(starts, mid, where="post", color="#1f77b4", label="P50")
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel(f"completions per {completions['bin']:g} {time_unit}")
    total = completions["total"]
    ax.set_title(
        f"Forecast from t={document['time']:g} over {document['horizon']:g} {time_unit}: "
        f"{total['p50']:g} completions (P10 {total['p10']:g}, P90 {total['p90']:g})"
    )
    ax.legend(frameon=False)
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
