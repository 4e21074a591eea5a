"""Agents: the evaluation leaderboard (agents, rules, CP-SAT) and schedules side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, widgets
from twin.dispatching import rule_names
from twin.jobshop.evaluation import leaderboard
from twin.measure.labels import format_number, kpi_noun
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
folders = {p.name: p for p in evaluations}
kinds = {e: data.evaluation_kpi(load_results([folders[e]])) for e in folders}
newest = evaluations[-1].name
picked = st.multiselect(
    "Evaluations (of one kind: job-shop instances, or one scenario's KPI)",
    [p.name for p in evaluations][::-1],
    default=[newest],
    format_func=lambda e: f"{names[e]} ({e})" + (f" — scenario, scored by {kinds[e]}" if kinds[e] else ""),
)
if not picked:
    st.stop()
if len({kinds[e] for e in picked}) > 1:
    st.warning("These evaluations score different things (makespan gaps, scenario KPIs): pick evaluations of one kind.")
    st.stop()
results = load_results([folders[e] for e in picked])
kpi = kinds[picked[0]]

if kpi is not None:
    st.subheader(f"Leaderboard on {kpi_noun(kpi).capitalize()}")
    st.caption(
        f"Each method ran the scenario once per seed ({results['seed'].nunique()} seeds, the same for every method: "
        "common random numbers, so the comparison is paired). Intervals respect the KPI's range; the ranking "
        "accounts for the multiple comparisons."
    )
    try:
        ranking = data.method_ranking(results, kpi)
    except ValueError as error:
        st.info(f"No ranking: {error}.")
        board = results.groupby("method", sort=False)["value"].mean().rename(kpi_noun(kpi).capitalize()).reset_index()
        st.dataframe(board, hide_index=True)
        st.stop()
    st.markdown(ranking.sentence(kpi_noun(kpi)))
    shown = data.ranking_display(ranking).rename(columns={"Run": "Method"})
    seeds = results.groupby("method")["seed"].nunique()
    shown.insert(2, "Seeds", [int(seeds[m]) for m in ranking.table["run_id"]])
    st.dataframe(shown, hide_index=True)
    widgets.downloads(shown, f"leaderboard-{kpi}", "board")
    st.altair_chart(charts.method_bars(ranking.table, kpi_noun(kpi).capitalize()), width="stretch")
    st.subheader("Per seed")
    per_seed = results.pivot_table(index="seed", columns="method", values="value", aggfunc="mean")
    per_seed = per_seed[[m for m in ranking.table["run_id"] if m in per_seed.columns]]
    st.dataframe(per_seed)
    widgets.downloads(per_seed, f"{kpi}-per-seed", "seeds")
    st.info("Scenario evaluations keep no schedules: job-shop evaluations (instances) show them side by side.")
    st.stop()

board = leaderboard(results)
st.subheader("Leaderboard")
shown = pd.DataFrame(
    {
        "Method": board["method"],
        "Kind": board["kind"],
        "Instances": board["instances"],
        "Episodes": board["episodes"],
        "Mean gap (%)": [format_number(100 * g) for g in board["gap_mean"]],
        "95% CI (%)": [
            "" if pd.isna(lo) else f"[{format_number(100 * max(lo, 0.0), 3)}, {format_number(100 * hi, 3)}]"
            for lo, hi in zip(board["gap_ci_low"], board["gap_ci_high"], strict=True)
        ],
        "Mean makespan": [format_number(m) for m in board["makespan_mean"]],
        "Proven optimal": board["optimal"],
        "Time per decision (ms)": [format_number(1000 * t, 3) for t in board["wall_time_per_decision_s"]],
    }
)
st.dataframe(shown, hide_index=True)
widgets.downloads(shown, "leaderboard", "board")
st.altair_chart(charts.gap_bars(board), width="stretch")

st.subheader("Gap by instance (%)")
by_instance = results.pivot_table(index="instance", columns="method", values="gap", aggfunc="mean") * 100
by_instance = by_instance[[m for m in board["method"] if m in by_instance.columns]].round(2)
st.dataframe(by_instance)
widgets.downloads(by_instance, "gap-by-instance", "instances")

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
