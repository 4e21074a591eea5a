"""End to end in a real browser: `twin dashboard` on a free loopback port, driven by Playwright
with Debian's chromium (.ci/run installs it): an editor change saved and run against its base,
the verdict cards on Compare, a study page whose sweep chart has its points, downloads of a
table and of the report, deep links and health checks under page paths; a screenshot of every
page goes to the test's temporary folder (and to TWIN_SCREENSHOTS when set)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import ROOT, fill_store, wait_until_healthy
from twin.scenario import load_scenario
from twin.studies.compare import compare
from twin.studies.store import find_runs, read_meta

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="needs Debian's chromium (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, library: Path) -> Iterator[tuple[str, Path]]:
    """`twin dashboard` on a free port over a store with a few runs; stopped by its PID."""
    store = tmp_path / "runs"
    fill_store(store)
    port = free_port()
    twin = Path(sys.executable).with_name("twin")
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(twin), "dashboard", "--runs", str(store), "--port", str(port), "--scenarios", str(library)],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(
            url, lambda: None if process.poll() is None else "the dashboard exited", tmp_path / "server.log"
        )
        yield url, store
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def settle(page: object) -> None:
    """Wait until the app has finished rerunning after an input (its status widget is gone)."""
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def download(page: Any, button: Any, save_as: Path, attempts: int = 3) -> None:
    """Click a download button and save what it sends. Under load a click can land while the
    app is still rerunning, and its download request is then dropped: the click is made again
    once the app has settled (a button that never downloads still fails). The buttons do not
    rerun the app themselves (``on_click="ignore"``)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        settle(page)
        try:
            with page.expect_download(timeout=30_000) as event:
                button.click()
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            continue
        event.value.save_as(save_as)
        return


def test_every_page_in_a_browser(server: tuple[str, Path], tmp_path: Path, library: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, store = server
    for path in ("_stcore/health", "compare/_stcore/health", "studies/_stcore/health"):
        with urllib.request.urlopen(f"{url}/{path}", timeout=5) as reply:
            assert reply.status == 200, path
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2600}, accept_downloads=True)
        page.set_default_timeout(60_000)

        # The editor: two cutters, saved as a new file, then run against the file as it is.
        page.goto(f"{url}/editor?file=small_line.yaml")
        page.get_by_role("heading", name="Editor").wait_for()
        settle(page)  # an expander opened while the first run still draws the page is drawn again, closed
        page.get_by_text("Station cut").first.click()
        machines = page.get_by_label("Machines").first
        machines.fill("2")
        machines.press("Enter")
        page.get_by_text("Valid: 1 change(s)").wait_for()
        settle(page)
        name = page.get_by_label("File name")
        name.fill("two_cutters.yaml")
        name.press("Enter")
        settle(page)
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text(re.compile(r"Saved .*two_cutters\.yaml")).wait_for()
        assert load_scenario(library / "two_cutters.yaml").stations["cut"].machines == 2
        page.screenshot(path=shots / "editor.png", full_page=True)
        run_name = page.get_by_label("Name of the run")
        run_name.fill("browser two cutters")
        run_name.press("Enter")
        settle(page)
        page.get_by_role("button", name="Run and compare").click()
        page.get_by_role("heading", name="What-if").wait_for(timeout=120_000)
        page.locator("[data-testid='stMetric']").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=shots / "what-if.png", full_page=True)
        runs = {read_meta(r).get("name"): r for r in find_runs([store])}
        assert read_meta(runs["browser two cutters"])["overrides"] == {"stations.cut.machines": 2}
        throughput = compare([runs["browser two cutters"]]).set_index("kpi").at["throughput", "mean"]

        # Compare: a verdict card per KPI, the table, downloads of the table and the report.
        ids = [runs["small-line (base)"].name, runs["browser two cutters"].name]
        page.goto(f"{url}/compare?run={ids[0]}&run={ids[1]}")
        page.get_by_role("heading", name="Compare").wait_for()
        cards = page.locator("[data-testid='stMetric']")
        cards.first.wait_for()
        assert cards.count() == 4
        assert "Throughput (jobs/min)" in cards.first.inner_text()
        table = page.locator("[data-testid='stTable']").first
        assert f"{throughput:.4g}" in table.inner_text()
        saved = tmp_path / "comparison.csv"
        download(page, page.get_by_role("button", name="CSV").first, saved)
        assert "Throughput (jobs/min)" in saved.read_text(encoding="utf-8-sig")
        download(page, page.get_by_role("button", name="One-page report"), tmp_path / "report.html")
        assert "<svg" in (tmp_path / "report.html").read_text()
        page.wait_for_timeout(2000)
        page.screenshot(path=shots / "compare.png", full_page=True)

        # A sweep's page: its first chart holds one point per finished sweep point.
        (sweep,) = [p for p in store.iterdir() if (p / "sweep.json").is_file()]
        page.goto(f"{url}/studies?study={sweep.name}")
        page.get_by_role("heading", name="KPIs against the varied values").wait_for()
        chart = page.locator(".vega-embed").first
        chart.locator(".mark-symbol path").first.wait_for()
        assert chart.locator(".mark-symbol path").count() == 3
        assert "NaN" not in (chart.locator(".mark-symbol path").first.get_attribute("transform") or "")
        page.wait_for_timeout(2000)
        page.screenshot(path=shots / "studies.png", full_page=True)

        for path, heading in (
            ("", "Overview"), ("scenarios", "Scenarios"), ("runs", "Runs"), ("run-detail", "Run detail"),
            ("agents", "Agents"),
        ):  # fmt: skip
            page.goto(f"{url}/{path}")
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            page.wait_for_timeout(3000)
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=shots / f"{path or 'overview'}.png", full_page=True)
        browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "agents.png", "compare.png", "editor.png", "overview.png", "run-detail.png", "runs.png", "scenarios.png",
        "studies.png", "what-if.png",
    ]  # fmt: skip
    keep = os.environ.get("TWIN_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
