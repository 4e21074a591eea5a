"""Run detail: machine states, WIP and buffer levels, a Gantt chart and lead times of one run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import cache, charts, data, widgets
from twin.measure.kpi import MAIN_KPIS
from twin.measure.timeline import buffer_levels, lead_times, operations, state_intervals, state_shares, wip_levels

MAX_BARS = 4000  # Gantt bars drawn at most: browsers slow down with more; a longer window asks to be narrowed.

config = data.settings()
st.title("Run detail")
runs = cache.runs_table(config.runs)
if runs.empty:
    st.info(f"No runs in {config.runs} yet. Make one in the Editor (Run and compare).")
    st.stop()

labels = dict(zip(runs["run_id"], runs["name"], strict=True))
paths = dict(zip(runs["run_id"], runs["path"], strict=True))
with_events = dict(zip(runs["run_id"], runs["events"], strict=True))
wanted = st.query_params.get("run")
filters = st.columns([3, 2])
chosen = filters[0].multiselect(
    "Scenarios", list(dict.fromkeys(runs["scenario"].astype(str))), default=[], placeholder="every scenario"
)
more = filters[1].toggle("Study points and design runs", value=False)
shown = data.pick_runs(runs, chosen or None, data.RUN_KINDS if more else ("run", "what-if"))
ids = list(shown["run_id"]) + ([wanted] if wanted in paths and wanted not in set(shown["run_id"]) else [])
if not ids:
    st.info("No run matches these filters.")
    st.stop()
run_id = st.selectbox(
    "Run (newest first)",
    ids,
    index=ids.index(wanted) if wanted in ids else next((i for i, r in enumerate(ids) if with_events[r]), 0),
    format_func=lambda r: f"{labels[r]} — {r}" + ("" if with_events[r] else " (no event log)"),
)
run = Path(paths[run_id])
scenario = cache.run_scenario(run)
unit = scenario.time_unit
stations = list(scenario.stations)

table = cache.verdicts_table([run], {run_id: labels[run_id]})
means = dict(zip(table["kpi"], table["mean"], strict=True))
summary = data.kpi_display_table(table, list(MAIN_KPIS))
st.dataframe(summary, hide_index=True)
widgets.downloads(data.kpi_display_table(table), f"kpis-{labels[run_id]}", "kpis")
left, right = st.columns(2)
left.altair_chart(charts.state_bars(state_shares(means, stations)), width="stretch")
oee = data.oee_table(means, stations)
if not oee.empty:
    right.altair_chart(charts.oee_bars(oee), width="stretch")
    right.caption(
        "Availability: planned time not lost to breakdowns or setups. Performance: ideal (mean) process time of "
        "the output over the time left (starving, blocking and slow cycles lower it). Quality: good share of the "
        "output. OEE is their product."
    )

if not with_events[run_id]:
    st.info(
        "This run was stored without its event log, so there is no timeline. Runs from the What-if page keep it; "
        "on the command line add `--events` to `twin run --out`."
    )
    st.stop()

replications = int(runs.loc[runs["run_id"] == run_id, "replications"].iloc[0])
replication = st.selectbox("Replication", list(range(replications)), format_func=lambda r: f"replication {r + 1}")
events = cache.events(run, replication)
if events.empty:
    st.info("This replication logged no events.")
    st.stop()
end = float(scenario.horizon if scenario.horizon is not None else events["time"].max())
warmup = min(float(scenario.warmup), end)

edges = np.linspace(0.0, end, 201) if end > 0 else np.array([0.0, 1.0])
st.subheader("Work in process and buffers over time")
left, right = st.columns(2)
left.altair_chart(
    charts.level_lines(wip_levels(events, edges), "wip", "Work in process", "Jobs in the plant", unit),
    width="stretch",
)
levels = buffer_levels(events, edges, stations)
right.altair_chart(
    charts.level_lines(levels, "level", "Buffer levels", "Jobs waiting in buffer", unit, color="station"),
    width="stretch",
)

st.subheader("Output over time")
period = st.radio("Per", ["shift", "day"], horizontal=True, key="period")
output = data.output_table(events, scenario, end, period)
if output is None:
    st.info(f"The time unit `{unit}` is not a unit of time the twin knows (s, min, h, d): no shifts or days.")
else:
    st.altair_chart(charts.output_bars(output, unit, period), width="stretch")
    widgets.downloads(output, f"output-per-{period}", "output")

ops = operations(events).dropna(subset=["end"])
if scenario.horizon is None:
    st.subheader("Whole schedule")
    makespan = float(ops["end"].max()) if not ops.empty else 0.0
    whole = ops.assign(job=ops["product"])
    st.altair_chart(
        charts.gantt(
            whole,
            "station",
            "job",
            f"Schedule of all jobs (makespan {makespan:g} {unit})",
            unit,
            "Station",
            "Job",
            row_order=stations,
        ),
        width="stretch",
    )

st.subheader("Gantt chart of a time window")
default_end = end if scenario.horizon is None else min(end, warmup + max((end - warmup) / 40, 1.0))
window = st.slider(
    f"Time window ({unit})",
    min_value=0.0,
    max_value=max(end, 1.0),
    value=(warmup if scenario.horizon else 0.0, default_end),
)
shown = ops[(ops["end"] > window[0]) & (ops["start"] < window[1])].copy()
if len(shown) > MAX_BARS:
    st.warning(
        f"{len(shown):,} operations in this window; showing the first {MAX_BARS:,}. Narrow the window to see all."
    )
    shown = shown.nsmallest(MAX_BARS, "start")
shown["start"] = shown["start"].clip(lower=window[0])
shown["end"] = shown["end"].clip(upper=window[1])
shown["Machine"] = shown["station"] + " #" + (shown["machine"] + 1).astype(str)
st.altair_chart(
    charts.gantt(
        shown[["Machine", "product", "job", "operation", "start", "end"]],
        "Machine",
        "product",
        f"Jobs on machines, {window[0]:g} to {window[1]:g} {unit}",
        unit,
        "Machine",
        "Product",
        domain=window,
        row_order=[f"{name} #{m + 1}" for name, spec in scenario.stations.items() for m in range(spec.machines)],
    ),
    width="stretch",
)
intervals = state_intervals(events, end)
inside = intervals[(intervals["end"] > window[0]) & (intervals["start"] < window[1])].copy()
inside["start"] = inside["start"].clip(lower=window[0])
inside["end"] = inside["end"].clip(upper=window[1])
st.altair_chart(
    charts.state_gantt(inside.head(MAX_BARS), f"Machine states, {window[0]:g} to {window[1]:g} {unit}", unit, window),
    width="stretch",
)

st.subheader("Lead times")
leads = lead_times(events, warmup)
if leads.empty:
    st.info("No job was completed after the warm-up in this replication.")
else:
    st.altair_chart(charts.histogram(leads, unit), width="stretch")
