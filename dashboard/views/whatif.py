"""What-if: change machines, buffers, rules and demand of a scenario, run it, store it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import cache, data
from twin.dispatching import rule_names
from twin.errors import ScenarioError
from twin.measure.kpi import MAIN_KPIS
from twin.studies.whatif import run_whatif, whatif_overrides

config = data.settings()
st.title("What-if")
st.caption(f"Run a changed scenario and store it as a named run in `{config.runs}`.")
entries = [e for e in cache.scenario_library(config.scenarios) if e.scenario is not None]
if not entries:
    st.info(f"No valid scenario files in {config.scenarios}.")
    st.stop()

entry = st.selectbox("Scenario", entries, format_func=lambda e: f"{e.title} ({e.path.name})")
scenario = entry.scenario
if scenario is None:  # the library lists only valid scenarios here
    st.stop()
unit = scenario.time_unit
rules = rule_names()

with st.form("whatif"):
    top = st.columns([3, 1, 1])
    name = top[0].text_input("Name of the run", value=f"{scenario.name} what-if", max_chars=120)
    replications = top[1].number_input("Replications", min_value=1, max_value=100, value=min(scenario.replications, 5))
    seed = top[2].number_input("Seed", min_value=0, value=scenario.seed)
    demand = st.slider(
        "Demand: arrival rate (% of the scenario's)",
        min_value=50,
        max_value=150,
        value=100,
        step=5,
        help="Scales every product's time between arrivals; 120% means 20% more jobs per time unit.",
    )
    st.markdown("**Stations**: machines, buffer (empty = unlimited) and dispatching rule")
    machines, buffers, chosen = {}, {}, {}
    for station_name, station in scenario.stations.items():
        row = st.columns([2, 1, 1, 1])
        row[0].markdown(f"`{station_name}`  \n{station.description or ''}")
        machines[station_name] = int(
            row[1].number_input("Machines", min_value=1, max_value=50, value=station.machines, key=f"m-{station_name}")
        )
        buffer = row[2].number_input(
            "Buffer (jobs)",
            min_value=0,
            max_value=10_000,
            value=station.buffer,
            placeholder="unlimited",
            key=f"b-{station_name}",
        )
        buffers[station_name] = None if buffer is None else int(buffer)
        chosen[station_name] = row[3].selectbox(
            "Dispatching", rules, index=rules.index(station.dispatching), key=f"r-{station_name}"
        )
    submitted = st.form_submit_button("Run what-if", type="primary")

if submitted:
    overrides = whatif_overrides(scenario, machines, buffers, chosen, demand=demand / 100)
    bar = st.progress(0.0, text="Simulating...")
    total = int(replications)

    def progress(done: int) -> None:
        bar.progress(done / total, text=f"Replication {done} of {total} done")

    try:
        run = run_whatif(scenario, overrides, config.runs, name.strip() or scenario.name, total, int(seed), progress)
    except ScenarioError as error:
        bar.empty()
        st.error("These changes make an invalid scenario:")
        st.code("\n".join(str(p) for p in error.problems), language="text")
        st.stop()
    bar.progress(1.0, text="Done")
    st.session_state["last_run"] = (str(run), name)
    changes = (
        ", ".join(f"{path} = {value}" for path, value in overrides.items()) or "no changes (the scenario as it is)"
    )
    st.success(f"Stored run **{name}** ({run.name}) with {changes}.")

if "last_run" in st.session_state:
    last, last_name = st.session_state["last_run"]
    table = cache.compare_table([Path(last)], {Path(last).name: last_name})
    st.subheader("Result of the last run")
    st.dataframe(data.kpi_display_table(table, list(MAIN_KPIS)), hide_index=True)
    links = st.columns(2)
    links[0].page_link("views/compare.py", label="Compare it with other runs")
    links[1].page_link(
        "views/run_detail.py",
        label="See its machine states, WIP and Gantt chart",
        query_params={"run": Path(last).name},
    )
