"""The dashboard with every scenario feature on: the motor plant's stations in words, and its
run (vehicle records, maintenance, assembly) on the run detail and scenario pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard.data import stations_table
from tests.dashboard.conftest import ROOT
from tests.dashboard.test_pages import open_page
from twin.scenario import load_scenario
from twin.studies.whatif import run_whatif

MOTOR_PLANT = ROOT / "scenarios" / "examples" / "motor_plant.yaml"


def test_stations_table_names_the_features() -> None:
    table = stations_table(load_scenario(MOTOR_PLANT)).set_index("Station")["Features"]
    assert table["oven"].startswith("batches of 12, start after 45 min")
    assert table["assembly"] == "assembles 1 rotor, 1 stator, 2 end_shield"
    assert table["eol_test"].startswith("rework 4.0% to assembly")
    assert "maintenance every 2400 min (busy)" in table["housing_mill"]
    assert table["packing"] == "none"


@pytest.mark.slow
def test_pages_show_a_run_of_the_motor_plant(settings: Path, library: Path) -> None:
    shutil.copy(MOTOR_PLANT, library / "motor_plant.yaml")
    scenario = load_scenario(MOTOR_PLANT, ["horizon=2880", "warmup=1440"])
    run_whatif(scenario, {}, settings, "motor plant", replications=1)
    open_page("views/run_detail.py")
    app = open_page("views/scenarios.py")
    app.selectbox[0].select_index(1).run()  # broken, motor_plant, small_line
    assert not app.exception, [e.value for e in app.exception]
    assert any("motor_plant.yaml is valid" in s.value for s in app.success)
