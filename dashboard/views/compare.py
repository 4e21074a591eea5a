"""Compare: stored runs (or the points of a sweep) side by side, with 95% CIs and significance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import cache, charts, data
from twin.measure.kpi import MAIN_KPIS

config = data.settings()
st.title("Compare")
runs = cache.runs_table(config.runs)
if runs.empty:
    st.info(f"No runs in {config.runs} yet. Make one on the What-if page, or with `twin run FILE --out {config.runs}`.")
    st.stop()

sweeps = cache.sweeps_table(config.runs)
mode = st.radio("Compare", ["Runs", "A sweep"] if not sweeps.empty else ["Runs"], horizontal=True)


def show_kpis(table: pd.DataFrame, key: str) -> list[str]:
    """The KPI picker and the table of means, CIs and differences; returns the chosen KPIs."""
    choices = data.kpi_choices(table)
    default = [k for k in MAIN_KPIS if k in choices]
    picked = st.multiselect("KPIs", list(choices), default=default, format_func=lambda k: choices[k], key=f"kpis-{key}")
    st.subheader("KPIs with 95% confidence intervals")
    st.caption(
        "The first run is the baseline. A change is *significant* when its 95% confidence interval excludes zero; "
        "runs with the same replications are compared pairwise (common random numbers)."
    )
    shown = data.kpi_display_table(table, picked)
    if not shown.empty:
        st.table(shown.set_index("KPI"))
    return picked


if mode == "Runs":
    labels = dict(zip(runs["run_id"], runs["name"], strict=True))
    created = dict(zip(runs["run_id"], runs["created"].astype(str).str.slice(0, 16), strict=True))
    ids = list(runs["run_id"])
    selected = st.multiselect(
        "Runs (newest first)",
        ids,
        default=ids[:2][::-1],
        format_func=lambda run_id: f"{labels[run_id]} — {created[run_id]}",
    )
    if not selected:
        st.info("Pick one or more runs.")
        st.stop()
    baseline = st.selectbox("Baseline", selected, format_func=lambda r: str(labels[r]))
    ordered = [baseline, *(r for r in selected if r != baseline)]
    paths = dict(zip(runs["run_id"], runs["path"], strict=True))
    table = cache.compare_table([Path(paths[r]) for r in ordered], {r: labels[r] for r in ordered})
    picked = show_kpis(table, "runs")
    if picked:
        st.subheader("Means with 95% confidence intervals")
        columns = st.columns(2)
        for i, kpi in enumerate(picked):
            rows = table[table["kpi"] == kpi]
            columns[i % 2].altair_chart(charts.kpi_bars(rows, rows["kpi_label"].iloc[0]), width="stretch")
        st.subheader("Spread over replications")
        run_labels = dict(zip(table["run_id"], table["label"], strict=False))
        long = cache.replication_table([Path(paths[r]) for r in ordered], picked, run_labels)
        columns = st.columns(2)
        for i, kpi in enumerate(picked):
            label = table.loc[table["kpi"] == kpi, "kpi_label"].iloc[0]
            columns[i % 2].altair_chart(charts.kpi_boxes(long[long["kpi"] == kpi], label), width="stretch")
else:
    varies = dict(zip(sweeps["sweep_id"].astype(str), sweeps["varied"].astype(str), strict=True))
    sweep_paths = dict(zip(sweeps["sweep_id"].astype(str), sweeps["path"].astype(str), strict=True))
    sweep_id = st.selectbox("Sweep", list(varies), format_func=lambda s: f"{s} (varies {varies[s]})")
    folder = Path(sweep_paths[sweep_id])
    varied, table = cache.sweep_table(folder)
    if table.empty:
        st.info("No point of this sweep has finished yet.")
        st.stop()
    picked = show_kpis(table, "sweep")
    parameter = st.selectbox("Varied parameter (x axis)", varied) if len(varied) > 1 else varied[0]
    columns = st.columns(2)
    for i, kpi in enumerate(picked):
        rows = table[table["kpi"] == kpi].copy()
        others = [v for v in varied if v != parameter]
        series = None
        if others:
            series = ", ".join(others)
            rows[series] = rows[others].astype(str).agg(", ".join, axis=1)
        chart = charts.sweep_line(rows.sort_values(parameter), parameter, rows["kpi_label"].iloc[0], series)
        columns[i % 2].altair_chart(chart, width="stretch")
