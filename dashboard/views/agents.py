"""Agents: the evaluation leaderboard (agents, rules, CP-SAT) and schedules side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data
from twin.dispatching import rule_names
from twin.jobshop.evaluation import leaderboard
from twin.studies.store import find_evaluations, load_results, load_schedules, read_evaluation

config = data.settings()
st.title("Agents")
st.caption(
    "Scheduling methods on job-shop instances: learned agents, dispatching rules run through the twin, and CP-SAT. "
    "The gap is how far a schedule's makespan is above the best known one."
)


def baseline_form() -> None:
    """Evaluate rules and CP-SAT on instances and store the evaluation."""
    instances = data.jobshop_instances(config.jobshop)
    if not instances:
        st.info(f"No job-shop instances (*.txt) in {config.jobshop}.")
        return
    with st.form("baselines"):
        name = st.text_input("Name", value="baselines")
        default = [i for i in ("ft06", "la01", "la02") if i in instances] or instances[:1]
        chosen = st.multiselect("Instances", instances, default=default)
        rules = st.multiselect(
            "Dispatching rules", rule_names(), default=[r for r in ("fifo", "spt", "mwkr") if r in rule_names()]
        )
        solver = data.cpsat_available()
        limit = st.number_input(
            "CP-SAT time limit per instance (s)",
            min_value=0.0,
            value=5.0 if solver else 0.0,
            disabled=not solver,
            help="0 leaves CP-SAT out." if solver else "OR-Tools is not installed.",
        )
        go = st.form_submit_button("Evaluate")
    if go and chosen:
        bar = st.progress(0.0, text="Evaluating...")
        folder = data.run_baselines(
            config.jobshop,
            chosen,
            rules,
            limit or None,
            config.runs,
            name,
            progress=lambda done, total: bar.progress(done / total, text=f"{done} of {total} schedules"),
        )
        st.success(f"Stored evaluation {folder.name}.")


evaluations = find_evaluations(config.runs)
with st.expander("Evaluate dispatching rules and CP-SAT", expanded=not evaluations):
    baseline_form()
evaluations = find_evaluations(config.runs)
if not evaluations:
    st.info(f"No evaluations in {config.runs}/evaluations yet. Run one above, or with `twin evaluate`.")
    st.stop()

names = {path.name: read_evaluation(path).get("name", path.name) for path in evaluations}
picked = st.multiselect(
    "Evaluations",
    [p.name for p in evaluations][::-1],
    default=[evaluations[-1].name],
    format_func=lambda e: f"{names[e]} ({e})",
)
if not picked:
    st.stop()
folders = {p.name: p for p in evaluations}
results = load_results([folders[e] for e in picked])
board = leaderboard(results)

st.subheader("Leaderboard")
shown = pd.DataFrame(
    {
        "Method": board["method"],
        "Kind": board["kind"],
        "Instances": board["instances"],
        "Mean gap (%)": (100 * board["gap_mean"]).round(2),
        "95% CI (%)": [
            "" if pd.isna(lo) else f"[{100 * lo:.2f}, {100 * hi:.2f}]"
            for lo, hi in zip(board["gap_ci_low"], board["gap_ci_high"], strict=True)
        ],
        "Mean makespan": board["makespan_mean"].round(1),
        "Proven optimal": board["optimal"],
        "Time per decision (ms)": (1000 * board["wall_time_per_decision_s"]).round(3),
    }
)
st.dataframe(shown, hide_index=True)
st.altair_chart(charts.gap_bars(board), width="stretch")

st.subheader("Gap by instance (%)")
by_instance = results.pivot_table(index="instance", columns="method", values="gap", aggfunc="mean") * 100
st.dataframe(by_instance.round(2)[list(board["method"])])

st.subheader("One instance, each method's schedule")
instances = list(dict.fromkeys(results["instance"]))
instance = st.selectbox("Instance", instances)
methods = list(board["method"])
chosen = st.multiselect("Methods", methods, default=methods[:3])
frames = []
for evaluation in picked:
    part = load_schedules(folders[evaluation], instance, seed=None)
    frames.append(part[part["method"].isin(chosen)])
schedules = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
if schedules.empty or not chosen:
    st.info("No schedule of these methods for this instance.")
    st.stop()
first_seed = schedules.groupby("method")["seed"].transform("min")
schedules = schedules[schedules["seed"] == first_seed]
horizon = float(schedules["end"].max())
columns = st.columns(len(chosen))
for column, method in zip(columns, chosen, strict=True):
    ops = schedules[schedules["method"] == method].copy()
    if ops.empty:
        column.info(f"No schedule by {method}.")
        continue
    ops["Machine"] = "m" + ops["machine"].astype(str)
    makespan = float(ops["end"].max())
    chart = charts.gantt(
        ops[["Machine", "job", "operation", "start", "end"]],
        "Machine",
        "job",
        f"{method}: makespan {makespan:g}",
        "time units",
        "Machine",
        "Job",
        domain=(0.0, horizon),
    )
    column.altair_chart(chart, width="stretch")
