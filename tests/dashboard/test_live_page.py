"""The Live floor page: its tables from a plant state (route order, buffers, late and
at-risk jobs, the forecast fan), and the page through AppTest on a state file and on a
stored run played back (the browser test with a real mirror is in test_live_browser.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from streamlit.testing.v1 import AppTest

from dashboard import live_data
from tests.dashboard.conftest import ROOT, SMALL_LINE
from twin.scenario import parse_scenario
from twin.studies.store import find_runs
from twin.studies.whatif import run_whatif
from twin.sync.eventlog import events_to_log
from twin.sync.state import state_from_frame

APP = str(ROOT / "dashboard/app.py")
LINE = parse_scenario(yaml.safe_load(SMALL_LINE))
BRANCHED = parse_scenario(
    {
        "name": "branched",
        "horizon": 100,
        "products": {
            "a": {"arrival": 2.0, "route": ["cut", "drill", "pack"]},
            "b": {"arrival": 3.0, "route": ["cut", "weld", "pack", "cut"]},
        },
        "stations": {s: {"process_time": 1.0, "buffer": 2} for s in ("pack", "weld", "drill", "cut")},
    }
)


def state(time: float, jobs: list[dict[str, Any]], machines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"time": time, "jobs": jobs, "machines": machines}


def test_stations_are_drawn_in_route_order() -> None:
    assert live_data.station_order(BRANCHED) == ["cut", "drill", "weld", "pack"]
    assert live_data.station_order(LINE) == ["cut", "drill"]


def test_buffers_machines_and_flags_from_a_state() -> None:
    jobs = [
        {"id": "1", "product": "part", "step": 1, "where": "buffer", "station": "drill", "due": 5.0},
        {"id": "2", "product": "part", "step": 1, "where": "buffer", "station": "drill", "due": 12.0},
        {"id": "3", "product": "part", "step": 0, "where": "machine", "station": "cut", "machine": "0",
         "elapsed": 0.5, "due": 40.0},
        {"id": "4", "product": "part", "step": 0, "where": "entrance", "due": None},
    ]  # fmt: skip
    machines = [
        {"station": "drill", "machine": "0", "state": "blocked", "since": 8.0},
        {"station": "cut", "machine": "0", "state": "busy", "since": 9.5},
    ]
    now = state(10.0, jobs, machines)
    buffers = live_data.buffer_table(LINE, now)
    assert list(buffers["station"]) == ["cut", "drill"] and list(buffers["waiting"]) == [0, 2]
    assert pd.isna(buffers["capacity"][0]) and pd.isna(buffers["fill"][0])  # unlimited
    assert (buffers["capacity"][1], buffers["fill"][1]) == (3, 2 / 3)
    table = live_data.machine_table(LINE, now)
    assert list(table["station"]) == ["cut", "drill"] and list(table["job"]) == ["3", ""]
    flags = live_data.job_table(LINE, now)
    # job 1 is past due; job 2 has 2 of slack and 0.8 of mean drilling left: on time;
    # job 3 has 30 of slack: on time; job 4 has no due date and is not listed
    assert dict(zip(flags["job"], flags["flag"], strict=True)) == {"1": "late", "2": "on time", "3": "on time"}
    tight = live_data.job_table(LINE, state(11.5, jobs, machines))
    assert dict(zip(tight["job"], tight["flag"], strict=True))["2"] == "at risk"  # 0.5 of slack < 0.8 of work
    forecast = {"jobs": [{"id": "3", "p_late": 0.7}]}
    assert live_data.job_table(LINE, now, forecast).set_index("job").at["3", "flag"] == "at risk"


def test_fan_from_a_forecast() -> None:
    forecast = {"completions": {"p10": [1, 2], "p50": [2, 3], "p90": [4, 5], "bin": 60, "start": [100, 160]}}
    fan = live_data.fan_table(forecast)
    assert fan.to_dict("records") == [
        {"start": 100.0, "end": 160.0, "p10": 1.0, "p50": 2.0, "p90": 4.0},
        {"start": 160.0, "end": 220.0, "p10": 2.0, "p50": 3.0, "p90": 5.0},
    ]
    assert live_data.fan_table(None).empty and live_data.fan_table({"completions": {}}).empty


def test_a_bad_state_file_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "state.json"
    bad.write_text('{"time": 1}')
    for path, message in ((bad, "is not a plant state"), (tmp_path / "none.json", "cannot read the state file")):
        try:
            live_data.read_state_file(path)
        except ValueError as error:
            assert message in str(error)
        else:
            raise AssertionError("no error")


def open_live(**query: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("views/live.py")
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == ["Live floor"]
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_page_shows_a_mirrors_state_file(settings: Path, tmp_path: Path) -> None:
    run = run_whatif(LINE, {}, settings, "for the state", replications=1)
    log = events_to_log(pd.read_parquet(run / "events.parquet"), LINE)
    cut = state_from_frame(log, 300.0).state.to_json()
    path = tmp_path / "mirror-state.json"
    path.write_text(json.dumps(cut))
    app = open_live(source="Mirror (state file)", state=str(path), scenario="small_line.yaml")
    shown = metrics(app)
    assert shown["Jobs in the plant"] == str(len(cut["jobs"]))
    assert shown["Time (min)"] == "300"
    assert not app.error


def test_page_plays_back_a_stored_run(settings: Path) -> None:
    app = open_live(source="Stored run")
    assert any("No stored run" in i.value for i in app.info)
    run_whatif(LINE, {}, settings, "playback", replications=1)
    (run,) = find_runs([settings])
    app = open_live(source="Stored run", run=run.name, at="120")
    shown = metrics(app)
    log = events_to_log(pd.read_parquet(run / "events.parquet"), LINE)
    expected = state_from_frame(log, 120.0).state
    assert shown["Time (min)"] == "120" and shown["Jobs in the plant"] == str(len(expected.jobs))
