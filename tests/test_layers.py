"""The layers of docs/architecture.md hold: every import points down the table, never up.

Imports are read from the source (module level, inside functions and under TYPE_CHECKING
alike: a lazy upward import is still an upward dependency), so the test needs nothing
installed beyond the standard library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("twin.errors", "twin.dispatching"),
    ("twin.scenario",),
    ("twin.sim",),
    ("twin.measure",),
    ("twin.jobshop",),
    ("twin.studies",),
    ("twin.envs",),
    ("twin.sync",),
    ("twin.service",),
    ("twin.commands", "twin.cli", "twin"),
    ("agents",),
    ("dashboard",),
)
"""Packages by layer, lowest first (docs/architecture.md, "Layers")."""

COMPOSITION_ROOT = ("twin.commands", "twin.cli")
"""May import `agents`, but only inside the functions that need them."""


def layer_of(module: str) -> int:
    """The layer of a dotted module name (the longest package prefix listed wins)."""
    best, found = -1, -1
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and len(package) > best:
                best, found = len(package), index
    if found < 0:
        raise KeyError(module)
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported module, line, at module level)`` for every project import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in ("twin", "agents", "dashboard"):
                found.append((name, node.lineno, id(node) in top_level))
    return found


def upward_imports(files: list[Path]) -> list[str]:
    problems = []
    for path in files:
        here = module_name(path)
        mine = layer_of(here)
        for name, line, top in imports(path):
            theirs = layer_of(name)
            if theirs <= mine:
                continue
            lazy_agents = here.startswith(COMPOSITION_ROOT) and name.startswith("agents") and not top
            if not lazy_agents:
                where = f"{path.relative_to(ROOT)}:{line}"
                problems.append(f"{where}: {here} (layer {mine}) imports {name} (layer {theirs})")
    return problems


def project_files() -> list[Path]:
    return sorted(p for package in ("twin", "agents", "dashboard") for p in (ROOT / package).rglob("*.py"))


def test_every_import_points_down_the_layers() -> None:
    assert upward_imports(project_files()) == []


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a model module importing the run store is reported."""
    sim = ROOT / "twin" / "sim" / "plant.py"
    bad = tmp_path / "plant.py"
    bad.write_text(sim.read_text(encoding="utf-8") + "\nfrom twin.studies.store import write_run\n")
    here = layer_of("twin.sim.plant")
    found = [name for name, _, _ in imports(bad) if layer_of(name) > here]
    assert found == ["twin.studies.store"]


@pytest.mark.parametrize(
    ("module", "layer"),
    [("twin.scenario.schema", 1), ("twin.sim.plant", 2), ("twin.studies.store", 5), ("agents.train", 10)],
)
def test_modules_sit_in_their_layer(module: str, layer: int) -> None:
    assert layer_of(module) == layer


def test_import_twin_loads_no_heavy_stack() -> None:
    """`import twin` loads neither the statistics stack (pandas, scipy) nor torch nor streamlit."""
    heavy = ("pandas", "scipy", "scipy.stats", "torch", "streamlit", "stable_baselines3", "ortools", "matplotlib")
    code = f"import sys, twin; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_validating_a_scenario_loads_no_statistics_stack() -> None:
    """`twin validate` and `twin --help` import the CLI without pandas or scipy."""
    code = (
        "import sys; from typer.testing import CliRunner; from twin.cli import app; "
        "r = CliRunner().invoke(app, ['validate', 'scenarios/examples/job_shop.yaml']); "
        "print(r.exit_code, sorted(m for m in ('pandas', 'scipy', 'torch') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "0 []"
