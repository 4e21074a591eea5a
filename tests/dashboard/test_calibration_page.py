"""The Calibration page: a log calibrated, each fit shown over its data, a backtest table;
with AppTest and in a real browser (Debian's chromium, as test_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import ROOT, SMALL_LINE
from tests.dashboard.test_browser import CHROMIUM, FLAGS, server
from twin.measure.experiment import simulate
from twin.scenario import apply_overrides, parse_scenario
from twin.sync.eventlog import events_to_log, write_log

APP = str(ROOT / "dashboard/app.py")
__all__ = ["server"]  # the browser test's dashboard server fixture, shared


@pytest.fixture
def plant_log(tmp_path: Path) -> Path:
    """A log of the small line over 3000 min, as a plant would keep it."""
    line = parse_scenario(apply_overrides(yaml.safe_load(SMALL_LINE), [("horizon", 3000), ("warmup", 0)]))
    return write_log(events_to_log(simulate(line, replications=1, seed=2).events, line), tmp_path / "line.csv")


def test_page_without_a_log(settings: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("views/calibration.py")
    app.run()
    assert not app.exception
    assert [t.value for t in app.title] == ["Calibration"]
    app.button[0].click().run()
    assert "Name a log file" in app.error[0].value


def test_calibrate_show_fits_and_backtest(settings: Path, plant_log: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=180)
    app.run()
    app.switch_page("views/calibration.py")
    app.run()
    app.text_input(key="calibration-path").input(str(plant_log))
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "2 stations, 1 products" in app.success[0].value
    parameters = app.selectbox(key="calibration-parameter").options
    assert "stations.cut.failures.ttf" in parameters and "products.part.arrival" in parameters
    app.selectbox(key="calibration-parameter").select("stations.drill.process_time").run()
    assert not app.exception
    assert any("n=" in c.value and "KS=" in c.value for c in app.caption)
    app.number_input[0].set_value(2)
    app.button[1].click().run()
    assert not app.exception, [e.value for e in app.exception]
    table = app.table[0].value
    assert "Throughput (jobs/min)" in list(table["KPI"])
    assert any("Wasserstein" in c.value for c in app.caption)


def test_bad_log_is_explained(settings: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,event,job,product,station,machine\n1,arrive,a,p,,\n2,strat,a,p,s,m\n")
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("views/calibration.py")
    app.run()
    app.text_input(key="calibration-path").input(str(bad))
    app.button[0].click().run()
    assert "bad.csv:3: event: unknown event" in app.code[0].value


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="needs Debian's chromium (apt-get install chromium)")
def test_calibration_in_a_browser(server: tuple[str, Path], plant_log: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _ = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/calibration")
        page.get_by_role("heading", name="Calibration").wait_for()
        page.get_by_label("Event log").fill(str(plant_log))
        page.get_by_role("button", name="Calibrate").click()
        page.get_by_text("2 stations, 1 products").wait_for(timeout=120_000)
        page.get_by_role("button", name="Run backtest").click()
        table = page.locator("[data-testid='stTable']")
        table.wait_for(timeout=120_000)
        assert "Throughput (jobs/min)" in table.inner_text()
        page.wait_for_timeout(2000)
        page.screenshot(path=tmp_path / "calibration.png")
        browser.close()
    assert (tmp_path / "calibration.png").stat().st_size > 10_000
