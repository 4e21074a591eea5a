"""Studies: sweeps and design studies as one thing each: KPI against the varied values, the
best point with the multiple comparisons accounted for, sensitivity (a tornado chart) and the
cost-versus-throughput Pareto front of a design study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import cache, charts, data, study_data, widgets
from twin.measure.kpi import MAIN_KPIS
from twin.measure.labels import format_number, kpi_noun
from twin.studies.sensitivity import tornado
from twin.studies.store import delete_folder

config = data.settings()
st.title("Studies")
studies = cache.studies_table(config.runs)
if studies.empty:
    st.info(
        f"No studies in {config.runs} yet: `twin sweep FILE --vary PATH=v1,v2 --out {config.runs}` or "
        f"`twin optimize FILE --method grid --out {config.runs}`."
    )
    st.stop()

st.dataframe(
    studies[["kind", "scenario", "varied", "size", "status", "method", "created"]].rename(
        columns={
            "kind": "Kind", "scenario": "Scenario", "varied": "Varies", "size": "Size", "status": "Status",
            "method": "Method", "created": "Created (UTC)",
        }
    ),
    hide_index=True,
)  # fmt: skip
ids = list(studies["study_id"])
wanted = st.query_params.get("study")
info = studies.set_index("study_id")
study_id = st.selectbox(
    "Study",
    ids,
    index=ids.index(wanted) if wanted in ids else 0,
    format_func=lambda s: "{}: {} varying {} — {}, {}".format(
        *(str(info.at[s, column]) for column in ("kind", "scenario", "varied", "size", "created"))
    ),
)
st.query_params["study"] = study_id
folder = Path(str(info.at[study_id, "path"]))
kind = str(info.at[study_id, "kind"])
varied, table = cache.study_table(folder)
if table.empty:
    st.info("No point of this study has finished yet.")
    st.stop()
unit = str(table["time_unit"].iloc[0])
choices = data.kpi_choices(table)
picked = st.multiselect(
    "KPIs",
    list(choices),
    default=[k for k in MAIN_KPIS if k in choices],
    format_func=lambda k: choices[k],
    key=f"kpis-{study_id}",
)

numeric = [p for p in varied if np.issubdtype(table[p].dropna().to_numpy().dtype, np.number)]
if kind == "sweep" or len(varied) <= 2:
    st.subheader("KPIs against the varied values")
    parameter = st.selectbox("x axis", varied, key=f"x-{study_id}") if len(varied) > 1 else varied[0]
    columns = st.columns(2)
    for i, kpi in enumerate(picked):
        rows = table[table["kpi"] == kpi].copy()
        others = [v for v in varied if v != parameter]
        series = None
        if others:
            series = ", ".join(o.removeprefix("stations.").removeprefix("products.") for o in others)
            rows[series] = [study_data.point_label({o: r[o] for o in others}) for r in rows.to_dict("records")]
        chart = charts.sweep_line(rows.sort_values(parameter), parameter, choices[kpi], series)
        columns[i % 2].altair_chart(chart, width="stretch")

if kind == "design" and "cost" in table.columns and table["cost"].notna().any():
    st.subheader("Cost against throughput: the Pareto front")
    designs = study_data.pareto_table(table)
    st.altair_chart(charts.pareto(designs, choices.get("throughput", "Throughput")), width="stretch")
    front = designs[designs["front"]]
    st.caption(
        f"{len(front)} of {len(designs)} designs are on the front: none is beaten on both cost and throughput. "
        "The best design of the search is ringed red."
    )
    best_designs = front.sort_values("mean", ascending=False).head(10)
    shown_front = best_designs.rename(
        columns={
            "design": "Design",
            "cost": "Cost",
            "mean": "Throughput",
            "ci_low": "95% CI low",
            "ci_high": "95% CI high",
        }
    )[["Design", "Cost", "Throughput", "95% CI low", "95% CI high"]]
    st.dataframe(shown_front, hide_index=True)
    widgets.downloads(shown_front, "pareto-front", f"front-{study_id}")

if picked:
    st.subheader("Which point is best?")
    kpi = st.selectbox("Rank on", picked, format_func=lambda k: choices[k], key=f"rank-{study_id}")
    labels = dict(zip(table["run_id"], table["label"], strict=False))
    points = [folder / r for r in dict.fromkeys(table["run_id"])]
    try:
        ranking = cache.ranking(points, kpi, labels)
    except ValueError as error:
        st.info(f"No ranking on this KPI: {error}.")
    else:
        st.markdown(ranking.sentence(kpi_noun(kpi)))
        board = data.ranking_display(ranking).head(20)
        st.dataframe(board, hide_index=True)
        widgets.downloads(board, f"ranking-{kpi}", f"ranking-{study_id}")

    st.subheader("Sensitivity: which parameter moves the KPI most")
    sensitivity_kpi = st.selectbox("KPI", picked, format_func=lambda k: choices[k], key=f"tornado-{study_id}")
    rows = table[table["kpi"] == sensitivity_kpi]
    bars = tornado(rows, varied)
    if bars.empty:
        st.info("Sensitivity needs a parameter with at least two values.")
    else:
        centre = float(rows["mean"].mean())
        st.altair_chart(charts.tornado(bars, choices[sensitivity_kpi], centre), width="stretch")
        top = bars.iloc[0]
        st.caption(
            f"{top['parameter']} moves {kpi_noun(sensitivity_kpi)} most: from {format_number(top['low'])} "
            f"(at {top['low_level']}) to {format_number(top['high'])} (at {top['high_level']}), averaged over the "
            "other parameters. The dashed line is the mean over every point."
        )

st.subheader("Points")
points_table = study_data.points_table(table, varied, picked or list(MAIN_KPIS))
st.dataframe(points_table, hide_index=True)
widgets.downloads(points_table, f"study-{study_id}", f"points-{study_id}")
st.page_link(
    "views/compare.py",
    label="Compare these points run by run",
    query_params={"run": list(dict.fromkeys(table["run_id"]))[:10]},
    icon=":material/compare_arrows:",
)


def _delete() -> None:
    delete_folder(config.runs, folder)
    cache.clear()
    if "study" in st.query_params:
        del st.query_params["study"]


widgets.confirm_delete(f"the whole {kind} study", [folder], _delete, key=f"study-{study_id}")
