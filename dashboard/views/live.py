"""Live floor: the plant as its stations in route order, machines coloured by state, buffers
filling up, late and at-risk jobs, the forecast fan and the mirror's health; from a live
mirror (its retained message, or its state file), refreshing by itself, or from a stored
run's event log played back through the same picture."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import cache, charts, data, live_data
from twin.measure.labels import count_of, format_number
from twin.scenario import Scenario

SOURCES = ("Mirror (broker)", "Mirror (state file)", "Stored run")

config = data.settings()
st.title("Live floor")
st.caption(
    "The floor as the twin sees it: from `twin mirror` (its retained message on the broker, or its "
    "`--state-out` file), or a stored run played back."
)
params = st.query_params
wanted = params.get("source", "")
source = st.radio(
    "Source",
    SOURCES,
    index=SOURCES.index(wanted) if wanted in SOURCES else (2 if "run" in params else 0),
    horizontal=True,
)


def _pick_scenario() -> Scenario | None:
    """The scenario a mirror follows, from the library (deep link: ?scenario=FILE)."""
    entries = [e for e in data.scenario_library(config.scenarios) if e.scenario is not None]
    if not entries:
        st.info(f"No valid scenario in {config.scenarios}: the picture needs the plant's stations.")
        return None
    names = [e.path.name for e in entries]
    chosen = params.get("scenario")
    name = st.selectbox("Scenario the mirror follows", names, index=names.index(chosen) if chosen in names else 0)
    return entries[names.index(name)].scenario


def _health(snapshot: live_data.Snapshot) -> None:
    health = snapshot.health
    if not health:
        return
    st.subheader("Events played back" if snapshot.source == "playback" else "Mirror health")
    words = [("received", "Received"), ("applied", "Applied"), ("duplicates", "Duplicates dropped"),
             ("reordered", "Reordered"), ("rejected", "Rejected")]  # fmt: skip
    shown = [(key, label) for key, label in words if key in health]
    columns = st.columns(len(shown) + ("lag_s" in health))
    for column, (key, label) in zip(columns, shown, strict=False):
        column.metric(label, f"{int(health[key]):,}")
    if "lag_s" in health:
        columns[-1].metric("Lag (s)", f"{float(health['lag_s']):.3f}")
    if health.get("rejections"):
        st.caption("Rejected events by reason")
        st.table({"reason": list(health["rejections"]), "events": list(health["rejections"].values())})
    if health.get("silent"):
        st.warning(f"{count_of(len(health['silent']), 'machine')} silent for longer than expected")
        st.dataframe(health["silent"], hide_index=True)


def _picture(scenario: Scenario, snapshot: live_data.Snapshot) -> None:
    """The one picture of every source."""
    state = snapshot.state
    unit = scenario.time_unit
    machines = live_data.machine_table(scenario, state)
    buffers = live_data.buffer_table(scenario, state)
    jobs = live_data.job_table(scenario, state, snapshot.forecast)
    flags = dict(zip(jobs["job"].astype(str), jobs["flag"], strict=True))
    late, risky = int((jobs["flag"] == "late").sum()), int((jobs["flag"] == "at risk").sum())
    top = st.columns(4)
    top[0].metric(f"Time ({unit})", format_number(float(state["time"])))
    top[1].metric("Jobs in the plant", len(state["jobs"]))
    top[2].metric("Late", late)
    top[3].metric("At risk", risky)
    st.altair_chart(charts.floor_chart(machines, buffers, flags), use_container_width=True)
    st.subheader("Jobs late or at risk")
    flagged = jobs[jobs["flag"] != "on time"]
    if flagged.empty:
        st.success("No job is late or at risk." if len(jobs) else "No job in the plant has a due date.")
    else:
        colours = {"late": "background-color: #f8d0d0", "at risk": "background-color: #fde2c2"}
        st.dataframe(
            flagged.style.apply(lambda row: [colours.get(row["flag"], "")] * len(row), axis=1),
            hide_index=True,
            use_container_width=True,
        )
    fan = live_data.fan_table(snapshot.forecast)
    if not fan.empty:
        st.altair_chart(charts.fan_chart(fan, unit), use_container_width=True)
    elif snapshot.source != "playback":
        st.caption("No forecast in the mirror's message (it publishes one when it runs with a forecast).")
    _health(snapshot)


def _live(scenario: Scenario) -> None:
    every = st.number_input("Refresh every (s)", min_value=1, max_value=60, value=int(params.get("every", 2)))
    if source == SOURCES[0]:
        left, right = st.columns(2)
        broker = left.text_input("Broker", value=params.get("broker", "mqtt://127.0.0.1:1883"))
        topic = right.text_input("Topic the mirror publishes on", value=params.get("topic", "plant/forecast"))
    else:
        path = st.text_input("State file (the mirror's --state-out)", value=params.get("state", ""))

    @st.fragment(run_every=float(every))
    def refreshing() -> None:
        try:
            if source == SOURCES[0]:
                snapshot = live_data.read_retained(broker, topic)
                if snapshot is None:
                    st.info(f"No message on {topic} yet: is `twin mirror ... --publish {topic}` running?")
                    return
            else:
                if not path.strip():
                    st.info("Name the mirror's state file.")
                    return
                snapshot = live_data.read_state_file(Path(path.strip()))
        except ValueError as error:
            st.error(str(error))
            return
        _picture(scenario, snapshot)

    refreshing()


def _playback() -> None:
    runs = cache.runs_table(config.runs)
    runs = runs[runs["events"]] if not runs.empty else runs
    if runs.empty:
        st.info("No stored run with an event log: `twin run FILE --events` keeps one.")
        return
    ids = list(runs["run_id"])
    labels = dict(zip(runs["run_id"], runs["name"], strict=True))
    chosen = params.get("run")
    run_id = st.selectbox(
        "Run", ids, index=ids.index(chosen) if chosen in ids else 0, format_func=lambda r: f"{labels[r]} — {r}"
    )
    run = Path(dict(zip(runs["run_id"], runs["path"], strict=True))[run_id])
    scenario = cache.run_scenario(run)
    log = live_data.run_log(cache.events(run, 0), scenario)
    end = float(log["time"].max()) if len(log) else 0.0
    key = f"live-at-{run_id}"  # the play head; the slider sets it, playing moves it on
    st.session_state.setdefault(key, min(end, float(params.get("at", end / 2))))

    def moved() -> None:
        st.session_state[key] = st.session_state[f"{key}-slider"]

    st.slider(
        f"Time ({scenario.time_unit})", 0.0, end, value=st.session_state[key], key=f"{key}-slider", on_change=moved
    )
    playing = st.toggle("Play", value=False, help="Step through the run, a fiftieth of it a second.")

    @st.fragment(run_every=1.0 if playing else None)
    def frame() -> None:
        now = st.session_state[key]
        if playing:
            now = min(end, now + end / 50)
            st.session_state[key] = now
        _picture(scenario, live_data.playback(log, now))

    frame()


if source == SOURCES[2]:
    _playback()
else:
    picked = _pick_scenario()
    if picked is not None:
        _live(picked)
