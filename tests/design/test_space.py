"""Design spaces: costs, feasibility, the grid, repair, the Pareto front, and bad sections."""

from __future__ import annotations

import math

import pytest
import yaml

from twin.errors import ScenarioError
from twin.scenario import Scenario, load_scenario, parse_scenario
from twin.studies.design import DesignEvaluator, DesignSpace, Evaluation, pareto_front

from .conftest import EXAMPLES


def test_cost_and_feasibility_follow_the_contract(small_line: Scenario) -> None:
    space = DesignSpace.of(small_line)
    assert space.paths == ("stations.b.buffer", "stations.c.buffer", "stations.c.machines")
    assert space.integer == (True, True, True)
    assert space.start() == (0, 0, 1) and space.cost(space.start()) == 0
    assert space.cost((1, 1, 2)) == 1 + 1 + 2  # cost * (value - min), summed
    assert space.feasible((2, 0, 2)) and not space.feasible((3, 0, 2))  # 5 > budget 4
    assert not space.feasible((4, 0, 1))  # above max
    assert space.as_dict((1, 2, 1)) == {"stations.b.buffer": 1, "stations.c.buffer": 2, "stations.c.machines": 1}


def test_grid_enumerates_every_feasible_design_once(small_line: Scenario) -> None:
    space = DesignSpace.of(small_line)
    grid = list(space.grid())
    brute = [(b, c, m) for b in range(4) for c in range(4) for m in (1, 2) if space.feasible((b, c, m))]
    assert sorted(grid) == sorted(brute) and len(set(grid)) == len(grid)
    maximal = list(space.grid(maximal=True))
    assert maximal and all(space.maximal(d) and space.cost(d) > 3 for d in maximal)


def test_the_example_lines_have_the_documented_grids() -> None:
    """10 slots over 4 conveyors: C(14, 4) = 1001 designs within budget, C(13, 3) = 286 that spend it all."""
    for name in ("balanced_line.yaml", "unbalanced_line.yaml"):
        space = DesignSpace.of(load_scenario(EXAMPLES / name))
        assert sum(1 for _ in space.grid()) == math.comb(14, 4)
        assert sum(1 for _ in space.grid(maximal=True)) == math.comb(13, 3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ((1, 1, 2), (1, 1, 2)),  # feasible: unchanged
        ((3, 3, 2), (2, 2, 1)),  # cost 8: halved to (1.5, 1.5, 1.5) -> (1, 1, 1), then units back while affordable
        ((3, 3, 1), (2, 2, 1)),  # cost 6: scaled by 2/3 -> exactly (2, 2, 1)
        ((9, -2, 5), (2, 0, 2)),  # clipped to (3, 0, 2), cost 5: x0.8 -> (2.4, 0, 1.8), largest remainder first
    ],
)
def test_repair_shrinks_over_budget_designs_into_the_budget(
    small_line: Scenario, raw: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    space = DesignSpace.of(small_line)
    repaired = space.repair(raw)
    assert repaired == expected and space.feasible(repaired)


def _evaluation(index: int, cost: float, throughput: float) -> Evaluation:
    kpis = {"throughput": {"mean": throughput, "ci_low": math.nan, "ci_high": math.nan}}
    return Evaluation(index, (cost,), {"x": cost}, cost, throughput, (math.nan, math.nan), (throughput,), kpis)


def test_pareto_front_keeps_only_undominated_designs() -> None:
    designs = [
        _evaluation(0, 0, 0.5),
        _evaluation(1, 1, 0.6),
        _evaluation(2, 1, 0.55),
        _evaluation(3, 2, 0.58),
        _evaluation(4, 3, 0.7),
        _evaluation(5, 3, 0.7),
    ]
    assert [e.index for e in pareto_front(designs)] == [0, 1, 4]


def test_evaluations_use_common_random_numbers_and_are_cached(small_line: Scenario) -> None:
    space = DesignSpace.of(small_line)
    evaluator = DesignEvaluator(space)
    first = evaluator.evaluate((1, 1, 1))
    assert evaluator.evaluate((1, 1, 1)) is first and len(evaluator.evaluations) == 1
    again = DesignEvaluator(space).evaluate((1, 1, 1))
    assert again.per_replication == first.per_replication  # same seed: same streams, same result
    assert len(first.per_replication) == small_line.replications
    assert first.objective == pytest.approx(first.kpis["throughput"]["mean"])
    with pytest.raises(ScenarioError, match="infeasible"):
        evaluator.evaluate((3, 3, 2))


def test_profit_is_margin_times_throughput_minus_cost(small_line: Scenario) -> None:
    data = small_line.to_dict()
    data["design"] |= {"objective": "profit", "margin": 50}
    space = DesignSpace.of(parse_scenario(data))
    evaluation = DesignEvaluator(space).evaluate((1, 0, 2))
    assert evaluation.objective == pytest.approx(50 * evaluation.throughput - 3)


BAD_SECTIONS = [
    # an option that names no scenario value
    (
        {"stations.x.buffer": {"min": 0, "max": 2, "cost": 1}},
        "design.options.stations.x.buffer: no such scenario value",
    ),
    # max below min
    ({"stations.b.buffer": {"min": 3, "max": 1, "cost": 1}}, "max must be >= min"),
    # the scenario's current value outside the range
    ({"stations.c.machines": {"min": 2, "max": 3, "cost": 1}}, "current value must lie in [min, max]"),
    # a negative cost
    ({"stations.b.buffer": {"min": 0, "max": 2, "cost": -1}}, "must be >= 0"),
]


@pytest.mark.parametrize(("options", "message"), BAD_SECTIONS, ids=[m for _, m in BAD_SECTIONS])
def test_bad_design_sections_are_reported(small_text: str, options: dict[str, object], message: str) -> None:
    data = yaml.safe_load(small_text)
    data["design"]["options"] = options
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(data)


def test_a_scenario_without_design_section_has_no_space(small_text: str) -> None:
    data = yaml.safe_load(small_text)
    del data["design"]
    with pytest.raises(ScenarioError, match="declares no design space"):
        DesignSpace.of(parse_scenario(data))


def test_whole_number_options_need_whole_bounds(small_text: str) -> None:
    data = yaml.safe_load(small_text)
    data["design"]["options"] = {"stations.b.buffer": {"min": 0, "max": 2.5, "cost": 1}}
    with pytest.raises(ScenarioError, match="whole numbers"):
        DesignSpace.of(parse_scenario(data))
