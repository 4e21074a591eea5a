"""Studies as things of their own (listed, costed, their sensitivity and front), run metadata
people change (names, tags, atomic deletion), and the pieces the editor and exports stand on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dashboard import editing
from dashboard.exports import csv_bytes, excel_bytes
from tests.dashboard.conftest import SMALL_LINE, design_study
from twin.measure.timeline import output_per_period, period_edges
from twin.scenario import apply_overrides, changes_between, load_scenario, offered_loads, parse_scenario
from twin.studies.sensitivity import design_costs, main_effects, pareto_mask, point_values, tornado
from twin.studies.store import (
    TRASH,
    StoreError,
    delete_folder,
    find_run_of,
    find_runs,
    list_runs,
    list_studies,
    read_meta,
    rename_run,
    tag_run,
    write_scenario_file,
)
from twin.studies.sweep import run_sweep
from twin.studies.whatif import run_against_base, run_whatif

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def line() -> object:
    return parse_scenario(yaml.safe_load(SMALL_LINE))


@pytest.mark.slow
def test_studies_are_listed_with_what_they_vary_and_their_size(tmp_path: Path, line: object) -> None:
    run_sweep(line, {"stations.drill.buffer": [1, 2], "stations.cut.machines": [1, 2]}, replications=2, root=tmp_path)
    folder = design_study(tmp_path)
    run_whatif(line, {}, tmp_path, "loose run", replications=2)
    studies = list_studies(tmp_path).set_index("kind")
    assert studies.at["sweep", "varied"] == ["stations.drill.buffer", "stations.cut.machines"]
    assert studies.at["sweep", "points"] == studies.at["sweep", "planned"] == 4
    assert studies.at["design", "points"] == len(list(folder.glob("*/meta.json")))
    assert studies.at["design", "status"] == "complete" and studies.at["design", "method"] == "grid"
    runs = list_runs(tmp_path)
    assert runs["study_id"].notna().sum() == studies.at["design", "points"]
    assert list(runs.loc[runs["name"] == "loose run", "study_id"].isna()) == [True]


@pytest.mark.slow
def test_design_costs_follow_the_design_section(tmp_path: Path) -> None:
    folder = design_study(tmp_path)
    _, values = point_values(folder)
    costs = design_costs(folder, values)
    for run_id, design in values.items():  # b.buffer costs 1 per slot, b.machines 2 per machine above 1
        assert costs[run_id] == design["stations.b.buffer"] + 2 * (design["stations.b.machines"] - 1)


def test_main_effects_and_tornado_rank_parameters_by_swing() -> None:
    """A 2 x 3 factorial where y = 10 a + b: a swings 10, b swings 2, averaged over the other."""
    points = pd.DataFrame([{"a": a, "b": b, "mean": 10 * a + b} for a in (0, 1) for b in (0, 1, 2)])
    effects = main_effects(points, ["a", "b"])
    assert list(effects.loc[effects["parameter"] == "b", "mean"]) == [5.0, 6.0, 7.0]
    bars = tornado(points, ["b", "a"])
    assert list(bars["parameter"]) == ["a", "b"]
    assert list(bars["swing"]) == [10.0, 2.0]
    assert bars.at[0, "low_level"] == 0 and bars.at[0, "high_level"] == 1


def test_pareto_mask_keeps_the_undominated() -> None:
    cost = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    value = np.array([0.5, 0.7, 0.6, 0.7, 0.9])
    assert list(pareto_mask(cost, value)) == [True, True, False, False, True]
    assert list(pareto_mask(cost, -value, "down")) == [True, True, False, False, True]


def test_runs_are_named_tagged_and_deleted_atomically(tmp_path: Path, line: object) -> None:
    keep = run_whatif(line, {}, tmp_path, "keep", replications=2)
    gone = run_whatif(line, {"stations.cut.machines": 2}, tmp_path, "gone", replications=2)
    assert rename_run(keep, "  kept run ")["name"] == "kept run"
    assert tag_run(keep, ["week 48", " baseline", "", "week 48"])["tags"] == ["baseline", "week 48"]
    assert list_runs(tmp_path).set_index("name").at["kept run", "tags"].tolist() == ["baseline", "week 48"]
    assert "name" not in rename_run(gone, "")
    delete_folder(tmp_path, gone)
    assert not gone.exists() and find_runs([tmp_path]) == [keep]
    assert list((tmp_path / TRASH).iterdir()) == []
    with pytest.raises(StoreError, match="not a folder of the run store"):
        delete_folder(tmp_path / "elsewhere", keep)
    with pytest.raises(StoreError, match="not a folder of the run store"):
        delete_folder(tmp_path, tmp_path)
    (tmp_path / "notes").mkdir()
    with pytest.raises(StoreError, match="not a run, sweep, study or evaluation"):
        delete_folder(tmp_path, tmp_path / "notes")


def test_a_deleted_sweep_goes_whole(tmp_path: Path, line: object) -> None:
    result = run_sweep(line, {"stations.drill.buffer": [1, 2]}, replications=2, root=tmp_path)
    assert result.folder is not None
    delete_folder(tmp_path, result.folder)
    assert list_studies(tmp_path).empty
    assert [p.name for p in tmp_path.iterdir()] == [TRASH]  # emptied: nothing of the sweep is left


def test_run_against_base_reuses_a_stored_base(tmp_path: Path, line: object) -> None:
    changed = parse_scenario(apply_overrides(line.to_dict(), [("stations.cut.machines", 2)]))
    base_run, run = run_against_base(line, changed, tmp_path, "two cutters", replications=2, seed=4)
    assert read_meta(run)["overrides"] == {"stations.cut.machines": 2}
    assert find_run_of(tmp_path, (base_run / "scenario.yaml").read_text(), 4, 2) == base_run
    again, _ = run_against_base(line, changed, tmp_path, "again", replications=2, seed=4)
    assert again == base_run
    other, _ = run_against_base(line, changed, tmp_path, "other seed", replications=2, seed=5)
    assert other != base_run


def test_a_scenario_file_is_never_overwritten_unasked(tmp_path: Path) -> None:
    target = tmp_path / "line.yaml"
    write_scenario_file(target, SMALL_LINE)
    with pytest.raises(FileExistsError):
        write_scenario_file(target, "name: other\n")
    assert target.read_text() == SMALL_LINE
    write_scenario_file(target, SMALL_LINE.replace("small-line", "renamed"), overwrite=True)
    assert load_scenario(target).name == "renamed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.yaml"]


@pytest.mark.parametrize(
    "edits",
    [
        {"stations.cut.machines": 3},
        {"stations.drill.buffer": None},  # unlimited: the key goes
        {"stations.cut.failures": None, "stations.drill.dispatching": "spt"},
        {"stations.cut.process_time": {"dist": "gamma", "shape": 2.0, "scale": 0.5}},
        {"products.part.route": ["cut", "drill", "cut"]},
        {"products.part.arrival": {"dist": "exponential", "mean": 1.5}, "horizon": 900},
    ],
)
def test_changes_between_turn_the_base_into_the_edit(edits: dict[str, object]) -> None:
    base = parse_scenario(yaml.safe_load(SMALL_LINE)).to_dict()
    changed = apply_overrides(base, edits.items())
    changes = changes_between(base, changed)
    assert parse_scenario(apply_overrides(base, changes.items())) == parse_scenario(changed)
    assert set(changes) == set(edits)


def test_offered_loads_match_the_load_warning() -> None:
    s = load_scenario(ROOT / "scenarios/examples/assembly_line.yaml")
    loads = offered_loads(s)
    assert loads["rotor_press"] == pytest.approx(1.70 / 2.0 / (360 / 378), rel=1e-6)  # the comment's 89%
    assert max(loads.values()) < 1


def test_editor_check_reports_the_cli_lines_by_field() -> None:
    base = parse_scenario(yaml.safe_load(SMALL_LINE)).to_dict()
    checked = editing.check(base, {"stations.cut.machines": 0})
    assert checked.scenario is None
    assert editing.problems_under(checked.problems, "stations.cut.machines") == [
        "stations.cut.machines: must be >= 1 (got 0)"
    ]
    routed = editing.check(base, {"products.part.route": ["cut", "nowhere"]})
    (line,) = editing.problems_under(routed.problems, "products.part.route")
    assert line.startswith("products.part.route[1]: no station of that name")
    assert editing.problems_under(routed.problems, "products.part.arrival") == []
    assert editing.parse_optional_int("") is None and editing.parse_optional_int("4") == 4
    assert editing.parse_optional_int("four") == "four"  # kept, so validation names it
    kept = editing.route_data("cut, drill", [{"station": "cut", "process_time": 2.0}, "drill"])
    assert kept == [{"station": "cut", "process_time": 2.0}, "drill"]
    assert editing.starting_parameters("weibull", 10.0)["scale"] == pytest.approx(10.0 / 0.886227, rel=1e-5)


def test_output_per_shift_follows_the_operator_calendar() -> None:
    s = load_scenario(ROOT / "scenarios/examples/operator_shifts.yaml")
    edges = period_edges(s, 2880.0, "shift")
    assert list(edges) == [0, 360, 840, 1320, 1440, 1800, 2280, 2760, 2880]
    assert list(period_edges(s, 3000.0, "day")) == [0, 1440, 2880, 3000]
    assert period_edges(s.model_copy(update={"time_unit": "ticks"}), 100.0, "day") is None
    events = pd.DataFrame({"event": ["EXIT", "EXIT", "ARRIVE", "EXIT"], "time": [10.0, 400.0, 500.0, 2879.0]})
    assert list(output_per_period(events, edges)["completed"]) == [1, 1, 0, 0, 0, 0, 0, 1]


def test_exports_read_back() -> None:
    frame = pd.DataFrame({"KPI": ["Throughput (jobs/min)", "Lead time (min)"], "mean": [0.5, 18.25]})
    assert pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig").equals(frame)
    sheets = pd.read_excel(io.BytesIO(excel_bytes({"comparison": frame})), sheet_name=None)
    assert list(sheets) == ["comparison"] and sheets["comparison"].equals(frame)
    assert json.loads(json.dumps(frame.to_dict("records")))  # plain values only
