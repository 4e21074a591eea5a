"""Packaging promises: a light `import twin`, a published schema, a README that runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from twin.scenario import json_schema

ROOT = Path(__file__).resolve().parents[1]


def test_import_twin_stays_light() -> None:
    """`import twin` loads neither torch, streamlit nor Stable-Baselines3 (they belong to extras),
    nor pandas and scipy (loaded by the functions that need them); Gymnasium is a light core
    dependency that registers the env ids."""
    heavy = "('torch', 'streamlit', 'stable_baselines3', 'sb3_contrib', 'ortools', 'pandas', 'scipy')"
    code = f"import sys, twin; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_worker_runs_a_replication_without_the_table_stack() -> None:
    """What a worker process of `twin run --workers`/sweeps imports to run a replication (the
    pickled `run_replication`) leaves pandas and scipy alone."""
    code = (
        "import sys; from twin.measure.replication import run_replication; from twin.scenario import load_scenario; "
        "run_replication(load_scenario('scenarios/validation/mm1.yaml', ['horizon=2000', 'warmup=100']), 0); "
        "print(sorted(m for m in ('pandas', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_published_schema_is_current() -> None:
    """scenario.schema.json is what the code generates (regenerate with `twin schema`)."""
    assert (ROOT / "scenario.schema.json").read_text() == json_schema()


@pytest.mark.slow
def test_readme_python_example_runs() -> None:
    """Every ```python block of the README runs as written, from the project root."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks, "the README has a Python example"
    for block in blocks:
        done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=ROOT, check=False)
        assert done.returncode == 0, done.stderr


def test_package_docstring_example_runs() -> None:
    """The example in `twin`'s own docstring runs as written (doctest, from the project root)."""
    import doctest

    import twin

    cwd = Path.cwd()
    try:
        import os

        os.chdir(ROOT)
        failures, tried = doctest.testmod(twin, verbose=False)
    finally:
        os.chdir(cwd)
    assert tried > 0 and failures == 0
