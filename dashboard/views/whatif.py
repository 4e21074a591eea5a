"""What-if: a changed scenario run against its base (the Editor's "Run and compare"): what
was changed, what it does (a verdict and a card per KPI) and the KPI table."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from dashboard import cache, data, widgets
from twin.measure.kpi import MAIN_KPIS
from twin.scenario import load_warnings
from twin.studies.verdicts import sentence

config = data.settings()
st.title("What-if")
st.caption("A changed scenario against the scenario as it was, with the same seed and replications.")
runs = cache.runs_table(config.runs)
whatifs = runs[runs["kind"] == "what-if"]
if whatifs.empty:
    st.info("No what-if runs yet. Change a scenario in the Editor and press **Run and compare**.")
    st.page_link("views/editor.py", label="Open the Editor", icon=":material/edit:")
    st.stop()

labels = dict(zip(runs["run_id"], runs["name"], strict=True))
paths = dict(zip(runs["run_id"], runs["path"], strict=True))
ids = list(whatifs["run_id"])
wanted = st.query_params.get("run")
run_id = st.selectbox(
    "What-if run (newest first)",
    ids,
    index=ids.index(wanted) if wanted in ids else 0,
    format_func=lambda r: f"{labels[r]} — {r}",
)
row = whatifs.set_index("run_id").loc[run_id]
overrides = json.loads(row["overrides"]) if isinstance(row["overrides"], str) else {}
bases = data.pick_runs(
    runs[(runs["scenario"] == row["scenario"]) & (runs["run_id"] != run_id)], kinds=("run", "what-if")
)
same = bases[(bases["seed"] == row["seed"]) & (bases["replications"] == row["replications"])]
candidates = list(same["run_id"]) + [r for r in bases["run_id"] if r not in set(same["run_id"])]
preferred = st.query_params.get("base")
changed = dict(zip(runs["run_id"], runs["overrides"], strict=True))
unchanged = [r for r in candidates if changed[r] in ("{}", None)]
default = preferred if preferred in candidates else (unchanged[0] if unchanged else None)
if not candidates:
    st.warning("No other run of this scenario to compare with; run the base from the Editor.")
    st.stop()
base_id = st.selectbox(
    "Compared with",
    candidates,
    index=candidates.index(default) if default in candidates else 0,
    format_func=lambda r: f"{labels[r]} — {r}",
)
st.query_params["run"], st.query_params["base"] = run_id, base_id

st.subheader("What was changed")
if overrides:
    st.dataframe(
        [{"Setting": path, "Now": json.dumps(value)} for path, value in overrides.items()],
        hide_index=True,
    )
else:
    st.write("Nothing: the scenario as it is.")
scenario = cache.run_scenario(Path(paths[run_id]))
for line in load_warnings(scenario):
    st.warning(f"warning: {line}. Its means grow with the horizon: read them as a sign of overload, not as levels.")

table = cache.verdicts_table(
    [Path(paths[base_id]), Path(paths[run_id])], {base_id: labels[base_id], run_id: labels[run_id]}
)
shown_labels = dict(zip(table["run_id"], table["label"], strict=False))
unit = str(table["time_unit"].iloc[0])
choices = data.kpi_choices(table)
picked = st.multiselect(
    "KPIs", list(choices), default=[k for k in MAIN_KPIS if k in choices], format_func=lambda k: choices[k]
)
if picked:
    st.subheader("Verdict")
    st.markdown(f"**{sentence(table, run_id, shown_labels, picked, unit)}**")
    widgets.verdict_cards(table, run_id, picked)
    shown = data.kpi_display_table(table, picked)
    st.table(shown.set_index("KPI"))
    widgets.downloads(shown.set_index("KPI"), f"what-if-{labels[run_id]}", "whatif")
links = st.columns(3)
links[0].page_link("views/compare.py", label="Compare with other runs", query_params={"run": [base_id, run_id]})
links[1].page_link("views/run_detail.py", label="Machine states, WIP and Gantt chart", query_params={"run": run_id})
links[2].page_link("views/editor.py", label="Change it further in the Editor")
