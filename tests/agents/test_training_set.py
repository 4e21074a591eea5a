"""Sampled training envs: problems drawn per episode, and the rule baseline's reward."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.training_set import SampledDispatchEnv, generator_source, rule_rollout, scenario_source
from twin.envs.dispatch import DispatchEnv

ROOT = Path(__file__).resolve().parents[2]
JOB_SHOP = ROOT / "scenarios" / "examples" / "job_shop.yaml"
PLANT = {"reward": "tardiness_accrued", "horizon": 4000}


def episode(env: SampledDispatchEnv | DispatchEnv, rule: str, seed: int) -> float:
    """The return of ``rule``'s episode."""
    return sum(step.reward for step in rule_rollout(env, rule, seed))


def test_the_baseline_rule_itself_scores_zero() -> None:
    env = SampledDispatchEnv(scenario_source(JOB_SHOP), baseline="atc", **PLANT)
    total = episode(env, "atc", seed=5)
    assert total == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("source", "kwargs", "rule", "baseline"),
    [(scenario_source(JOB_SHOP), PLANT, "fifo", "atc"), (generator_source(6, 4), {}, "spt", "mwkr")],
    ids=["plant-tardiness", "jobshop-makespan"],
)
def test_the_return_is_the_difference_to_the_baseline_rule(
    source: object, kwargs: dict[str, object], rule: str, baseline: str
) -> None:
    """With the baseline, a rule's return is exactly its plain return minus the baseline
    rule's on the same problem and seed: the baseline's run cancels, the difference remains."""
    with_baseline = SampledDispatchEnv(source, baseline=baseline, **kwargs)  # type: ignore[arg-type]
    plain = SampledDispatchEnv(source, **kwargs)  # type: ignore[arg-type]
    relative = episode(with_baseline, rule, seed=2)
    own = episode(plain, rule, seed=2)
    reference = episode(plain, baseline, seed=2)
    assert own != pytest.approx(reference)
    assert relative == pytest.approx(own - reference)


def test_same_seed_same_problems() -> None:
    first, second = (SampledDispatchEnv(generator_source(5, 3)) for _ in range(2))
    names = [[env.reset(seed=9 if i == 0 else None)[1]["problem"] for i in range(3)] for env in (first, second)]
    assert names[0] == names[1] and len(set(names[0])) == 3


def test_an_unknown_baseline_is_refused() -> None:
    with pytest.raises(ValueError, match="baseline must be a rule name"):
        SampledDispatchEnv(generator_source(3, 3), baseline="best")
