"""Calibration: a scenario learnt from a plant's event log, each fit against its data, and a backtest."""

from __future__ import annotations

import tempfile
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache, data
from twin.errors import ScenarioError
from twin.measure.labels import format_interval, format_number, kpi_label
from twin.sync.backtest import Backtest, run_backtest
from twin.sync.calibrate import Calibration, calibrate_log
from twin.sync.fitting import density

config = data.settings()
st.title("Calibration")
st.caption(
    "Learn a scenario from a plant's event log (CSV or Parquet: time, event, job, product, station, machine), "
    "see each fitted distribution over its data, and backtest the scenario on a log."
)


def _log_path(key: str, label: str) -> Path | None:
    """A log named by path, or uploaded (kept in a temporary file for the session)."""
    typed = st.text_input(label, key=f"{key}-path", placeholder="path/to/plant.csv")
    uploaded = st.file_uploader("... or upload one", type=["csv", "parquet"], key=f"{key}-upload")
    if uploaded is not None:
        folder = Path(st.session_state.setdefault(f"{key}-folder", tempfile.mkdtemp(prefix="twin-log-")))
        path: Path = folder / str(uploaded.name)
        path.write_bytes(uploaded.getvalue())
        return path
    return Path(typed.strip()) if typed.strip() else None


def _fit_chart(sample: np.ndarray, spec: object, unit: str) -> alt.Chart | alt.LayerChart:
    """Histogram of the sample as a density, with the fitted density over it."""
    counts, edges = np.histogram(sample, bins=min(60, max(10, int(np.sqrt(len(sample))))), density=True)
    bars = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "density": counts})
    chart = (
        alt.Chart(bars)
        .mark_bar(opacity=0.45, color="#4c78a8")
        .encode(
            x=alt.X("from:Q", title=f"value ({unit})"),
            x2="to:Q",
            y=alt.Y("density:Q", title="density"),
            tooltip=["from", "to", "density"],
        )
    )
    grid = np.linspace(max(edges[0], 0.0), edges[-1], 300)
    fitted = density(spec, grid)
    if fitted is None:
        return chart  # type: ignore[no-any-return]  # Altair's fluent API is typed as Any
    line = (
        alt.Chart(pd.DataFrame({"x": grid, "density": fitted}))
        .mark_line(color="#e45756")
        .encode(x="x:Q", y="density:Q")
    )
    return chart + line  # type: ignore[no-any-return]


def _show_calibration(found: Calibration) -> None:
    scenario = found.scenario
    unit = scenario.time_unit
    h = found.history
    st.success(
        f"**{scenario.name}**: {len(scenario.stations)} stations, {len(scenario.products)} products "
        f"from {found.events} events over [{h.start:g}, {h.end:g}] {unit}."
    )
    for line in found.hygiene.lines():
        st.info(f"Log: {line}")
    for line in found.findings:
        st.warning(line)
    st.subheader("Fitted distributions")
    rows = [
        {
            "value": f.path,
            "family": f.fit.family,
            "n": f.fit.n,
            "censored": f.fit.censored,
            "mean": f.fit.mean,
            "sample mean": f.fit.sample_mean,
            "KS": f.fit.ks,
            "note": ", ".join(t for t in (f.fit.note, f.note) if t),
        }
        for f in found.fitted
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    paths = [f.path for f in found.fitted]
    chosen = st.selectbox("Parameter", paths, key="calibration-parameter")
    item = found.fitted[paths.index(chosen)]
    if len(item.sample):
        st.altair_chart(_fit_chart(item.sample, item.fit.spec, unit), use_container_width=True)
        st.caption(f"{item.comment()}. Bars: the log's values; line: the fitted density.")
    st.subheader("Scenario file")
    text = found.yaml()
    st.download_button(
        "Download the scenario", text, file_name=f"{scenario.name}.yaml", mime="text/yaml", on_click="ignore"
    )
    with st.expander("Show the scenario file"):
        st.code(text, language="yaml")


def _show_backtest(found: Calibration) -> None:
    st.subheader("Backtest")
    with st.form("backtest"):
        path = st.text_input("Log to backtest on (empty: the calibration log)", key="backtest-path")
        replications = st.number_input("Replications", min_value=2, max_value=50, value=5)
        go = st.form_submit_button("Run backtest")
    if go:
        log = Path(path.strip()) if path.strip() else found.source
        with st.spinner("Simulating the log's window..."):
            try:
                st.session_state["backtest-result"] = run_backtest(found.scenario, log, int(replications))
            except ScenarioError as error:
                st.error("This log cannot be backtested:")
                st.code("\n".join(str(p) for p in error.problems), language="text")
                return
    result: Backtest | None = st.session_state.get("backtest-result")
    if result is None:
        return
    unit = found.scenario.time_unit
    shown = result.table[~(result.table.index.str.endswith((".setup", ".off_shift")) & (result.table["mean"] == 0))]
    table = pd.DataFrame(
        {
            "KPI": [kpi_label(str(k), unit) for k in shown.index],
            "observed": [format_number(v) for v in shown["observed"]],
            "predicted": [format_number(v) for v in shown["mean"]],
            "95% CI": [format_interval(a, b, digits=4) for a, b in zip(shown["ci_low"], shown["ci_high"], strict=True)],
            "error": ["" if e != e else f"{e:+.1%}" for e in shown["error"]],
            "in 95% PI": ["" if i is None else ("yes" if i else "no") for i in shown["inside"]],
        }
    )
    st.table(table)
    st.caption(f"Lead time Wasserstein distance: {format_number(result.wasserstein)} {unit}.")


library = [e for e in cache.scenario_library(config.scenarios) if e.scenario is not None]
with st.form("calibrate"):
    log = _log_path("calibration", "Event log")
    bases = [None, *library]
    base = st.selectbox(
        "Base scenario (kept, filled in with what the log shows)",
        bases,
        format_func=lambda e: "none: a new scenario" if e is None else f"{e.title} ({e.path.name})",
    )
    unit = st.text_input("Time unit of timestamps", value="min", help="s, min, h or d; numbers are taken as they are.")
    submitted = st.form_submit_button("Calibrate", type="primary")

if submitted:
    if log is None:
        st.error("Name a log file or upload one.")
        st.stop()
    with st.spinner("Reading the log and fitting..."):
        try:
            st.session_state["calibration-result"] = calibrate_log(log, base.path if base else None, time_unit=unit)
            st.session_state.pop("backtest-result", None)
        except ScenarioError as error:
            st.session_state.pop("calibration-result", None)
            st.error("This log cannot be calibrated:")
            st.code("\n".join(str(p) for p in error.problems), language="text")
            st.stop()

found = st.session_state.get("calibration-result")
if found is None:
    st.info("Name an event log and press Calibrate.")
    st.stop()
_show_calibration(found)
_show_backtest(found)
