"""Grid (ground truth) and Optuna on the example lines: they agree, Optuna needs at most a
quarter of the grid's evaluations, and the best allocations are the known ones: an inverted
bowl on the balanced line, slots next to the bottleneck on the unbalanced one.

Each test computes its line's grid (286 designs x 4 replications, about a minute of one core);
Optuna then shares the grid's evaluator, whose cached results are exactly what it would have
simulated itself (common random numbers), while counting the designs it asked for.
"""

from __future__ import annotations

import pytest

from agents.design_search import SearchResult, grid_search, optuna_search
from twin.scenario import Scenario, load_scenario
from twin.studies.design import DesignEvaluator, DesignSpace

from .conftest import EXAMPLES


def _grid_and_optuna(scenario: Scenario) -> tuple[SearchResult, SearchResult]:
    space = DesignSpace.of(scenario)
    with DesignEvaluator(space) as evaluator:
        grid = grid_search(evaluator, maximal=True)
        optuna = optuna_search(evaluator, trials=grid.evaluations // 4, seed=0)
    best, found = grid.best, optuna.best
    assert optuna.evaluations <= grid.evaluations / 4
    half_width = best.objective - best.objective_ci[0]
    assert best.objective - found.objective <= half_width, (best.design, found.design)
    return grid, optuna


def _buffers(design: dict[str, float]) -> dict[str, float]:
    return {path.split(".")[1]: value for path, value in design.items()}


@pytest.mark.slow
def test_balanced_line_inverted_bowl() -> None:
    grid, optuna = _grid_and_optuna(load_scenario(EXAMPLES / "balanced_line.yaml"))
    for result in (grid, optuna):
        b = _buffers(result.best.design)
        assert sum(b.values()) == 10
        # The inverted bowl: the middle conveyors get at least as many slots as the end ones.
        assert min(b["op30"], b["op40"]) >= max(b["op20"], b["op50"]), b


@pytest.mark.slow
def test_unbalanced_line_buffers_the_bottleneck() -> None:
    scenario = load_scenario(EXAMPLES / "unbalanced_line.yaml")
    stations = list(scenario.stations)
    bottleneck = max(stations, key=lambda s: scenario.process_time("part", stations.index(s)).mean)
    assert bottleneck == "op40"
    grid, optuna = _grid_and_optuna(scenario)
    for result in (grid, optuna):
        b = _buffers(result.best.design)
        beside = b[bottleneck] + b[stations[stations.index(bottleneck) + 1]]  # in front of it and behind it
        assert b[bottleneck] == max(b.values()), b
        assert beside > 10 / 2, b


def test_maximal_grid_finds_the_full_grids_best_on_a_line(small_line: Scenario) -> None:
    """Pruning designs that leave budget unspent is exact when more capacity never hurts."""
    with DesignEvaluator(DesignSpace.of(small_line)) as evaluator:
        full = grid_search(evaluator)
        maximal = grid_search(evaluator, maximal=True)
    assert maximal.evaluations < full.evaluations
    assert maximal.best.design == full.best.design


def test_optuna_study_resumes_from_its_storage(small_line: Scenario, tmp_path: object) -> None:
    storage = f"sqlite:///{tmp_path}/study.db"
    space = DesignSpace.of(small_line)
    first = optuna_search(DesignEvaluator(space), trials=6, storage=storage)
    evaluator = DesignEvaluator(space)
    second = optuna_search(evaluator, trials=10, storage=storage)
    assert second.details["resumed_trials"] == 6 and second.details["study"] == first.details["study"]
    assert len(evaluator.evaluations) <= 4  # only the 4 new trials needed simulations
    assert {e.values for e in first.designs} <= {e.values for e in second.designs}
    for design in second.designs:  # results read back from the study equal fresh simulations
        assert DesignEvaluator(space).evaluate(design.values).objective == pytest.approx(design.objective)
