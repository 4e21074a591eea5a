"""Compare: stored runs side by side; a verdict sentence and a card per KPI, the KPI table
with 95% CIs and percent changes, charts, which run is best, exports and a report."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import cache, charts, data, widgets
from dashboard.exports import file_stem
from twin.measure.kpi import MAIN_KPIS
from twin.measure.labels import kpi_noun
from twin.studies.report import comparison_report
from twin.studies.verdicts import sentence

config = data.settings()
st.title("Compare")
runs = cache.runs_table(config.runs)
if runs.empty:
    st.info(f"No runs in {config.runs} yet. Make one in the Editor, or with `twin run FILE --out {config.runs}`.")
    st.stop()

wanted = [r for r in st.query_params.get_all("run") if r in set(runs["run_id"])]
filters = st.columns([3, 2, 2])
scenarios = list(dict.fromkeys(runs["scenario"].astype(str)))
chosen_scenarios = filters[0].multiselect(
    "Scenarios", scenarios, default=[], placeholder="every scenario", help="Only runs of these scenarios."
)
tags = sorted({t for ts in runs["tags"] for t in ts})
chosen_tags = filters[1].multiselect("Tags", tags, default=[], placeholder="any tag", disabled=not tags)
more = filters[2].toggle(
    "Study points and design runs", value=False, help="Sweep points and design runs belong to their studies."
)
kinds = data.RUN_KINDS if more else ("run", "what-if")
candidates = data.pick_runs(runs, chosen_scenarios or None, kinds, chosen_tags or None)
if wanted:  # a deep link names its runs: offer them whatever the filters say
    candidates = runs[runs["run_id"].isin(set(candidates["run_id"]) | set(wanted))]
if candidates.empty:
    st.info("No run matches these filters.")
    st.stop()
labels = dict(zip(runs["run_id"], runs["name"], strict=True))
when = dict(zip(runs["run_id"], runs["when"], strict=True))
ids = list(candidates["run_id"])
selected = st.multiselect(
    "Runs (newest first; the first you pick is the baseline unless you choose another)",
    ids,
    default=wanted or data.default_selection(candidates),
    format_func=lambda run_id: f"{labels[run_id]} — {when[run_id]}",
)
if not selected:
    st.info("Pick one or more runs.")
    st.stop()
mixed = data.mixed_scenarios(runs, selected)
if mixed:
    st.warning(
        f"These runs simulate different scenarios ({', '.join(mixed)}). Their differences mix what sets the "
        "plants apart with what was changed, and their random numbers are not shared: a *significant* "
        "difference only says the numbers differ. Compare runs of one scenario to judge a change."
    )
baseline = st.selectbox("Baseline", selected, format_func=lambda r: str(labels[r]))
ordered = [baseline, *(r for r in selected if r != baseline)]
paths = dict(zip(runs["run_id"], runs["path"], strict=True))
folders = [Path(paths[r]) for r in ordered]
table = cache.verdicts_table(folders, {r: labels[r] for r in ordered})
shown_labels = dict(zip(table["run_id"], table["label"], strict=False))
unit = str(table["time_unit"].iloc[0])
choices = data.kpi_choices(table)
picked = st.multiselect(
    "KPIs", list(choices), default=[k for k in MAIN_KPIS if k in choices], format_func=lambda k: choices[k]
)

if len(ordered) > 1 and picked:
    st.subheader("Verdict")
    for run in ordered[1:]:
        st.markdown(f"**{sentence(table, run, shown_labels, picked, unit)}**")
    focus = ordered[1]
    if len(ordered) > 2:
        focus = st.selectbox("Cards for", ordered[1:], format_func=lambda r: shown_labels[r])
    widgets.verdict_cards(table, focus, picked)
    st.caption(
        "Green: the change is good for that KPI; red: bad; grey: not significant (its 95% interval includes 0; "
        "the percent interval, from the log of the ratio of means, where the baseline is positive). Hover a card "
        "for the intervals. Runs with the same replications are compared pairwise (common random numbers)."
    )

st.subheader("KPIs with 95% confidence intervals")
shown = data.kpi_display_table(table, picked)
if not shown.empty:
    st.table(shown.set_index("KPI"))
    widgets.downloads(shown.set_index("KPI"), "comparison", "kpis")
    report = st.columns([2, 4])
    report[0].download_button(
        "One-page report (HTML, prints to PDF)",
        lambda: comparison_report(table, shown_labels, picked, unit, title=f"Comparison: {shown_labels[baseline]}"),
        f"{file_stem('comparison-' + shown_labels[baseline])}.html",
        "text/html",
        icon=":material/description:",
        key="report",
        on_click="ignore",
    )

if picked:
    st.subheader("Means with 95% confidence intervals")
    columns = st.columns(2)
    for i, kpi in enumerate(picked):
        rows = table[table["kpi"] == kpi]
        columns[i % 2].altair_chart(charts.kpi_bars(rows, rows["kpi_label"].iloc[0]), width="stretch")
    st.subheader("Spread over replications")
    long = cache.replication_table(folders, picked, shown_labels)
    columns = st.columns(2)
    for i, kpi in enumerate(picked):
        columns[i % 2].altair_chart(charts.kpi_boxes(long[long["kpi"] == kpi], choices[kpi]), width="stretch")

if len(ordered) > 1:
    st.subheader("Which run is best?")
    rankable = [k for k in choices if k in picked] + [k for k in choices if k not in picked]
    kpi = st.selectbox("Rank on", rankable, format_func=lambda k: choices[k], key="rank-kpi")
    try:
        ranking = cache.ranking(folders, kpi, shown_labels)
    except ValueError as error:
        st.info(f"No ranking on this KPI: {error}.")
    else:
        st.markdown(ranking.sentence(kpi_noun(kpi)))
        board = data.ranking_display(ranking)
        st.dataframe(board, hide_index=True)
        widgets.downloads(board, f"ranking-{kpi}", "ranking")
