"""A Dispatch env that draws its problem at every reset: an instance set or a generator.

``twin/Dispatch-v0`` runs one scenario; an agent that should generalise is trained on many.
:class:`SampledDispatchEnv` builds a fresh :class:`~twin.envs.dispatch.DispatchEnv` at every
``reset`` from a *source* (a function of a numpy Generator returning a scenario or instance
and the model's seed), using ``self.np_random`` only, so ``reset(seed=s)`` fixes the whole
sequence of episodes. Every problem of a source must give the same observation and action
shapes (same number of stations, same ``max_queue``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from twin.envs.dispatch import DispatchEnv
from twin.jobshop import JobShopInstance, generate_instance, load_instance
from twin.scenario import Scenario, load_scenario

__all__ = ["SampledDispatchEnv", "Source", "generator_source", "instances_source", "scenario_source"]

Problem = Scenario | JobShopInstance
Source = Callable[[np.random.Generator], tuple[Problem, int]]
"""Draws a problem and the seed of its model run."""

_SEEDS = 2**31 - 1


def generator_source(jobs: int, machines: int, low: int = 1, high: int = 99) -> Source:
    """A new random Taillard-style instance every episode (its seed drawn from the env's stream)."""

    def draw(rng: np.random.Generator) -> tuple[Problem, int]:
        return generate_instance(jobs, machines, low, high, seed=int(rng.integers(_SEEDS))), 0

    return draw


def instances_source(paths: Sequence[str | Path]) -> Source:
    """One of the instance files (``.txt``) or scenarios (``.yaml``), uniformly, every episode."""
    problems: list[Problem] = [
        load_instance(path) if Path(path).suffix == ".txt" else load_scenario(path) for path in paths
    ]

    def draw(rng: np.random.Generator) -> tuple[Problem, int]:
        return problems[int(rng.integers(len(problems)))], int(rng.integers(_SEEDS))

    return draw


def scenario_source(path: str | Path) -> Source:
    """The same scenario every episode, with a new model seed (arrivals, times, failures)."""
    return instances_source([path])


class SampledDispatchEnv(gym.Env[np.ndarray, np.int64]):
    """``twin/Dispatch-v0`` on a problem drawn from ``source`` at every reset.

    Spaces, rewards and episode end are those of :class:`~twin.envs.dispatch.DispatchEnv`
    (``env_kwargs`` go to it). ``reset(seed=s)`` reseeds the draw; ``info["problem"]`` names
    the episode's problem.

    Raises:
        ValueError: two problems of the source give different spaces (raised at the reset
            that draws the odd one).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(self, source: Source, **env_kwargs: Any) -> None:
        self.source = source
        self.env_kwargs = env_kwargs
        first, _ = source(np.random.default_rng(0))
        self.env = DispatchEnv(first, **env_kwargs)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        problem, model_seed = self.source(self.np_random)
        env = DispatchEnv(problem, **self.env_kwargs)
        if env.observation_space != self.observation_space or env.action_space != self.action_space:
            raise ValueError(
                f"problem {getattr(problem, 'name', problem)} gives observations {env.observation_space.shape} and "
                f"actions {env.action_space}, the first gave {self.observation_space.shape} and {self.action_space}"
            )
        self.env = env
        obs, info = env.reset(seed=model_seed)
        return obs, info | {"problem": getattr(problem, "name", "")}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return self.env.step(action)

    def action_masks(self) -> np.ndarray:
        """Valid actions of the current decision (for ``MaskablePPO``)."""
        return self.env.action_masks()
