"""End to end in a real browser: `twin dashboard` on a free loopback port, driven by Playwright
with Debian's chromium (.ci/run installs it): a what-if run from the What-if page shows on the
Compare page; a screenshot of every page goes to the test's temporary folder."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.conftest import ROOT, fill_store
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
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "dashboard did not become healthy in 90 s"
            time.sleep(0.3)
        yield url, store
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_whatif_run_shows_on_compare_page(server: tuple[str, Path], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, store = server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        page.set_default_timeout(60_000)

        page.goto(f"{url}/what-if")
        page.get_by_role("heading", name="What-if").wait_for()
        name = page.get_by_label("Name of the run")
        name.fill("browser what-if")
        replications = page.get_by_label("Replications")
        replications.fill("2")
        page.get_by_role("button", name="Run what-if").click()
        page.get_by_text("Stored run").wait_for(timeout=120_000)
        page.screenshot(path=shots / "what-if.png")

        runs = [run for run in find_runs([store]) if read_meta(run).get("name") == "browser what-if"]
        assert len(runs) == 1 and read_meta(runs[0])["replications"] == 2
        throughput = compare([runs[0]]).set_index("kpi").at["throughput", "mean"]

        page.goto(f"{url}/compare")
        page.get_by_role("heading", name="Compare").wait_for()
        page.get_by_text("browser what-if", exact=False).first.wait_for()
        table = page.locator("[data-testid='stTable']")
        table.wait_for()
        assert "Throughput (jobs/min)" in table.inner_text()
        assert f"{throughput:.4g}" in table.inner_text()
        page.wait_for_timeout(2000)  # let the charts draw
        page.screenshot(path=shots / "compare.png")

        for path, heading in (("scenarios", "Scenarios"), ("run-detail", "Run detail"), ("agents", "Agents")):
            page.goto(f"{url}/{path}")
            page.get_by_role("heading", name=heading).wait_for()
            page.wait_for_timeout(3000)
            page.screenshot(path=shots / f"{path}.png")
        browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "agents.png", "compare.png", "run-detail.png", "scenarios.png", "what-if.png",
    ]  # fmt: skip
    keep = os.environ.get("TWIN_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
