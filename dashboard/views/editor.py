"""Editor: change any station, product, operator pool or run setting of a scenario, with the
problems ``twin validate`` would print next to the field and the offered load of every
station; save the result as a new file, or run it against its base in one click."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import cache, data, editing, widgets
from twin.dispatching import rule_names
from twin.errors import ScenarioError
from twin.scenario import get_path, load_warnings, offered_loads, scenario_to_yaml
from twin.scenario.distributions import DISTRIBUTION_NAMES, DISTRIBUTION_PARAMETERS
from twin.studies.store import write_scenario_file
from twin.studies.whatif import run_against_base

config = data.settings()
st.title("Editor")
st.caption(
    f"Change a scenario of `{config.scenarios}`; every change is checked as `twin validate` checks a file. "
    "Save it as a new file, or run it against the scenario as it is."
)
entries = [e for e in cache.scenario_library(config.scenarios) if e.scenario is not None]
if not entries:
    st.info(f"No valid scenario files in {config.scenarios}.")
    st.stop()
names = [e.path.name for e in entries]
wanted = st.query_params.get("file")
entry = st.selectbox(
    "Scenario file",
    entries,
    index=names.index(wanted) if wanted in names else 0,
    format_func=lambda e: f"{e.title} ({e.path.name})",
)
st.query_params["file"] = entry.path.name
base_scenario = entry.scenario
if base_scenario is None:  # only valid files are offered
    st.stop()
base = base_scenario.to_dict()
unit = base_scenario.time_unit
prefix = f"{entry.path.name}:"
edits: dict[str, Any] = {}
slots: dict[str, DeltaGenerator] = {}
KINDS = sorted(DISTRIBUTION_NAMES)


def key(path: str) -> str:
    return prefix + path


def slot(path: str) -> None:
    """A place under a field for the problems about it (filled once the scenario is checked)."""
    slots[path] = st.container()


def distribution(label: str, path: str, spec: Any, help_text: str = "") -> Any:
    """A distribution field: its kind and parameters; returns it as scenario data."""
    kind = editing.distribution_kind(spec)
    mean = editing.mean_of(spec)
    cells = st.columns([2, *([1] * 3)])
    chosen = cells[0].selectbox(label, KINDS, index=KINDS.index(kind), key=key(f"{path}:dist"), help=help_text)
    params = (
        {k: v for k, v in spec.items() if k != "dist"}
        if isinstance(spec, dict) and chosen == kind
        else editing.starting_parameters(chosen, mean)
        if chosen != kind
        else {"value": spec}
    )
    result: dict[str, Any] = {"dist": chosen}
    for i, name in enumerate(DISTRIBUTION_PARAMETERS[chosen]):
        cell = cells[1 + i % 3]
        value = params.get(name)
        if name in ("values", "weights"):
            text = cell.text_input(
                f"{name} (comma separated)",
                value="" if value is None else ", ".join(f"{v:g}" for v in value),
                key=key(f"{path}:{chosen}:{name}"),
            )
            parsed = editing.number_list(text)
            if parsed is not None:
                result[name] = parsed
        else:
            suffix = f" ({unit})" if name not in ("shape",) else ""
            result[name] = cell.number_input(
                f"{name}{suffix}", value=float(value or 0.0), format="%g", key=key(f"{path}:{chosen}:{name}")
            )
    return result["value"] if chosen == "constant" else result  # a constant is a bare number in a file


def field_value(path: str, value: Any) -> None:
    """Record an edit when it differs from the file."""
    try:
        original = get_path(base, path)
    except KeyError:
        original = None
    if value != original:
        edits[path] = value


rules = rule_names()
tabs = st.tabs(["Stations", "Products", "Operators and shifts", "Run settings"])
with tabs[0]:
    for sname, station in base["stations"].items():
        with st.expander(
            f"Station `{sname}`" + (f": {station.get('description')}" if station.get("description") else ""),
            expanded=False,
        ):
            top = st.columns(4)
            field_value(
                f"stations.{sname}.machines",
                int(
                    top[0].number_input(
                        "Machines", value=int(station["machines"]), step=1, key=key(f"stations.{sname}.machines")
                    )
                ),
            )
            buffer_text = top[1].text_input(
                "Buffer (jobs; empty = unlimited)",
                value="" if station.get("buffer") is None else str(station["buffer"]),
                key=key(f"stations.{sname}.buffer"),
            )
            field_value(f"stations.{sname}.buffer", editing.parse_optional_int(buffer_text))
            rule = station.get("dispatching", "fifo")
            field_value(
                f"stations.{sname}.dispatching",
                top[2].selectbox(
                    "Dispatching",
                    rules,
                    index=rules.index(rule) if rule in rules else 0,
                    key=key(f"stations.{sname}.dispatching"),
                ),
            )
            field_value(
                f"stations.{sname}.scrap",
                top[3].number_input(
                    "Scrap probability",
                    value=float(station.get("scrap", 0.0)),
                    step=0.01,
                    format="%g",
                    key=key(f"stations.{sname}.scrap"),
                ),
            )
            for part in ("machines", "buffer", "dispatching", "scrap"):
                slot(f"stations.{sname}.{part}")
            if station.get("process_time") is not None:
                field_value(
                    f"stations.{sname}.process_time",
                    distribution("Process time", f"stations.{sname}.process_time", station["process_time"]),
                )
            else:
                st.caption("Process time: set per product (Products tab).")
            slot(f"stations.{sname}.process_time")
            failures = station.get("failures")
            broken = st.checkbox("Breakdowns", value=failures is not None, key=key(f"stations.{sname}.failures:on"))
            if broken:
                spec = failures or {
                    "ttf": {"dist": "exponential", "mean": 480.0},
                    "ttr": {"dist": "exponential", "mean": 15.0},
                    "basis": "busy",
                }
                ttf = distribution("Time to failure", f"stations.{sname}.failures.ttf", spec["ttf"])
                ttr = distribution("Time to repair", f"stations.{sname}.failures.ttr", spec["ttr"])
                basis = st.radio(
                    "Time to failure counts", ["busy", "calendar"],
                    index=["busy", "calendar"].index(spec.get("basis", "busy")),
                    horizontal=True, key=key(f"stations.{sname}.failures.basis"),
                )  # fmt: skip
                field_value(f"stations.{sname}.failures", {"ttf": ttf, "ttr": ttr, "basis": basis})
            else:
                field_value(f"stations.{sname}.failures", None)
            slot(f"stations.{sname}.failures")

with tabs[1]:
    for pname, product in base["products"].items():
        with st.expander(
            f"Product `{pname}`" + (f": {product.get('description')}" if product.get("description") else ""),
            expanded=False,
        ):
            if product.get("arrival") is not None:
                field_value(
                    f"products.{pname}.arrival",
                    distribution("Time between arrivals", f"products.{pname}.arrival", product["arrival"]),
                )
            elif product.get("release") is not None:
                st.caption(f"Released by {len(product['release'])} orders (edit them in the file).")
            else:
                st.caption("One job released at time 0.")
            slot(f"products.{pname}.arrival")
            stations = [s if isinstance(s, str) else s["station"] for s in product["route"]]
            route_text = st.text_input(
                "Route (stations in order, comma separated)", value=", ".join(stations),
                key=key(f"products.{pname}.route"),
                help=f"Stations: {', '.join(base['stations'])}",
            )  # fmt: skip
            field_value(f"products.{pname}.route", editing.route_data(route_text, product["route"]))
            slot(f"products.{pname}.route")
            for sname, spec in product.get("process_time", {}).items():
                field_value(
                    f"products.{pname}.process_time.{sname}",
                    distribution(f"Process time at {sname}", f"products.{pname}.process_time.{sname}", spec),
                )
                slot(f"products.{pname}.process_time.{sname}")
            if product.get("due_date") is not None:
                slack = st.number_input(
                    f"Due date: arrival + ({unit})", value=float(product["due_date"]["slack"]), format="%g",
                    key=key(f"products.{pname}.due_date.slack"),
                )  # fmt: skip
                field_value(f"products.{pname}.due_date.slack", slack)
                slot(f"products.{pname}.due_date")

with tabs[2]:
    if not base.get("operators"):
        st.info("This scenario has no operator pools: machines need no operator.")
    for oname, pool in base.get("operators", {}).items():
        st.markdown(f"**Operator pool `{oname}`**")
        count = st.number_input("Operators", value=int(pool["count"]), step=1, key=key(f"operators.{oname}.count"))
        field_value(f"operators.{oname}.count", int(count))
        slot(f"operators.{oname}.count")
        calendar = pool.get("shifts")
        if calendar is not None:
            period = st.number_input(
                f"Shift calendar repeats every ({unit})", value=float(calendar["period"]), format="%g",
                key=key(f"operators.{oname}.shifts.period"),
            )  # fmt: skip
            shifts = pd.DataFrame(
                [{"start": s["start"], "end": s["end"], "count": s.get("count")} for s in calendar["shifts"]],
                columns=["start", "end", "count"],
            )
            edited = st.data_editor(
                shifts, num_rows="dynamic", key=key(f"operators.{oname}.shifts.shifts"), hide_index=True,
                column_config={"count": st.column_config.NumberColumn("count (empty: the pool's count)", step=1)},
            )  # fmt: skip
            rows = [
                {
                    "start": float(r["start"]),
                    "end": float(r["end"]),
                    **({} if pd.isna(r["count"]) else {"count": int(r["count"])}),
                }
                for r in edited.to_dict("records")
                if not (pd.isna(r["start"]) or pd.isna(r["end"]))
            ]
            field_value(f"operators.{oname}.shifts", {"period": period, "shifts": rows})
            slot(f"operators.{oname}.shifts")

with tabs[3]:
    cells = st.columns(4)
    horizon_text = cells[0].text_input(
        f"Horizon ({unit}; empty = until every job is done)",
        value="" if base.get("horizon") is None else f"{base['horizon']:g}",
        key=key("horizon"),
    )
    field_value("horizon", editing.parse_optional_int(horizon_text))
    field_value(
        "warmup",
        cells[1].number_input(
            f"Warm-up ({unit})", value=float(base.get("warmup", 0.0)), format="%g", key=key("warmup")
        ),
    )
    field_value(
        "replications",
        int(cells[2].number_input("Replications", value=int(base["replications"]), step=1, key=key("replications"))),
    )
    field_value("seed", int(cells[3].number_input("Seed", value=int(base["seed"]), step=1, key=key("seed"))))
    for part in ("horizon", "warmup", "replications", "seed"):
        slot(part)

checked = editing.check(base, edits)
placed: set[str] = set()
for path, place in slots.items():
    lines = editing.problems_under(checked.problems, path)
    placed |= set(lines)
    for line in lines:
        place.error(line, icon=":material/error:")

st.divider()
if checked.scenario is None:
    st.error(f"**{len(checked.problems)} problem(s)**, as `twin validate` prints them (each also shown at its field):")
    st.code("\n".join(str(p) for p in checked.problems), language="text")
else:
    st.success(
        f"Valid: {len(checked.changes)} change(s) from {entry.path.name}."
        if checked.changes
        else f"Valid: {entry.path.name} as it is."
    )
    loads = offered_loads(checked.scenario)
    before = offered_loads(base_scenario)
    st.subheader("Offered load per station")
    st.caption(
        "Work arriving per time unit over capacity (machines x availability); "
        "100% or more is a queue that grows without bound."
    )
    load_table = pd.DataFrame(
        [
            {
                "Station": s,
                "Machines": checked.scenario.stations[s].machines,
                "Offered load": f"{load:.0%}",
                "In the file": f"{before.get(s, math.nan):.0%}",
                "Status": "overloaded" if load >= 1 else "near capacity" if load >= 0.9 else "ok",
            }
            for s, load in loads.items()
        ]
    )
    st.dataframe(load_table, hide_index=True)
    widgets.downloads(load_table, f"{checked.scenario.name}-offered-load", "loads")
    for line in load_warnings(checked.scenario):
        st.warning(f"warning: {line}")
if checked.changes:
    st.subheader("Changes from the file")
    changes: list[dict[str, str]] = []
    for path, value in checked.changes.items():
        try:
            was = get_path(base, path)
        except KeyError:
            was = None
        changes.append(
            {
                "Setting": path,
                "In the file": "absent" if was is None else str(was),
                "Now": "absent" if value is None else str(value),
            }
        )
    st.dataframe(pd.DataFrame(changes), hide_index=True)
    if st.button("Undo every change", key=key("reset")):
        for name in [k for k in st.session_state if str(k).startswith(prefix)]:
            del st.session_state[name]
        st.rerun()

if checked.scenario is not None:
    save, run = st.columns(2)
    with save:
        st.subheader("Save as a new file")
        stem = entry.path.stem
        target_name = st.text_input("File name", value=f"{stem}-edited.yaml", key=key("save-name"))
        target = config.scenarios / Path(target_name).name
        exists = target.exists()
        overwrite = False
        if exists:
            overwrite = st.checkbox(f"{target.name} exists: overwrite it", value=False, key=key("overwrite"))
        text = scenario_to_yaml(checked.scenario)
        valid_name = target.suffix in (".yaml", ".yml") and target.name == target_name.strip()
        if not valid_name:
            st.error(f"File name: must be a plain name ending in .yaml (got {target_name!r})")
        if st.button("Save", disabled=not valid_name or (exists and not overwrite), key=key("save"), type="primary"):
            try:
                write_scenario_file(target, text, overwrite=overwrite)
            except FileExistsError:
                st.error(f"{target.name} appeared meanwhile; nothing was overwritten.")
            else:
                st.success(f"Saved {target}.")
        st.download_button(
            "Download YAML", text, target.name, "application/x-yaml", key=key("download"), on_click="ignore"
        )
    with run:
        st.subheader("Run and compare with the file")
        run_name = st.text_input(
            "Name of the run", value=f"{checked.scenario.name} edited", max_chars=120, key=key("run-name")
        )
        settings = st.columns(2)
        replications = int(
            settings[0].number_input(
                "Replications",
                min_value=2,
                max_value=100,
                value=min(max(checked.scenario.replications, 2), 5),
                key=key("run-replications"),
            )
        )
        seed = int(settings[1].number_input("Seed", min_value=0, value=checked.scenario.seed, key=key("run-seed")))
        if st.button("Run and compare", type="primary", key=key("run")):
            bar = st.progress(0.0, text="Simulating...")
            total = 2 * replications
            done = {"n": 0}

            def progress(_: int) -> None:
                done["n"] += 1
                bar.progress(min(done["n"] / total, 1.0), text=f"Replication {done['n']} of at most {total}")

            try:
                base_run, changed_run = run_against_base(
                    base_scenario,
                    checked.scenario,
                    config.runs,
                    run_name.strip() or checked.scenario.name,
                    replications,
                    seed,
                    progress,
                )
            except ScenarioError as error:
                bar.empty()
                st.error("These changes make an invalid scenario:")
                st.code("\n".join(str(p) for p in error.problems), language="text")
            else:
                st.switch_page("views/whatif.py", query_params={"base": base_run.name, "run": changed_run.name})
