"""`twin optimize` says whether the best design is really better than the runner-up, reports
progress off a terminal, and its README example has a Pareto front with more than one cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.design_search import SearchResult
from twin.commands.design import _LineProgress, overlap_sentence
from twin.scenario import load_scenario
from twin.studies.design import DesignSpace, Evaluation

ROOT = Path(__file__).resolve().parents[2]


def evaluation(index: int, objective: float, low: float, high: float) -> Evaluation:
    return Evaluation(index, (float(index),), {"x": float(index)}, float(index), objective, (low, high), (), {})


def test_overlapping_intervals_are_said() -> None:
    close = SearchResult("grid", [evaluation(0, 1.0, 0.9, 1.1), evaluation(1, 0.95, 0.85, 1.05)], 0.0)
    apart = SearchResult("grid", [evaluation(0, 1.0, 0.98, 1.02), evaluation(1, 0.5, 0.45, 0.55)], 0.0)
    assert "overlaps the runner-up's" in str(overlap_sentence(close))
    assert "lies clear of the runner-up's" in str(overlap_sentence(apart))
    assert overlap_sentence(SearchResult("grid", [evaluation(0, 1.0, 0.9, 1.1)], 0.0)) is None


def test_progress_lines_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _LineProgress("trials")
    lines.EVERY_S = 0.0
    lines(3, 10)
    lines(10, 10)
    assert capsys.readouterr().err.splitlines()[-1].startswith("trials: 10/10 after")


def test_capacity_line_designs_differ_in_cost() -> None:
    """The README's grid example: its designs cost from 0 to the budget, so the front has steps."""
    space = DesignSpace.of(load_scenario(ROOT / "scenarios/examples/capacity_line.yaml"))
    costs = {space.cost(design) for design in space.grid()}
    assert min(costs) == 0 and max(costs) == space.budget and len(costs) > 3
