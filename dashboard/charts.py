"""Altair charts for managers: every chart has a title, axes in words with units, and the
same colour for a machine state everywhere (:data:`twin.measure.labels.STATE_COLORS`)."""

from __future__ import annotations

from typing import Literal

import altair as alt
import pandas as pd

from twin.measure.labels import STATE_COLORS
from twin.sim.log import MachineState
from twin.studies.report import EFFECT_COLORS

__all__ = [
    "GANTT_COLORS",
    "OEE_WORDS",
    "STATE_WORDS",
    "fan_chart",
    "floor_chart",
    "gantt",
    "gap_bars",
    "histogram",
    "kpi_bars",
    "kpi_boxes",
    "level_lines",
    "method_bars",
    "oee_bars",
    "output_bars",
    "pareto",
    "state_bars",
    "state_gantt",
    "sweep_line",
    "tornado",
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
_EFFECTS = ["baseline", "better", "worse", "changed", "no significant change", "n/a"]


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=subtitle or alt.Undefined, anchor="start", fontSize=15, offset=6)


def kpi_bars(rows: pd.DataFrame, label: str) -> alt.LayerChart:
    """Each run's mean of one KPI (rows of a verdicts table) with its 95% CI as error bars,
    coloured by the verdict against the baseline: green better, red worse, grey not
    significant (and the baseline)."""
    data = rows[["run_id", "label", "mean", "ci_low", "ci_high", "effect"]].copy()
    data["versus baseline"] = data["effect"]
    present = [e for e in _EFFECTS if e in set(data["effect"])]
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
                scale=alt.Scale(domain=present, range=[EFFECT_COLORS[e] for e in present]),
                legend=alt.Legend(orient="bottom", title=None, columns=1),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Run"),
                alt.Tooltip("mean:Q", title="Mean", format=",.4~g"),
                alt.Tooltip("ci_low:Q", title="95% CI low", format=",.4~g"),
                alt.Tooltip("ci_high:Q", title="95% CI high", format=",.4~g"),
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
    sweep; one line per value of ``series`` when other parameters vary too.

    Parameter paths have dots (``stations.m2.buffer``), which Altair would read as nested
    fields: the data goes to the chart under plain column names, the path only as a title."""
    data = pd.DataFrame(
        {
            "x": rows[parameter].to_numpy(),
            "mean": rows["mean"].to_numpy(float),
            "ci_low": rows["ci_low"].fillna(rows["mean"]).to_numpy(float),
            "ci_high": rows["ci_high"].fillna(rows["mean"]).to_numpy(float),
            "series": rows[series].astype(str).to_numpy() if series else "",
        }
    )
    numeric = pd.api.types.is_numeric_dtype(data["x"])
    x = alt.X(
        f"x:{'Q' if numeric else 'O'}",
        title=parameter,
        scale=alt.Scale(zero=False) if numeric else alt.Undefined,
        axis=alt.Axis(labelLimit=200, tickMinStep=1 if numeric and _whole(data["x"]) else alt.Undefined),
    )
    color = (
        alt.Color("series:N", title=series, legend=alt.Legend(orient="bottom", labelLimit=300))
        if series
        else alt.value("#1f4e9a")
    )
    tooltip = [
        alt.Tooltip("x", title=parameter),
        alt.Tooltip("mean:Q", title="Mean", format=",.4~g"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=",.4~g"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=",.4~g"),
    ]
    line = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(x=x, y=alt.Y("mean:Q", title=label, scale=alt.Scale(zero=False)), color=color, tooltip=tooltip)
    )
    errors = (
        alt.Chart(data)
        .mark_errorbar(ticks=True)
        .encode(x=x, y=alt.Y("ci_low:Q", title=label), y2="ci_high:Q", color=color)
    )
    return (line + errors).properties(
        title=_title(f"{label} against {parameter}", "Mean and 95% CI per point"), height=260
    )


def _whole(values: pd.Series) -> bool:
    return bool(((values.astype(float) % 1) == 0).all())


def tornado(bars: pd.DataFrame, label: str, centre: float) -> alt.LayerChart:
    """Sensitivity: per parameter a bar from its lowest to its highest main effect on a KPI
    (rows of :func:`twin.studies.sensitivity.tornado`), widest first, around ``centre``
    (the mean over every point)."""
    data = bars.assign(
        parameter_label=bars["parameter"].astype(str),
        range_text=[
            f"{lo} → {hi}" for lo, hi in zip(bars["low_level"].astype(str), bars["high_level"].astype(str), strict=True)
        ],
    )[["parameter_label", "low", "high", "swing", "range_text"]]
    order = list(data["parameter_label"])
    y = alt.Y("parameter_label:N", sort=order, title="Varied parameter", axis=alt.Axis(labelLimit=320))
    bars_chart = (
        alt.Chart(data)
        .mark_bar(color="#4c78a8", height=18)
        .encode(
            y=y,
            x=alt.X("low:Q", title=label, scale=alt.Scale(zero=False)),
            x2="high:Q",
            tooltip=[
                alt.Tooltip("parameter_label:N", title="Parameter"),
                alt.Tooltip("low:Q", title="Lowest mean", format=",.4~g"),
                alt.Tooltip("high:Q", title="Highest mean", format=",.4~g"),
                alt.Tooltip("swing:Q", title="Swing", format=",.4~g"),
                alt.Tooltip("range_text:N", title="Levels (lowest → highest mean)"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"centre": [centre]})).mark_rule(color="black", strokeDash=[4, 3]).encode(x="centre:Q")
    )
    return (bars_chart + rule).properties(
        title=_title(f"Sensitivity of {label}", "Range of the mean over each parameter's values (main effects)"),
        height=alt.Step(34),
    )


def pareto(designs: pd.DataFrame, label: str) -> alt.LayerChart:
    """Every evaluated design (``cost``, ``mean``, ``ci_low``, ``ci_high``, ``front``,
    ``best``, ``design``) as a point with its 95% CI, the Pareto front as a step line, the
    best designs ringed."""
    data = designs[["cost", "mean", "ci_low", "ci_high", "front", "best", "design"]].copy()
    data["ci_low"] = data["ci_low"].fillna(data["mean"])
    data["ci_high"] = data["ci_high"].fillna(data["mean"])
    data["kind"] = [
        "best" if b else "on the front" if f else "dominated" for f, b in zip(data["front"], data["best"], strict=True)
    ]
    x = alt.X("cost:Q", title="Cost of the design")
    y = alt.Y("mean:Q", title=label, scale=alt.Scale(zero=False))
    points = (
        alt.Chart(data)
        .mark_circle(size=45)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["best", "on the front", "dominated"], range=["#d62728", "#1f4e9a", "#a6c3e8"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("design:N", title="Design"),
                alt.Tooltip("cost:Q", title="Cost", format=",.4~g"),
                alt.Tooltip("mean:Q", title="Mean", format=",.4~g"),
                alt.Tooltip("ci_low:Q", title="95% CI low", format=",.4~g"),
                alt.Tooltip("ci_high:Q", title="95% CI high", format=",.4~g"),
            ],
        )
    )
    front = data[data["front"]].sort_values("cost")
    line = alt.Chart(front).mark_line(interpolate="step-after", color="#1f4e9a").encode(x=x, y=y)
    errors = (
        alt.Chart(front)
        .mark_errorbar(ticks=True, color="#1f4e9a")
        .encode(x=x, y=alt.Y("ci_low:Q", title=label), y2="ci_high:Q")
    )
    return (points + line + errors).properties(
        title=_title(f"{label} against cost", "Every design; the Pareto front joined, with 95% CIs"), height=320
    )


def output_bars(output: pd.DataFrame, unit: str, period: str) -> alt.Chart:
    """Jobs completed per period (``start``, ``end``, ``completed``, ``label``) as bars."""
    return (
        alt.Chart(output)
        .mark_bar(color="#2ca02c")
        .encode(
            x=alt.X(
                "label:N",
                sort=list(output["label"]),
                title=f"{period.capitalize()} (from {unit} 0)",
                axis=alt.Axis(labelAngle=-45, labelLimit=160),
            ),
            y=alt.Y("completed:Q", title="Jobs completed"),
            tooltip=[
                alt.Tooltip("label:N", title=period.capitalize()),
                alt.Tooltip("start:Q", title=f"From ({unit})", format=",.4~g"),
                alt.Tooltip("end:Q", title=f"To ({unit})", format=",.4~g"),
                alt.Tooltip("completed:Q", title="Jobs completed", format=","),
            ],
        )
        .properties(
            title=_title(f"Output per {period}", "Jobs completed in each period of one replication"), height=240
        )
    )


OEE_WORDS = {"availability": "availability", "performance": "performance", "quality": "quality", "oee": "OEE"}
"""OEE and its factors in words, in chart order."""


def oee_bars(oee: pd.DataFrame) -> alt.Chart:
    """Per station its OEE and the three factors whose product it is (``station``,
    ``factor``, ``value`` with the factor names of :data:`OEE_WORDS`), as grouped bars."""
    data = oee.assign(Factor=oee["factor"].map(OEE_WORDS), Percent=100 * oee["value"])
    stations = list(dict.fromkeys(oee["station"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("Factor:N", sort=list(OEE_WORDS.values()), title=None, axis=alt.Axis(labels=False, ticks=False)),
            x=alt.X("Percent:Q", title="Percent", scale=alt.Scale(domain=[0, 100])),
            row=alt.Row(
                "station:N",
                sort=stations,
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=200),
            ),
            color=alt.Color(
                "Factor:N",
                sort=list(OEE_WORDS.values()),
                scale=alt.Scale(domain=list(OEE_WORDS.values()), range=["#4c78a8", "#f58518", "#54a24b", "#222222"]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["station:N", "Factor:N", alt.Tooltip("Percent:Q", format=".1f")],
        )
        .properties(height=alt.Step(11), title=_title("OEE by station", "Mean over replications, after warm-up"))
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
            color=alt.Color(
                "State:N", scale=_STATE_SCALE, legend=alt.Legend(orient="bottom", title="Machine state", columns=3)
            ),
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


GANTT_COLORS = 20
"""Distinct colours a Gantt chart uses at most; more jobs are coloured by group."""


def gantt(
    ops: pd.DataFrame,
    row: str,
    color: str,
    title: str,
    unit: str,
    row_title: str,
    color_title: str,
    domain: tuple[float, float] | None = None,
    row_order: list[str] | None = None,
) -> alt.Chart:
    """Operations as bars from ``start`` to ``end`` on one row per ``row``, coloured by
    ``color`` with a legend of every value; past :data:`GANTT_COLORS` values they are coloured
    (and the legend is) by consecutive groups (``jobs 0-9``), each bar's tooltip still naming
    its own. ``domain`` fixes the time axis (a window, or one scale for several schedules);
    ``row_order`` orders the rows (a scenario's stations in route order), else natural order."""
    present = set(ops[row])
    rows = (
        [r for r in row_order if r in present] + sorted(present - set(row_order), key=_natural)
        if row_order is not None
        else sorted(dict.fromkeys(ops[row]), key=_natural)
    )
    values = sorted(dict.fromkeys(ops[color]), key=_natural)
    data = ops.copy()
    legend_title = color_title
    if len(values) > GANTT_COLORS:
        size = -(-len(values) // 10)
        groups = {
            v: f"{values[i - i % size]} to {values[min(i - i % size + size, len(values)) - 1]}"
            for i, v in enumerate(values)
        }
        data["colour group"] = data[color].map(groups)
        color, legend_title = "colour group", f"{color_title} (groups)"
        values = list(dict.fromkeys(groups.values()))
    scheme: Literal["tableau10", "category20"] = "tableau10" if len(values) <= 10 else "category20"
    return (
        alt.Chart(data)
        .mark_bar(stroke="white", strokeWidth=0.3)
        .encode(
            y=alt.Y(f"{row}:N", sort=rows, title=row_title, axis=alt.Axis(labelLimit=200)),
            x=alt.X("start:Q", title=f"Time ({unit})", scale=_time_scale(domain)),
            x2="end:Q",
            color=alt.Color(
                f"{color}:N",
                title=legend_title,
                sort=values,
                scale=alt.Scale(scheme=scheme, domain=values),
                legend=alt.Legend(orient="bottom", columns=10, labelLimit=160, symbolLimit=0),
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
            color=alt.Color(
                "State:N", scale=_STATE_SCALE, legend=alt.Legend(orient="bottom", title="Machine state", columns=3)
            ),
            tooltip=[
                "Machine:N",
                "State:N",
                alt.Tooltip("start:Q", format=",.4~g"),
                alt.Tooltip("end:Q", format=",.4~g"),
            ],
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


def method_bars(table: pd.DataFrame, label: str) -> alt.LayerChart:
    """Each method's mean of a KPI with its 95% CI (rows of a ranking table, best first); the
    methods that may be the best dark, the others light."""
    data = table[["label", "mean", "ci_low", "ci_high", "in_subset"]].copy()
    data["ci_low"] = data["ci_low"].fillna(data["mean"])
    data["ci_high"] = data["ci_high"].fillna(data["mean"])
    data["verdict"] = ["may be the best" if s else "worse than the best" for s in data["in_subset"]]
    y = alt.Y("label:N", sort=list(data["label"]), title="Method", axis=alt.Axis(labelLimit=260))
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("mean:Q", title=label),
            color=alt.Color(
                "verdict:N",
                title=None,
                scale=alt.Scale(domain=["may be the best", "worse than the best"], range=["#1f4e9a", "#a6c3e8"]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    errors = (
        alt.Chart(data)
        .mark_errorbar(ticks=True, color="black")
        .encode(y=y, x=alt.X("ci_low:Q", title=label), x2="ci_high:Q")
    )
    return (bars + errors).properties(title=_title(label, "Mean over seeds with 95% CI"), height=alt.Step(30))


def _natural(text: object) -> tuple[str, int]:
    """Sort ``m2`` before ``m10``."""
    value = str(text)
    head = value.rstrip("0123456789")
    tail = value[len(head) :]
    return head, int(tail) if tail else -1


_FLAG_EDGES = {"late": "#d62728", "at risk": "#ff7f0e"}
"""Border of a machine's tile whose job is late or at risk (white otherwise)."""


def floor_chart(machines: pd.DataFrame, buffers: pd.DataFrame, flags: dict[str, str]) -> alt.VConcatChart:
    """The plant as its stations in route order: each station's machines as tiles coloured
    by state (the job on it written in; a red border when it is late, orange when at risk),
    and under them its buffer filling up towards its capacity (``dashboard.live_data`` tables)."""
    order = list(buffers["station"])
    flag = [flags.get(str(job), "") for job in machines["job"]]
    tiles = machines.assign(
        State=machines["state"].map(_BY_LABEL).fillna(machines["state"]),
        flag=flag,
        edge=[_FLAG_EDGES.get(f, "white") for f in flag],
        label=[
            f"{m}: job {job}" if job else str(m) for m, job in zip(machines["machine"], machines["job"], strict=True)
        ],
    )
    x = alt.X("station:N", sort=order, title=None, axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=13))
    base = alt.Chart(tiles).encode(x=x, y=alt.Y("machine:N", title="machine", sort="ascending"))
    boxes = base.mark_rect(strokeWidth=5, cornerRadius=4).encode(
        color=alt.Color("State:N", scale=_STATE_SCALE, legend=alt.Legend(orient="bottom", title="Machine state")),
        stroke=alt.Stroke("edge:N", scale=None),
        tooltip=["station", "machine", "state", "since", "job", "flag"],
    )
    names = base.mark_text(fontSize=13, fontWeight="bold", color="white").encode(text="label:N")
    room = buffers.assign(
        full=[bool(f is not None and f == f and f >= 1) for f in buffers["fill"]],
    )
    capacities = pd.to_numeric(room["capacity"], errors="coerce")
    scale = max(1.0, float(capacities.max(skipna=True) if capacities.notna().any() else 0), room["waiting"].max())
    buffer = alt.Chart(room).encode(x=alt.X("station:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)))
    bars = buffer.mark_bar(size=40).encode(
        y=alt.Y("waiting:Q", title="jobs in buffer", scale=alt.Scale(domain=[0, scale])),
        color=alt.condition("datum.full", alt.value("#d62728"), alt.value("#4c78a8")),
        tooltip=["station", "waiting", "capacity"],
    )
    caps = buffer.mark_tick(color="black", thickness=2, size=50).encode(y="capacity:Q")
    counts = buffer.mark_text(dy=-8).encode(y="waiting:Q", text=alt.Text("waiting:Q"))
    height = max(80, 45 * machines.groupby("station").size().max()) if len(machines) else 80
    return alt.vconcat(
        (boxes + names).properties(height=height, title=_title("Machines by station, in route order")),
        (bars + caps + counts).properties(
            height=160, title=_title("Buffers", "jobs waiting; black tick: capacity; red: full")
        ),
    ).resolve_scale(color="independent")


def fan_chart(fan: pd.DataFrame, unit: str) -> alt.LayerChart:
    """The forecast's completions per bin of the horizon: the P10-P90 band and the median."""
    band = alt.Chart(fan).mark_area(opacity=0.3, color="#1f77b4", interpolate="step-after")
    x = alt.X("start:Q", title=f"time ({unit})")
    median = alt.Chart(fan).mark_line(color="#1f77b4", interpolate="step-after").encode(x=x, y="p50:Q")
    tooltip = ["start", "p10", "p50", "p90"]
    return (
        band.encode(x=x, y=alt.Y("p10:Q", title="jobs completed per bin"), y2="p90:Q", tooltip=tooltip) + median
    ).properties(height=220, title=_title("Forecast: completions", "band P10-P90, line median"))
