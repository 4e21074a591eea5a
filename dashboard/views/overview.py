"""Overview: what is in the run store, newest first, with a way into every page."""

from __future__ import annotations

import streamlit as st

from dashboard import cache, data

config = data.settings()
st.title("Overview")
st.caption(f"Run store `{config.runs}` · scenario library `{config.scenarios}`")
runs = cache.runs_table(config.runs)
studies = cache.studies_table(config.runs)
plain = data.pick_runs(runs)
counts = st.columns(4)
counts[0].metric("Runs and what-ifs", f"{len(plain):,}")
counts[1].metric("Studies", f"{len(studies):,}")
counts[2].metric("Study points and designs", f"{len(runs) - len(plain):,}")
counts[3].metric("Scenarios run", f"{runs['scenario'].nunique():,}")

links = st.columns(4)
links[0].page_link("views/editor.py", label="Change a scenario and run it", icon=":material/edit:")
links[1].page_link("views/compare.py", label="Compare runs", icon=":material/compare_arrows:")
links[2].page_link("views/studies.py", label="Open a study", icon=":material/science:")
links[3].page_link("views/runs.py", label="Name, tag or delete runs", icon=":material/list:")

if runs.empty:
    st.info(
        f"No runs in {config.runs} yet. Change a scenario in the Editor and run it, or on the command line "
        f"`twin run FILE --out {config.runs} --events`."
    )
    st.stop()
left, right = st.columns(2)
left.subheader("Latest runs")
left.dataframe(
    plain.head(10)[["name", "scenario", "when", "replications"]].rename(
        columns={"name": "Run", "scenario": "Scenario", "when": "Created (UTC)", "replications": "Replications"}
    ),
    hide_index=True,
)
right.subheader("Latest studies")
if studies.empty:
    right.info("No sweeps or design studies yet (`twin sweep ... --out`, `twin optimize ... --out`).")
else:
    right.dataframe(
        studies.head(10)[["kind", "scenario", "varied", "size", "created"]].rename(
            columns={
                "kind": "Kind",
                "scenario": "Scenario",
                "varied": "Varies",
                "size": "Size",
                "created": "Created (UTC)",
            }
        ),
        hide_index=True,
    )
