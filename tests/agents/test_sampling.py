"""Best of K with the rollouts stepped together equals the same rollouts one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.methods import load_any_model
from agents.sampling import generators, rollout, sample_envs, sample_shop
from twin.envs.active import ActiveDispatchEnv
from twin.envs.dispatch import DispatchEnv
from twin.jobshop.instances import generate_instance
from twin.jobshop.schedules import check_schedule

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "agents" / "zoo" / "jobshop_10x10" / "model.zip"


@pytest.fixture(scope="module")
def model() -> object:
    return load_any_model(MODEL)


@pytest.mark.parametrize("kind", ["active", "non_delay"])
def test_a_batch_of_shops_equals_rollouts_one_by_one(model: object, kind: str) -> None:
    instance = generate_instance(8, 6, seed=3)
    batched = sample_shop(model, instance, 6, seed=11, decisions=kind)  # type: ignore[arg-type]
    alone = []
    for k, noise in enumerate(generators(11, 6)):
        env = ActiveDispatchEnv(instance, decisions=kind)  # type: ignore[arg-type]
        info, _ = rollout(model, env, 11, noise)
        alone.append(info["makespan"])
        if k == batched.best:
            assert env.schedule() == batched.schedule
    assert batched.makespans.tolist() == alone
    assert len(set(alone)) > 1  # the samples differ: the comparison means something
    assert batched.makespan == min(alone)
    assert check_schedule(instance, batched.schedule) == []


def test_plant_envs_stepped_together_equal_rollouts_one_by_one(model: object) -> None:
    instance = generate_instance(6, 5, seed=4)
    together = sample_envs(model, [DispatchEnv(instance) for _ in range(4)], seed=2)
    alone = [rollout(model, DispatchEnv(instance), 2, noise)[0]["makespan"] for noise in generators(2, 4)]
    assert together.makespans.tolist() == alone
    assert check_schedule(instance, together.schedule) == []


def test_greedy_is_the_same_every_time_and_a_seed_reproduces_samples(model: object) -> None:
    instance = generate_instance(10, 10, seed=9)
    greedy = sample_shop(model, instance, 3, seed=0, greedy=True)
    assert len(set(greedy.makespans.tolist())) == 1
    again = sample_shop(model, instance, 5, seed=1)
    assert np.array_equal(again.makespans, sample_shop(model, instance, 5, seed=1).makespans)
    assert sample_shop(model, instance, 5, seed=1).makespan <= again.makespans.max()
    with pytest.raises(ValueError, match="samples"):
        sample_shop(model, instance, 0, seed=0)
