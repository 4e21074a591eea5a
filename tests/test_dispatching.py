"""Dispatching rules: what each picks, ties to the first in queue, factories, names in scenarios."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from twin.dispatching import FACTORIES, RULES, RuleContext, atc, make_rule, rule_names
from twin.jobshop.instances import read_instance
from twin.jobshop.schedules import run_rule


@dataclass
class Waiting:
    entered: float = 0.0
    due: float = math.inf
    process_time: float = 1.0
    remaining_work: float = 1.0
    remaining_ops: int = 1


QUEUE = [
    Waiting(entered=0, due=50, process_time=4, remaining_work=10, remaining_ops=2),
    Waiting(entered=1, due=20, process_time=2, remaining_work=12, remaining_ops=3),
    Waiting(entered=2, due=30, process_time=6, remaining_work=6, remaining_ops=1),
    Waiting(entered=3, due=math.inf, process_time=2, remaining_work=20, remaining_ops=3),
]

EXPECTED = {
    "fifo": 0,
    "lifo": 3,
    "spt": 1,  # 2 ties with job 3: the first in queue wins
    "lpt": 2,
    "edd": 1,
    "mwkr": 3,
    "mopnr": 1,  # 3 ties with job 3
    "cr": 1,  # (20 - 10) / 12 is the smallest ratio
    "atc": 1,  # short and closest to its due date
    "atcd": 1,  # slack 20 - 10 - 12 < 0: late already
}


@pytest.mark.parametrize(("name", "index"), sorted(EXPECTED.items()))
def test_each_rule_picks_as_documented(name: str, index: int) -> None:
    assert make_rule(name, RuleContext("s", mean_process_time=3.5))(QUEUE, 10.0) == index


def test_atcd_counts_the_work_downstream_in_the_slack() -> None:
    """A's slack is 8 either way; B's is 12 for ATC but -5 with its 20 units of work ahead."""
    last_op = Waiting(entered=0, due=20, process_time=2, remaining_work=2, remaining_ops=1)
    long_route = Waiting(entered=0, due=25, process_time=3, remaining_work=20, remaining_ops=5)
    context = RuleContext("s", mean_process_time=3.5)  # scale k * p_mean = 7
    assert make_rule("atc", context)([last_op, long_route], 10.0) == 0  # exp(-8/7)/2 > exp(-12/7)/3
    assert make_rule("atcd", context)([last_op, long_route], 10.0) == 1  # exp(-8/7)/2 < 1/3


def test_every_rule_has_a_name_and_an_expectation() -> None:
    assert set(rule_names()) == set(RULES) | set(FACTORIES) == set(EXPECTED) | {"random"}


def test_random_rule_uses_its_stream() -> None:
    def picks(seed: int) -> list[int]:
        rule = make_rule("random", RuleContext("s", generator=lambda: np.random.default_rng(seed)))
        return [rule(QUEUE, 0.0) for _ in range(20)]

    assert picks(1) == picks(1) != picks(2)
    assert set(picks(1)) <= {0, 1, 2, 3}


def test_degenerate_queues() -> None:
    """No due dates and zero-length operations give defined, deterministic choices."""
    queue = [Waiting(process_time=0, remaining_work=0), Waiting()]
    for name in rule_names():
        if name != "random":
            assert make_rule(name, RuleContext("s"))(queue, 5.0) in (0, 1)
    assert make_rule("atc", RuleContext("s"))(queue, 5.0) == 0


def test_atc_lookahead_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be > 0"):
        atc(0)


def test_unknown_rule() -> None:
    with pytest.raises(KeyError, match="unknown dispatching rule"):
        make_rule("nope", RuleContext("s"))


def test_random_rule_in_a_scenario_is_reproducible() -> None:
    scenario = read_instance("scenarios/jobshop/la01.txt", "random")
    assert run_rule(scenario, seed=4) == run_rule(scenario, seed=4)
    assert run_rule(scenario, seed=4).makespan != run_rule(scenario, seed=5).makespan
