"""Scenarios: the library of scenario files, their stations, products, routes and validity."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, data, widgets

config = data.settings()
st.title("Scenarios")
st.caption(f"Scenario files in `{config.scenarios}`")
entries = cache.scenario_library(config.scenarios)
if not entries:
    st.info(f"No scenario files (*.yaml) in {config.scenarios}. Start the dashboard with --scenarios DIR.")
    st.stop()

overview = pd.DataFrame(
    [
        {
            "File": entry.path.name,
            "Scenario": entry.title,
            "Status": "valid" if entry.scenario else f"invalid ({len(entry.problems)} problems)",
            "Products": len(entry.scenario.products) if entry.scenario else None,
            "Stations": len(entry.scenario.stations) if entry.scenario else None,
            "Description": (entry.scenario.description or "") if entry.scenario else "",
        }
        for entry in entries
    ]
)
st.dataframe(overview, hide_index=True)

entry = st.selectbox(
    "Scenario",
    entries,
    format_func=lambda e: f"{e.title} ({e.path.name})" + ("" if e.scenario else " — invalid"),
)
if entry.scenario is None:
    st.error(f"**{entry.path.name} is not a valid scenario.** Each problem, as `twin validate` prints it:")
    st.code("\n".join(entry.problems), language="text")
    st.stop()

scenario = entry.scenario
st.success(f"{entry.path.name} is valid.")
for warning in entry.warnings:
    st.warning(warning)
st.header(scenario.name)
st.page_link(
    "views/editor.py", label="Change it in the Editor", query_params={"file": entry.path.name}, icon=":material/edit:"
)
if scenario.description:
    st.write(scenario.description)
unit = scenario.time_unit
columns = st.columns(4)
columns[0].metric("Horizon", "until all jobs are done" if scenario.horizon is None else f"{scenario.horizon:g} {unit}")
columns[1].metric("Warm-up", f"{scenario.warmup:g} {unit}")
columns[2].metric("Replications", scenario.replications)
columns[3].metric("Seed", scenario.seed)

st.subheader("Stations")
stations = data.stations_table(scenario)
st.dataframe(stations, hide_index=True)
widgets.downloads(stations, f"{scenario.name}-stations", "stations")
st.subheader("Products and routes")
products = data.products_table(scenario)
st.dataframe(products, hide_index=True)
widgets.downloads(products, f"{scenario.name}-products", "products")
st.subheader("Route diagram")
st.caption("Jobs flow from arrivals through the stations of their route to done; edges name the products taking them.")
st.graphviz_chart(data.route_dot(scenario))
