"""Runs: every stored run and what-if, filtered by scenario and tag; name, tag and delete them.

Sweep points and design runs belong to their studies (deleted with them on the Studies page).
Names and tags go into the run's ``meta.json`` through :mod:`twin.studies.store`; a deletion
asks first and is atomic.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import cache, data, widgets
from twin.studies.store import delete_folder, rename_run, tag_run

config = data.settings()
st.title("Runs")
runs = cache.runs_table(config.runs)
plain = data.pick_runs(runs)
if plain.empty:
    st.info(f"No runs in {config.runs} yet (sweep points and design runs are on the Studies page).")
    st.stop()

filters = st.columns([3, 3])
scenarios = list(dict.fromkeys(plain["scenario"].astype(str)))
chosen = filters[0].multiselect("Scenarios", scenarios, default=[], placeholder="every scenario")
tags = sorted({t for ts in plain["tags"] for t in ts})
chosen_tags = filters[1].multiselect("Tags", tags, default=[], placeholder="any tag", disabled=not tags)
shown = data.pick_runs(plain, chosen or None, tags=chosen_tags or None)
listing = shown[["name", "scenario", "when", "replications", "seed", "kind", "tags", "events", "run_id"]].rename(
    columns={
        "name": "Name", "scenario": "Scenario", "when": "Created (UTC)", "replications": "Replications", "seed": "Seed",
        "kind": "Kind", "tags": "Tags", "events": "Event log", "run_id": "Run id",
    }
)  # fmt: skip
st.dataframe(listing, hide_index=True)
widgets.downloads(listing.assign(Tags=[", ".join(t) for t in listing["Tags"]]), "runs", "runs")
if shown.empty:
    st.stop()

labels = dict(zip(shown["run_id"], shown["name"], strict=True))
paths = dict(zip(shown["run_id"], shown["path"], strict=True))
st.subheader("Name and tag a run")
run_id = st.selectbox("Run", list(shown["run_id"]), format_func=lambda r: f"{labels[r]} — {r}")
current = shown.set_index("run_id").loc[run_id]
with st.form(f"meta-{run_id}"):
    given = "" if current["kind"] == "run" else str(current["name"])
    name = st.text_input("Name", value=given, max_chars=120, help="Empty: the scenario and its changes.")
    tag_text = st.text_input("Tags (comma separated)", value=", ".join(current["tags"]))
    saved = st.form_submit_button("Save name and tags")
if saved:
    rename_run(Path(paths[run_id]), name)
    tag_run(Path(paths[run_id]), tag_text.split(","))
    cache.clear()
    st.success(f"Saved the name and tags of {run_id}.")
    st.rerun()
links = st.columns(2)
links[0].page_link("views/run_detail.py", label="Open its detail", query_params={"run": run_id})
links[1].page_link("views/compare.py", label="Compare it", query_params={"run": [run_id]})

st.subheader("Delete runs")
doomed = st.multiselect("Runs to delete", list(shown["run_id"]), format_func=lambda r: f"{labels[r]} — {r}")


def _delete() -> None:
    for gone in doomed:
        delete_folder(config.runs, Path(paths[gone]))
    cache.clear()


widgets.confirm_delete(f"{len(doomed)} run(s)", [Path(paths[r]) for r in doomed], _delete, key="runs")
