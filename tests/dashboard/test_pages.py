"""Every page renders with an empty store, with runs, studies and evaluations, and beside a
broken scenario file; the pages' actions (edit, save, run and compare, rename, tag, delete,
evaluate) write exactly what they say, and the verdicts say what the numbers say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.widgets import DEBUG, FRIENDLY
from tests.dashboard.conftest import ROOT, scenario_evaluation
from twin.errors import ScenarioError
from twin.scenario import load_scenario
from twin.studies.store import find_runs, list_runs, read_meta

APP = str(ROOT / "dashboard/app.py")
TITLES = {
    "views/overview.py": "Overview",
    "views/scenarios.py": "Scenarios",
    "views/editor.py": "Editor",
    "views/whatif.py": "What-if",
    "views/compare.py": "Compare",
    "views/studies.py": "Studies",
    "views/runs.py": "Runs",
    "views/run_detail.py": "Run detail",
    "views/agents.py": "Agents",
}
PAGES = list(TITLES)


def open_page(page: str, **query: str | list[str]) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page(page)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == [TITLES[page]]
    return app


def texts(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


@pytest.mark.parametrize("page", PAGES)
def test_pages_render_with_an_empty_store(settings: Path, page: str) -> None:
    app = open_page(page)
    if page in ("views/compare.py", "views/run_detail.py", "views/runs.py"):
        assert any("No runs" in info.value for info in app.info)
    if page == "views/studies.py":
        assert any("No studies" in info.value for info in app.info)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_pages_render_with_runs_studies_and_evaluations(filled: Path, page: str) -> None:
    open_page(page)


@pytest.mark.slow
def test_an_error_on_a_page_is_a_message_with_the_details_folded(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEBUG)
    newest = sorted(p for p in filled.iterdir() if p.name.startswith("small-line-2"))[-1]
    (newest / "kpis.parquet").write_bytes(b"not parquet")  # a damaged file, read when Compare opens
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("views/compare.py").run()
    assert not app.exception
    assert any(e.value.startswith(FRIENDLY) for e in app.error)
    assert [x.label for x in app.expander] == ["Details for a bug report"]


def test_scenarios_page_lists_the_exact_problems_of_a_broken_file(settings: Path, library: Path) -> None:
    app = open_page("views/scenarios.py")
    app.selectbox[0].select_index(0).run()  # files by name: broken.yaml first
    with pytest.raises(ScenarioError) as error:
        load_scenario(library / "broken.yaml")
    shown = app.code[0].value.splitlines()
    assert shown == [str(p) for p in error.value.problems]
    assert any("stations.cut.machines" in line for line in shown)
    assert "not a valid scenario" in app.error[0].value


def test_scenarios_page_describes_a_valid_file_with_offered_loads(settings: Path) -> None:
    app = open_page("views/scenarios.py")
    app.selectbox[0].select_index(1).run()
    assert not app.exception
    assert any("small_line.yaml is valid" in s.value for s in app.success)
    assert [h.value for h in app.subheader] == ["Stations", "Products and routes", "Route diagram"]
    stations = app.dataframe[1].value.set_index("Station")
    # cut: 1.0 min per 1.25 min, availability 100 / 105 -> 84%; drill: 0.833 / 1.25 -> 67%.
    assert stations.at["cut", "Offered load"] == "84%"
    assert stations.at["drill", "Offered load"] == "67%"


def editor(file: str = "small_line.yaml") -> AppTest:
    return open_page("views/editor.py", file=file)


def test_editor_shows_the_cli_problem_next_to_the_field(settings: Path) -> None:
    app = editor()
    app.number_input(key="small_line.yaml:stations.cut.machines").set_value(0).run()
    assert not app.exception
    line = "stations.cut.machines: must be >= 1 (got 0)"
    assert line in [e.value for e in app.error]  # at the field
    assert line in app.code[0].value.splitlines()  # and in the list, as `twin validate` prints it
    assert not [b for b in app.button if b.label == "Run and compare"]  # nothing runs while invalid


def test_editor_clearing_a_buffer_makes_it_unlimited(settings: Path) -> None:
    app = editor()
    app.text_input(key="small_line.yaml:stations.drill.buffer").set_value("").run()
    assert app.text_input(key="small_line.yaml:stations.drill.buffer").value == ""  # stays cleared
    changes = app.dataframe[-1].value.set_index("Setting")
    assert changes.at["stations.drill.buffer", "In the file"] == "3"
    assert changes.at["stations.drill.buffer", "Now"] == "absent"
    assert any("Valid: 1 change(s)" in s.value for s in app.success)


def test_editor_flags_an_overloaded_station_before_anything_runs(settings: Path, library: Path) -> None:
    app = editor()
    app.number_input(key="small_line.yaml:products.part.arrival:exponential:mean").set_value(0.8).run()
    loads = app.dataframe[-2].value.set_index("Station")
    assert loads.at["cut", "Offered load"] == "131%"  # 1.0 / 0.8 / (100 / 105)
    assert loads.at["cut", "Status"] == "overloaded"
    assert loads.at["cut", "In the file"] == "84%"
    assert any("stations.cut: offered load is 131% of capacity" in w.value for w in app.warning)
    assert not any(settings.iterdir())  # nothing was run


def test_editor_saves_a_new_file_and_asks_before_overwriting(settings: Path, library: Path) -> None:
    app = editor()
    app.number_input(key="small_line.yaml:stations.cut.machines").set_value(2).run()
    app.text_input(key="small_line.yaml:save-name").set_value("small_line.yaml").run()
    save = app.button(key="small_line.yaml:save")
    assert save.disabled  # the file exists and overwriting is not ticked
    before = (library / "small_line.yaml").read_text()
    app.text_input(key="small_line.yaml:save-name").set_value("two_cutters.yaml").run()
    app.button(key="small_line.yaml:save").click().run()
    assert not app.exception
    assert (library / "small_line.yaml").read_text() == before  # never touched
    saved = load_scenario(library / "two_cutters.yaml")
    assert saved.stations["cut"].machines == 2
    assert saved.stations["drill"].buffer == 3


@pytest.mark.slow
def test_editor_runs_against_its_base_and_opens_the_what_if(settings: Path) -> None:
    app = editor()
    app.number_input(key="small_line.yaml:stations.cut.machines").set_value(2).run()
    app.text_input(key="small_line.yaml:run-name").set_value("two cutters").run()
    app.number_input(key="small_line.yaml:run-replications").set_value(3).run()
    app.button(key="small_line.yaml:run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    runs = {read_meta(r).get("name"): r for r in find_runs([settings])}
    assert set(runs) == {"small-line (base)", "two cutters"}
    changed, base = read_meta(runs["two cutters"]), read_meta(runs["small-line (base)"])
    assert changed["overrides"] == {"stations.cut.machines": 2}
    assert base["overrides"] == {}
    assert changed["seed"] == base["seed"] and changed["replications"] == base["replications"] == 3
    assert [t.value for t in app.title] == ["What-if"]
    assert "two cutters" in texts(app)
    assert len(app.metric) == 4  # a card per main KPI
    # A second run of the same change reuses the stored base: common random numbers, paired.
    again = editor()
    again.number_input(key="small_line.yaml:stations.cut.machines").set_value(2).run()
    again.number_input(key="small_line.yaml:run-replications").set_value(3).run()
    again.button(key="small_line.yaml:run").click().run()
    assert len([r for r in find_runs([settings]) if read_meta(r).get("name") == "small-line (base)"]) == 1


@pytest.mark.slow
def test_compare_opens_with_a_verdict_and_a_card_per_kpi(filled: Path) -> None:
    app = open_page("views/compare.py")
    # The default selection: the two newest runs of one scenario, never a mix.
    assert [o for o in app.multiselect[2].value] == [r.name for r in find_runs([filled]) if r.parent == filled][:2]
    assert not app.warning
    verdicts = [m.value for m in app.markdown if "bigger drill buffer" in m.value and "against" in m.value]
    assert len(verdicts) == 1
    cards = {m.label: m for m in app.metric}
    assert set(cards) == {"Throughput (jobs/min)", "Work in process (jobs)", "Lead time (min)", "Tardiness (min)"}
    table = app.table[0].value
    assert "Throughput (jobs/min)" in table.index
    assert any(c.endswith("verdict") for c in table.columns)
    assert any("Which run is best" in h.value for h in app.subheader)


@pytest.mark.slow
def test_compare_warns_when_runs_of_different_scenarios_are_mixed(filled: Path) -> None:
    app = open_page("views/compare.py")
    toggle = app.toggle[0]
    toggle.set_value(True).run()
    runs = list_runs(filled)
    whatif = runs.loc[runs["name"].notna(), "run_id"].iloc[0]
    design_run = runs.loc[runs["study_id"].notna(), "run_id"].iloc[0]
    app.multiselect[2].set_value([whatif, design_run]).run()
    assert not app.exception
    assert any("different scenarios (small-line, design-line)" in w.value for w in app.warning)


@pytest.mark.slow
def test_studies_page_lists_sweeps_and_design_studies_and_shows_the_front(filled: Path) -> None:
    app = open_page("views/studies.py")
    listing = app.dataframe[0].value
    assert sorted(listing["Kind"]) == ["design", "sweep"]
    assert set(listing.loc[listing["Kind"] == "sweep", "Size"]) == {"3 points"}
    seen = set()
    for index, option in enumerate(app.selectbox[0].options):
        app.selectbox[0].select_index(index).run()
        assert not app.exception, [e.value for e in app.exception]
        headers = [h.value for h in app.subheader]
        assert "Which point is best?" in headers
        assert "Sensitivity: which parameter moves the KPI most" in headers
        kind = option.split(":")[0]
        seen.add(kind)
        if kind == "design":
            assert "Cost against throughput: the Pareto front" in headers
            front = app.dataframe[1].value
            assert len(front) >= 2 and front["Cost"].is_monotonic_increasing is not None
        else:
            assert "KPIs against the varied values" in headers
    assert seen == {"design", "sweep"}


@pytest.mark.slow
def test_runs_page_names_tags_and_deletes_after_asking(filled: Path) -> None:
    app = open_page("views/runs.py")
    app.text_input[0].set_value("renamed run")
    app.text_input[1].set_value("baseline, week 48")
    app.button[0].click().run()
    assert not app.exception
    named = {read_meta(r).get("name"): read_meta(r) for r in find_runs([filled])}
    assert named["renamed run"]["tags"] == ["baseline", "week 48"]
    before = {r.name for r in find_runs([filled])}
    gone = sorted(p.name for p in filled.iterdir() if p.name.startswith("small-line-2"))[0]
    app = open_page("views/runs.py")
    app.multiselect[-1].set_value([gone]).run()
    delete = next(b for b in app.button if b.label.startswith("Delete 1 run"))
    delete.click().run()
    assert (filled / gone).is_dir()  # asked, not yet deleted
    assert any("for good" in w.value for w in app.warning)
    next(b for b in app.button if b.label == "Yes, delete").click().run()
    assert not app.exception
    assert not (filled / gone).exists()
    assert {r.name for r in find_runs([filled])} == before - {gone}


@pytest.mark.slow
def test_run_detail_shows_oee_factors_and_output_per_shift(filled: Path) -> None:
    app = open_page("views/run_detail.py")
    headers = [h.value for h in app.subheader]
    assert "Output over time" in headers
    assert any("Availability: planned time" in c.value for c in app.caption)


def test_run_detail_draws_a_whole_job_shop_schedule(settings: Path) -> None:
    from twin.jobshop.instances import read_instance
    from twin.studies.whatif import run_whatif

    run_whatif(read_instance(ROOT / "scenarios/jobshop/ft06.txt", "mwkr"), {}, settings, "ft06 by mwkr")
    app = open_page("views/run_detail.py")
    assert "Whole schedule" in [h.value for h in app.subheader]


def test_agents_page_reads_a_scenario_evaluation(settings: Path) -> None:
    scenario_evaluation(settings)
    app = open_page("views/agents.py")
    assert "Leaderboard on Tardiness" in app.subheader[0].value
    board = app.dataframe[0].value
    assert list(board["Method"]) == ["rule:atc", "rule:edd"]  # lower tardiness first
    assert list(board["Seeds"]) == [3, 3]
    assert "None" not in board.to_string() and "nan" not in board.to_string()


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


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "scenarios/examples").glob("*.yaml")))
def test_editor_opens_every_example_unchanged(settings: Path, monkeypatch: pytest.MonkeyPatch, example: str) -> None:
    """Every example (operator calendars, setups, orders, designs) opens with no change: the
    form reproduces the file exactly, so a save or a run changes only what the user changed."""
    monkeypatch.setenv("TWIN_SCENARIOS", str(ROOT / "scenarios/examples"))
    app = editor(example)
    assert any(s.value == f"Valid: {example} as it is." for s in app.success), [s.value for s in app.success]
    assert not app.warning


@pytest.mark.slow
def test_whatif_of_an_overloaded_line_carries_the_load_warning(settings: Path) -> None:
    import yaml

    from tests.dashboard.conftest import SMALL_LINE
    from twin.scenario import apply_overrides, parse_scenario
    from twin.studies.whatif import run_against_base

    base = parse_scenario(yaml.safe_load(SMALL_LINE))
    busy = parse_scenario(
        apply_overrides(base.to_dict(), [("products.part.arrival", {"dist": "exponential", "mean": 0.8})])
    )
    base_run, run = run_against_base(base, busy, settings, "busier", replications=2)
    app = open_page("views/whatif.py", run=run.name, base=base_run.name)
    assert any("stations.cut: offered load is 131% of capacity" in w.value for w in app.warning)
    changed = app.dataframe[0].value
    assert list(changed["Setting"]) == ["products.part.arrival"]
    assert "busier" in texts(app)
