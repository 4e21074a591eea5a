"""twin/Design-v0: both env checkers, masks, the reward is the objective, caching, determinism."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import twin  # noqa: F401  (registers the env ids)
from twin.envs.design import DesignEnv
from twin.scenario import Scenario
from twin.studies.design import DesignEvaluator, DesignSpace

from .conftest import EXAMPLES


@pytest.mark.parametrize("reward", ["final", "step"])
def test_env_checkers_pass(small_line: Scenario, reward: str) -> None:
    env = gymnasium.make("twin/Design-v0", scenario=small_line, reward=reward)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker's warning is a failure
        gymnasium_check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)


def test_spaces_describe_options_budget_and_stations(small_line: Scenario) -> None:
    env = DesignEnv(small_line)
    assert env.action_space.n == 3 + 1  # one per option, then stop
    assert env.observation_space.shape == (3 + 1 + 3 * 3,)
    obs, info = env.reset(seed=0)
    assert obs[:3].tolist() == [0, 0, 0] and obs[3] == 1.0  # nothing bought, whole budget left
    stats = obs[4:].reshape(3, 3)  # utilisation, blocked, starved per station
    assert np.all(stats.sum(axis=1) <= 1 + 1e-6) and stats[2, 0] > 0.5  # c, the bottleneck, is busy
    assert info["design"] == {"stations.b.buffer": 0, "stations.c.buffer": 0, "stations.c.machines": 1}


def test_masks_follow_limits_and_budget(small_line: Scenario) -> None:
    env = DesignEnv(small_line)
    env.reset(seed=0)
    for _ in range(3):
        env.step(0)  # three slots before b: its max
    assert env.action_masks().tolist() == [False, True, False, True]  # b full; a machine (2) > budget left (1)
    _, reward, terminated, _, info = env.step(1)  # the last unit of budget ends the episode
    assert terminated and info["design"] == {"stations.b.buffer": 3, "stations.c.buffer": 1, "stations.c.machines": 1}
    assert reward == pytest.approx(info["objective"]) and info["cost"] == 4


def test_return_is_the_objective_in_both_reward_modes(small_line: Scenario) -> None:
    evaluator = DesignEvaluator(DesignSpace.of(small_line))
    plan = [2, 0, 3]  # a second machine at c, a slot before b, stop
    returns = {}
    for mode in ("final", "step"):
        env = DesignEnv(small_line, reward=mode, evaluator=evaluator)  # type: ignore[arg-type]
        env.reset(seed=1)
        rewards = [env.step(a)[1] for a in plan]
        returns[mode] = sum(rewards)
    objective = evaluator.cached((1, 0, 2))
    start = evaluator.cached((0, 0, 1))
    assert objective is not None and start is not None
    assert returns["final"] == pytest.approx(objective.objective)
    assert returns["step"] == pytest.approx(objective.objective - start.objective)


def test_masked_action_ends_the_episode_and_repeats_cost_nothing(small_line: Scenario) -> None:
    env = DesignEnv(small_line)
    env.reset(seed=0)
    env.step(2)
    _, _, terminated, _, info = env.step(2)  # a third machine is beyond max
    assert terminated and info["invalid_action"] and info["design"]["stations.c.machines"] == 2
    evaluated = len(env.evaluator.evaluations)
    env.reset(seed=0)
    env.step(2)
    env.step(3)
    assert len(env.evaluator.evaluations) == evaluated  # the same designs again: all cached
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(0)


def test_two_envs_with_one_seed_roll_alike(small_line: Scenario) -> None:
    def roll(seed: int) -> list[tuple[list[float], float]]:
        env = DesignEnv(small_line)
        env.reset(seed=seed)
        env.action_space.seed(seed)
        trace = []
        while True:
            action = int(env.action_space.sample(mask=env.action_masks().astype(np.int8)))
            obs, reward, terminated, _, _ = env.step(action)
            trace.append((obs.tolist(), reward))
            if terminated:
                return trace

    assert roll(5) == roll(5)


def test_the_example_lines_make_envs() -> None:
    env = gymnasium.make("twin/Design-v0", scenario=str(EXAMPLES / "balanced_line.yaml"), replications=1)
    obs, _ = env.reset(seed=0)
    assert env.action_space.n == 5 and obs.shape == (4 + 1 + 3 * 5,)
