"""The README's service examples (httpx and curl) run as written against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.service.server import ROOT, Server

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## For plant IT") : README.index("## Development")]
DEFAULT_URL = "http://127.0.0.1:8000"


def test_the_httpx_example(server: Server) -> None:
    (block,) = re.findall(r"```py\n(.*?)```", SECTION, flags=re.S)
    env = {**os.environ, "TWIN_URL": server.url, "TWIN_TOKEN": server.tokens["planner"]}
    done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    status, throughput = done.stdout.split(" ", 1)
    assert status == "done" and '"mean": 0.' in throughput.replace("'", '"')


def test_the_curl_example(server: Server) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S)
    curl = next(block for block in blocks if block.startswith("curl"))
    env = {**os.environ, "TWIN_TOKEN": server.tokens["viewer"]}
    script = curl.replace(DEFAULT_URL, server.url)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[") and '"valid":false' in done.stdout
    assert '"problems":["products: must not be empty (got {})","stations: must not be empty (got {})"]' in done.stdout
