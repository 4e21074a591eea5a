"""A Dispatch env that draws its problem at every reset: an instance set or a generator.

``twin/Dispatch-v0`` runs one scenario; an agent that should generalise is trained on many.
:class:`SampledDispatchEnv` builds a fresh :class:`~twin.envs.dispatch.DispatchEnv` at every
``reset`` from a *source* (a function of a numpy Generator returning a scenario or instance
and the model's seed), using ``self.np_random`` only, so ``reset(seed=s)`` fixes the whole
sequence of episodes. Every problem of a source must give the same observation and action
shapes (same number of stations, same ``max_queue``).

**Rule baseline** (``baseline="atc"``): each episode's problem and seed are first run with
the rule, recording its cumulative reward ``B(t)`` against simulated time; the agent's reward
for a step from ``t0`` to ``t1`` is then its own minus ``B(t1) - B(t0)``. ``B`` depends only
on the problem and the seed, never on the agent's actions, so the best policy is unchanged,
but most of what makes returns noisy (a breakdown, a burst of arrivals, a hard instance) hits
the rule's run too and cancels: a control variate built from common random numbers. An
episode's return becomes "how much better than the rule", positive when the agent wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from twin.dispatching import rule_names
from twin.envs.dispatch import DispatchEnv
from twin.jobshop.instances import (
    JobShopInstance,
    Perturbation,
    generate_instance,
    instance_to_scenario,
    load_instance,
)
from twin.scenario import Scenario, load_scenario

__all__ = [
    "RuleStep",
    "SampledDispatchEnv",
    "Source",
    "generator_source",
    "instances_source",
    "perturbed_source",
    "rule_rollout",
    "scenario_source",
]

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


def perturbed_source(source: Source, perturbations: Sequence[Perturbation]) -> Source:
    """``source``'s job shops on a noisy floor: each draw takes one of ``perturbations``
    uniformly and a new seed (its arrivals, process times and breakdowns)."""

    def draw(rng: np.random.Generator) -> tuple[Problem, int]:
        problem, _ = source(rng)
        if not isinstance(problem, JobShopInstance):
            raise ValueError(f"perturbations apply to job shops only (got scenario {problem.name!r})")
        base = perturbations[int(rng.integers(len(perturbations)))]
        seed = int(rng.integers(_SEEDS))
        return instance_to_scenario(problem, perturbation=replace(base, seed=seed)), seed

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

    def __init__(self, source: Source, baseline: str | None = None, **env_kwargs: Any) -> None:
        if baseline is not None and baseline not in rule_names():
            raise ValueError(f"baseline must be a rule name (got {baseline!r}; known: {', '.join(rule_names())})")
        self.source = source
        self.baseline = baseline
        self.env_kwargs = env_kwargs
        self._curve: tuple[np.ndarray, np.ndarray] | None = None
        self._last_time = 0.0
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
        if self.baseline is not None:
            self._curve = _reward_curve(DispatchEnv(problem, **self.env_kwargs), self.baseline, model_seed)
        self._last_time = 0.0
        obs, info = env.reset(seed=model_seed)
        return obs, info | {"problem": getattr(problem, "name", "")}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._curve is not None:
            times, totals = self._curve
            now = float(info["time"])
            # At the end the rule's whole run is charged, also when it takes longer than the agent's.
            reached = totals[-1] if terminated or truncated else np.interp(now, times, totals)
            reward -= float(reached - np.interp(self._last_time, times, totals))
            self._last_time = now
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """Valid actions of the current decision (for ``MaskablePPO``)."""
        return self.env.action_masks()


class RuleStep(NamedTuple):
    """One decision of a rule's episode: what was seen, allowed and done, and what followed."""

    observation: np.ndarray
    mask: np.ndarray
    action: int
    reward: float
    info: dict[str, Any]


def rule_rollout(env: DispatchEnv | SampledDispatchEnv, rule: str, seed: int) -> Iterator[RuleStep]:
    """Run one episode of ``env`` (reset with ``seed``) with ``rule`` deciding, step by step."""
    obs, _ = env.reset(seed=seed)
    dispatch = env.env if isinstance(env, SampledDispatchEnv) else env
    while True:
        action = dispatch.rule_action(rule) if dispatch.station is not None else 0
        mask = env.action_masks()
        following, reward, terminated, truncated, info = env.step(np.int64(action))
        yield RuleStep(obs, mask, action, float(reward), info)
        if terminated or truncated:
            return
        obs = following


def _reward_curve(env: DispatchEnv, rule: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The cumulative reward of ``rule``'s episode against simulated time, from ``(0, 0)``
    (rewards between two decisions are taken as accrued linearly between them)."""
    times, totals, total = [0.0], [0.0], 0.0
    for step in rule_rollout(env, rule, seed):
        total += step.reward
        if step.info["time"] == times[-1]:  # simultaneous decisions: one point per instant
            totals[-1] = total
        else:
            times.append(float(step.info["time"]))
            totals.append(total)
    return np.asarray(times), np.asarray(totals)
