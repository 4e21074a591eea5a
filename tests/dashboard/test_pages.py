"""Every page renders with an empty store, with a few runs, and beside a broken scenario file;
the pages' actions (a what-if run, a baseline evaluation) write what they say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import ROOT
from twin.errors import ScenarioError
from twin.scenario import load_scenario
from twin.studies.store import find_runs, read_meta

APP = str(ROOT / "dashboard/app.py")
PAGES = ["views/scenarios.py", "views/whatif.py", "views/compare.py", "views/run_detail.py", "views/agents.py"]
TITLES = dict(zip(PAGES, ["Scenarios", "What-if", "Compare", "Run detail", "Agents"], strict=True))


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == [TITLES[page]]
    return app


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_with_an_empty_store(settings: Path, page: str) -> None:
    app = open_page(page)
    if page in ("views/compare.py", "views/run_detail.py"):
        assert any("No runs" in info.value for info in app.info)


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_with_runs(filled: Path, page: str) -> None:
    open_page(page)


def test_scenarios_page_lists_the_exact_problems_of_a_broken_file(settings: Path, library: Path) -> None:
    app = open_page("views/scenarios.py")
    app.selectbox[0].select_index(0).run()  # files by name: broken.yaml first
    with pytest.raises(ScenarioError) as error:
        load_scenario(library / "broken.yaml")
    shown = app.code[0].value.splitlines()
    assert shown == [str(p) for p in error.value.problems]
    assert any("stations.cut.machines" in line for line in shown)
    assert "not a valid scenario" in app.error[0].value


def test_scenarios_page_describes_a_valid_file(settings: Path) -> None:
    app = open_page("views/scenarios.py")
    app.selectbox[0].select_index(1).run()
    assert not app.exception
    assert any("small_line.yaml is valid" in s.value for s in app.success)
    assert [h.value for h in app.subheader] == ["Stations", "Products and routes", "Route diagram"]


def test_whatif_page_stores_a_named_run_with_its_events(settings: Path) -> None:
    app = open_page("views/whatif.py")
    app.text_input[0].set_value("two cutters")
    app.number_input(key="m-cut").set_value(2)
    app.number_input[0].set_value(2)  # replications
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    (run,) = find_runs([settings])
    meta = read_meta(run)
    assert meta["name"] == "two cutters"
    assert meta["overrides"] == {"stations.cut.machines": 2}
    assert meta["replications"] == 2
    assert (run / "events.parquet").is_file()
    assert any("two cutters" in s.value for s in app.success)


def test_compare_page_shows_kpis_in_words_and_a_sweep(filled: Path) -> None:
    app = open_page("views/compare.py")
    assert "Throughput (jobs/min)" in app.table[0].value.index
    app.radio[0].set_value("A sweep").run()
    assert not app.exception, [e.value for e in app.exception]


def test_run_detail_draws_a_whole_job_shop_schedule(settings: Path) -> None:
    from twin.jobshop.instances import read_instance
    from twin.studies.whatif import run_whatif

    run_whatif(read_instance(ROOT / "scenarios/jobshop/ft06.txt", "mwkr"), {}, settings, "ft06 by mwkr")
    app = open_page("views/run_detail.py")
    assert "Whole schedule" in [h.value for h in app.subheader]


def test_agents_page_evaluates_rules_and_cpsat(settings: Path) -> None:
    pytest.importorskip("ortools")
    app = open_page("views/agents.py")
    app.multiselect[0].set_value(["ft06"])
    app.multiselect[1].set_value(["spt"])
    app.number_input[0].set_value(2.0)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    (folder,) = (settings / "evaluations").iterdir()
    assert json.loads((folder / "evaluation.json").read_text())["methods"] == ["rule:spt", "cpsat"]
    assert app.subheader[0].value == "Leaderboard"
