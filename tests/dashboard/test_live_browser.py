"""The Live floor page in a real browser with a real mirror publishing: mosquitto on a free
port, `twin mirror` following it, `twin replay` sending a log slowly enough that the page
must refresh by itself to keep up, and `twin dashboard`; then a stored run played back
through the same picture. Screenshots go to the test's temporary folder (and to
TWIN_SCREENSHOTS when set)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
import yaml

from tests.broker import Broker, needs_mosquitto, running_broker
from tests.dashboard.conftest import ROOT, SMALL_LINE, wait_until_healthy
from tests.dashboard.test_browser import CHROMIUM, FLAGS, free_port
from twin.scenario import parse_scenario
from twin.studies.whatif import run_whatif
from twin.sync.eventlog import events_to_log

pytestmark = [
    pytest.mark.slow,
    needs_mosquitto,
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="needs Debian's chromium (apt-get install chromium)"),
]

TWIN = str(Path(sys.executable).with_name("twin"))


def stop(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[tuple[str, Broker, Path]]:
    """A broker, a mirror of small_line on it, a replay under way, a store with one run
    with its events, and the dashboard over them: yields the dashboard's URL."""
    library = tmp_path / "scenarios"
    library.mkdir()
    tight = SMALL_LINE.replace("slack: 20", "slack: 4")  # due dates tight enough to have late jobs
    (library / "small_line.yaml").write_text(tight)
    store = tmp_path / "runs"
    line = parse_scenario(yaml.safe_load(tight))
    run = run_whatif(line, {}, store, "played back", replications=1)
    log = tmp_path / "floor.csv"
    events_to_log(pd.read_parquet(run / "events.parquet"), line).to_csv(log, index=False)
    processes: list[subprocess.Popen[bytes]] = []
    with running_broker(tmp_path / "broker") as broker:
        try:
            out = (tmp_path / "processes.log").open("w")
            processes.append(subprocess.Popen(
                [TWIN, "mirror", str(library / "small_line.yaml"), "--broker", broker.url, "--forecast-every", "0.5"],
                stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
            # 600 min in about 60 s: the page must refresh itself to follow
            replay = [TWIN, "replay", str(log), "--broker", broker.url, "--speed", "600"]
            processes.append(subprocess.Popen(replay, stdout=out, stderr=subprocess.STDOUT))
            port = free_port()
            processes.append(subprocess.Popen(
                [TWIN, "dashboard", "--runs", str(store), "--port", str(port), "--scenarios", str(library)],
                stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
            ))  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, lambda: None, tmp_path / "processes.log")
            yield url, broker, run
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    stop(process)


def metric(page: object, label: str) -> float:
    card = page.locator("[data-testid='stMetric']").filter(has_text=label).first  # type: ignore[attr-defined]
    text = card.locator("[data-testid='stMetricValue']").inner_text()
    return float(re.sub(r"[^0-9.]", "", text))


def test_live_floor_follows_a_mirror_and_plays_back_a_run(floor: tuple[str, Broker, Path], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, broker, run = floor
    shots = Path(os.environ.get("TWIN_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    query = {"source": "Mirror (broker)", "broker": broker.url, "topic": "plant/forecast",
             "scenario": "small_line.yaml", "every": "1"}  # fmt: skip
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/live?{urlencode(query)}")
        page.get_by_role("heading", name="Live floor").wait_for()
        page.get_by_text("Mirror health").wait_for()
        tiles = page.locator(".vega-embed").first.locator("path[aria-label*='State: ']")  # a machine's tile
        tiles.first.wait_for()
        assert tiles.count() >= 1  # the machines seen so far
        first_time, first_received = metric(page, "Time (min)"), metric(page, "Received")
        page.screenshot(path=shots / "live-mirror.png", full_page=True)
        page.wait_for_timeout(4000)  # no click, no reload: the page refreshes by itself
        later_time, later_received = metric(page, "Time (min)"), metric(page, "Received")
        assert later_received > first_received and later_time > first_time
        page.locator(".vega-embed").nth(1).wait_for()  # the forecast's fan under the floor
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=shots / "live-mirror-later.png", full_page=True)

        page.goto(f"{url}/live?{urlencode({'source': 'Stored run', 'run': run.name, 'at': '300'})}")
        page.get_by_role("heading", name="Live floor").wait_for()
        tiles = page.locator(".vega-embed").first.locator("path[aria-label*='State: ']")
        tiles.first.wait_for()
        assert metric(page, "Time (min)") == 300
        assert tiles.count() == 2  # the cutter and the drill
        flagged = metric(page, "Late") + metric(page, "At risk")  # a still page: the table agrees with the counts
        assert (page.locator("[data-testid='stDataFrame']").count() > 0) == (flagged > 0)
        page.wait_for_timeout(1500)
        page.screenshot(path=shots / "live-playback.png", full_page=True)
        browser.close()
    assert {"live-mirror.png", "live-mirror-later.png", "live-playback.png"} <= {p.name for p in shots.iterdir()}
