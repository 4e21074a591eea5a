"""Altair charts for managers: every chart has a title, axes in words with units, and the
same colour for a machine state everywhere (:data:`twin.measure.labels.STATE_COLORS`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from twin.measure.labels import STATE_COLORS
from twin.sim.log import MachineState

__all__ = [
    "STATE_WORDS",
    "gantt",
    "gap_bars",
    "histogram",
    "kpi_bars",
    "kpi_boxes",
    "level_lines",
    "state_bars",
    "state_gantt",
    "sweep_line",
]

STATE_WORDS = {
    MachineState.BUSY: "busy",
    MachineState.IDLE: "idle (starved)",
    MachineState.SETUP: "setup",
    MachineState.BLOCKED: "blocked",
    MachineState.DOWN: "down",
    MachineState.OFF_SHIFT: "off shift",
    MachineState.MAINTENANCE: "maintenance",
}
"""Machine states in words, in legend order."""

_BY_LABEL = {state.label: STATE_WORDS[state] for state in STATE_WORDS}
_STATE_SCALE = alt.Scale(domain=list(STATE_WORDS.values()), range=[STATE_COLORS[s] for s in STATE_WORDS])
_BASELINE, _SIGNIFICANT, _NOT_SIGNIFICANT = "#7f7f7f", "#1f4e9a", "#a6c3e8"
_SIGNIFICANCE_SCALE = alt.Scale(
    domain=["baseline", "significant difference", "no significant difference"],
    range=[_BASELINE, _SIGNIFICANT, _NOT_SIGNIFICANT],
)


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=subtitle or alt.Undefined, anchor="start", fontSize=15)


def _significance(table: pd.DataFrame) -> list[str]:
    baseline = table["run_id"].iloc[0] if len(table) else None
    return [
        "baseline" if run_id == baseline else "significant difference" if sig else "no significant difference"
        for run_id, sig in zip(table["run_id"], table["significant"], strict=True)
    ]


def kpi_bars(rows: pd.DataFrame, label: str) -> alt.LayerChart:
    """Each run's mean of one KPI (rows of a comparison table) with its 95% CI as error bars;
    the baseline grey, runs significantly different from it dark blue."""
    data = rows[["run_id", "label", "mean", "ci_low", "ci_high", "significant"]].copy()
    data["versus baseline"] = _significance(rows)
    data["ci_low"] = data["ci_low"].fillna(data["mean"])
    data["ci_high"] = data["ci_high"].fillna(data["mean"])
    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title="Run", axis=alt.Axis(labelLimit=260))
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("mean:Q", title=label),
            color=alt.Color(
                "versus baseline:N",
                scale=_SIGNIFICANCE_SCALE,
                legend=alt.Legend(orient="bottom", title=None, columns=1),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Run"),
                alt.Tooltip("mean:Q", title="Mean", format=".4g"),
                alt.Tooltip("ci_low:Q", title="95% CI low", format=".4g"),
                alt.Tooltip("ci_high:Q", title="95% CI high", format=".4g"),
            ],
        )
    )
    errors = (
        alt.Chart(data)
        .mark_errorbar(ticks=True, color="black")
        .encode(y=y, x=alt.X("ci_low:Q", title=label), x2="ci_high:Q")
    )
    return (bars + errors).properties(title=_title(label, "Mean with 95% confidence interval"), height=alt.Step(34))


def kpi_boxes(long: pd.DataFrame, label: str) -> alt.Chart:
    """Per-replication values of one KPI as a box plot per run."""
    order = list(dict.fromkeys(long["label"]))
    return (
        alt.Chart(long)
        .mark_boxplot(extent="min-max", size=18)
        .encode(
            y=alt.Y("label:N", sort=order, title="Run", axis=alt.Axis(labelLimit=260)),
            x=alt.X("value:Q", title=label, scale=alt.Scale(zero=False)),
            color=alt.value("#4c78a8"),
        )
        .properties(title=_title(label, "One value per replication"), height=alt.Step(34))
    )


def sweep_line(rows: pd.DataFrame, parameter: str, label: str, series: str | None = None) -> alt.LayerChart:
    """A KPI's mean (line) with its 95% CI (error bars) against the varied parameter of a
    sweep; one line per value of ``series`` when other parameters vary too."""
    data = rows[[parameter, "mean", "ci_low", "ci_high", *([series] if series else [])]].copy()
    data["ci_low"] = data["ci_low"].fillna(data["mean"])
    data["ci_high"] = data["ci_high"].fillna(data["mean"])
    numeric = pd.api.types.is_numeric_dtype(data[parameter])
    x = alt.X(
        f"{parameter}:{'Q' if numeric else 'O'}",
        title=parameter,
        scale=alt.Scale(zero=False) if numeric else alt.Undefined,
    )
    color = (
        alt.Color(f"{series}:N", title=series, legend=alt.Legend(orient="bottom")) if series else alt.value("#1f4e9a")
    )
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(x=x, y=alt.Y("mean:Q", title=label, scale=alt.Scale(zero=False)), color=color)
    )
    errors = (
        alt.Chart(data)
        .mark_errorbar(ticks=True)
        .encode(x=x, y=alt.Y("ci_low:Q", title=label), y2="ci_high:Q", color=color)
    )
    return (line + errors).properties(
        title=_title(f"{label} against {parameter}", "Mean and 95% CI per point"), height=260
    )


def state_bars(shares: pd.DataFrame) -> alt.Chart:
    """Stacked bars: each station's share of machine time in each state (``state_shares``)."""
    data = shares.copy()
    data["State"] = data["state"].map(_BY_LABEL)
    data["Share (%)"] = 100 * data["share"]
    data = data[data["share"] > 0]
    stations = list(dict.fromkeys(shares["station"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("station:N", sort=stations, title="Station"),
            x=alt.X("Share (%):Q", title="Share of machine time (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("State:N", scale=_STATE_SCALE, legend=alt.Legend(orient="bottom", title="Machine state")),
            order=alt.Order("order:Q"),
            tooltip=["station:N", "State:N", alt.Tooltip("Share (%):Q", format=".1f")],
        )
        .transform_calculate(order=f"indexof({list(STATE_WORDS.values())!r}, datum.State)")
        .properties(
            title=_title("Machine states by station", "Mean over replications, after warm-up"), height=alt.Step(30)
        )
    )


def level_lines(
    frame: pd.DataFrame, value: str, title: str, y_title: str, unit: str, color: str | None = None
) -> alt.Chart:
    """Levels per time interval (``start``, ``value``[, ``color``]) as step lines."""
    encoding: dict[str, object] = {
        "x": alt.X("start:Q", title=f"Simulated time ({unit})"),
        "y": alt.Y(f"{value}:Q", title=y_title),
    }
    if color is not None:
        encoding["color"] = alt.Color(f"{color}:N", title=color.capitalize(), legend=alt.Legend(orient="right"))
    return (
        alt.Chart(frame)
        .mark_line(interpolate="step-after")
        .encode(**encoding)
        .properties(title=_title(title, f"Time average per interval of {_width(frame)} {unit}"), height=260)
    )


def _width(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "0"
    return f"{float(frame['end'].iloc[0] - frame['start'].iloc[0]):.3g}"


def gantt(
    ops: pd.DataFrame,
    row: str,
    color: str,
    title: str,
    unit: str,
    row_title: str,
    color_title: str,
    domain: tuple[float, float] | None = None,
) -> alt.Chart:
    """Operations as bars from ``start`` to ``end`` on one row per ``row``, coloured by
    ``color``; ``domain`` fixes the time axis (a window, or one scale for several schedules)."""
    rows = sorted(dict.fromkeys(ops[row]), key=_natural)
    distinct = ops[color].nunique()
    many = distinct > 20
    return (
        alt.Chart(ops)
        .mark_bar(stroke="white", strokeWidth=0.3)
        .encode(
            y=alt.Y(f"{row}:N", sort=rows, title=row_title),
            x=alt.X("start:Q", title=f"Time ({unit})", scale=_time_scale(domain)),
            x2="end:Q",
            color=alt.Color(
                f"{color}:N",
                title=color_title,
                scale=alt.Scale(scheme="tableau10" if distinct <= 10 else "category20" if not many else "rainbow"),
                legend=None if many else alt.Legend(orient="bottom", columns=10),
            ),
            tooltip=[c for c in ops.columns if c not in ("index",)],
        )
        .properties(title=_title(title), height=alt.Step(22))
    )


def _time_scale(domain: tuple[float, float] | None) -> alt.Scale:
    return alt.Scale(domain=list(domain), nice=False) if domain else alt.Scale(zero=False)


def state_gantt(intervals: pd.DataFrame, title: str, unit: str, domain: tuple[float, float] | None = None) -> alt.Chart:
    """Machine states over time: one row per machine, coloured by state."""
    data = intervals.copy()
    data["Machine"] = data["station"] + " #" + (data["machine"] + 1).astype(str)
    data["State"] = data["state"].map(_BY_LABEL)
    rows = list(dict.fromkeys(data["Machine"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("Machine:N", sort=rows, title="Machine"),
            x=alt.X("start:Q", title=f"Time ({unit})", scale=_time_scale(domain)),
            x2="end:Q",
            color=alt.Color("State:N", scale=_STATE_SCALE, legend=alt.Legend(orient="bottom", title="Machine state")),
            tooltip=["Machine:N", "State:N", alt.Tooltip("start:Q", format=".4g"), alt.Tooltip("end:Q", format=".4g")],
        )
        .properties(title=_title(title), height=alt.Step(22))
    )


def histogram(frame: pd.DataFrame, unit: str) -> alt.Chart:
    """Histogram of lead times (``lead_time``)."""
    return (
        alt.Chart(frame)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("lead_time:Q", bin=alt.Bin(maxbins=40), title=f"Lead time ({unit})"),
            y=alt.Y("count():Q", title="Jobs completed"),
        )
        .properties(title=_title("Lead time of completed jobs", "Arrival to completion, after warm-up"), height=260)
    )


def gap_bars(board: pd.DataFrame) -> alt.LayerChart:
    """Mean gap to the best known makespan per method with 95% CI error bars."""
    data = board[["method", "kind", "gap_mean", "gap_ci_low", "gap_ci_high"]].copy()
    for column in ("gap_mean", "gap_ci_low", "gap_ci_high"):
        data[column] = 100 * data[column]
    data["gap_ci_low"] = data["gap_ci_low"].fillna(data["gap_mean"])
    data["gap_ci_high"] = data["gap_ci_high"].fillna(data["gap_mean"])
    order = list(data["method"])
    y = alt.Y("method:N", sort=order, title="Method")
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("gap_mean:Q", title="Gap to best known makespan (%), mean with 95% CI"),
            color=alt.Color(
                "kind:N",
                title="Kind",
                scale=alt.Scale(domain=["solver", "rule", "agent"], range=["#2ca02c", "#7f7f7f", "#9467bd"]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    errors = (
        alt.Chart(data)
        .mark_errorbar(ticks=True, color="black")
        .encode(
            y=y, x=alt.X("gap_ci_low:Q", title="Gap to best known makespan (%), mean with 95% CI"), x2="gap_ci_high:Q"
        )
    )
    return (bars + errors).properties(
        title=_title("Leaderboard: gap to the best known makespan", "Lower is better"), height=alt.Step(30)
    )


def _natural(text: object) -> tuple[str, int]:
    """Sort ``m2`` before ``m10``."""
    value = str(text)
    head = value.rstrip("0123456789")
    tail = value[len(head) :]
    return head, int(tail) if tail else -1
