"""Best of K sampled schedules, with the K rollouts stepped together.

Sampling K schedules from a policy and keeping the shortest is the cheapest search there
is, but one rollout after another pays the policy's forward pass once per decision per
rollout. Here the K episodes advance together and the policy scores every pending decision
of the batch in one call:

- :func:`sample_envs` steps K Gymnasium envs (``twin/Dispatch-v0`` in any mode: the SimPy
  plant or the array model) side by side;
- :func:`sample_shop` steps K copies of a deterministic job shop in one
  :class:`twin.envs.shop.ShopBatch` (active or non-delay decisions): no Python loop over
  the copies at all.

Choices are Gumbel-max draws from the policy's masked log-probabilities, with rollout
``k``'s noise from its own generator ``default_rng([seed, k])``, so a rollout's schedule
does not depend on the batch it ran in: K rollouts batched equal the same K rollouts run
one by one (:func:`rollout`). ``greedy`` takes the most probable action instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.policies import resize_policy
from twin.envs.shop import DecisionKind, ShopBatch
from twin.jobshop.instances import JobShopInstance
from twin.jobshop.schedules import ScheduledOperation

__all__ = ["Sampled", "choose", "generators", "log_probs", "rollout", "sample_envs", "sample_shop"]


@dataclass(frozen=True)
class Sampled:
    """K rollouts of one problem.

    Attributes:
        makespans: of each rollout, in rollout order.
        best: index of the shortest (the first of equals).
        schedule: the best rollout's operations.
        decisions: decisions taken over all rollouts.
        wall_time_s: for the whole batch.
    """

    makespans: np.ndarray
    best: int
    schedule: list[ScheduledOperation]
    decisions: int
    wall_time_s: float

    @property
    def makespan(self) -> float:
        """The best rollout's makespan."""
        return float(self.makespans[self.best])


def generators(seed: int, samples: int) -> list[np.random.Generator]:
    """Rollout ``k``'s noise generator, ``default_rng([seed, k])``, for ``k < samples``."""
    return [np.random.default_rng([seed, k]) for k in range(samples)]


def _net(policy: Any) -> Any:
    return getattr(policy, "policy", policy)


def log_probs(policy: Any, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``(B, A)`` the policy's log-probabilities of each action, ``-inf`` where masked."""
    with torch.no_grad():
        distribution = _net(policy).get_distribution(torch.as_tensor(obs))
        logits = distribution.distribution.logits.numpy().astype(np.float64)
    return np.where(masks, logits, -np.inf)


def choose(policy: Any, obs: np.ndarray, masks: np.ndarray, noise: Sequence[np.random.Generator] | None) -> np.ndarray:
    """One action per row: the most probable valid one (``noise`` None) or a Gumbel-max
    draw, row ``i`` with ``noise[i]``."""
    scores = log_probs(policy, obs, masks)
    if noise is not None:
        gumbel = np.stack([g.gumbel(size=scores.shape[1]) for g in noise])
        scores = scores + gumbel
    actions: np.ndarray = np.argmax(scores, axis=1)
    return actions


def _fit(policy: Any, env: Any) -> Any:
    """The policy resized to ``env``'s spaces (a candidate policy fits any)."""
    return resize_policy(_net(policy), env.observation_space, env.action_space)


def _schedule_of(env: Any) -> list[ScheduledOperation]:
    base = env.unwrapped
    if hasattr(base, "schedule"):
        return list(base.schedule())
    from twin.jobshop.schedules import schedule_from_log

    return schedule_from_log(base.plant.log)


def rollout(policy: Any, env: Any, seed: int, noise: np.random.Generator | None) -> tuple[dict[str, Any], int]:
    """One episode of ``env`` (reset with ``seed``), actions as :func:`choose` takes them for
    one row: the last info and the number of decisions. The one-by-one reference."""
    net = _fit(policy, env)
    obs, info = env.reset(seed=seed)
    decisions = 0
    while True:
        action = choose(net, obs[None, :], env.action_masks()[None, :], None if noise is None else [noise])[0]
        obs, _, terminated, truncated, info = env.step(int(action))
        decisions += 1
        if terminated or truncated:
            return info, decisions


def sample_envs(policy: Any, envs: Sequence[Any], seed: int, greedy: bool = False) -> Sampled:
    """Roll out ``envs`` (one per sample, all reset with ``seed``) together: rollout ``k``
    equals :func:`rollout` of ``envs[k]`` with generator ``k`` of :func:`generators`.

    Raises:
        ValueError: no envs.
    """
    if not envs:
        raise ValueError("need at least one env")
    started = time.perf_counter()
    net = _fit(policy, envs[0])
    noise = None if greedy else generators(seed, len(envs))
    obs = [env.reset(seed=seed)[0] for env in envs]
    live = list(range(len(envs)))
    makespans = np.zeros(len(envs))
    decisions = 0
    while live:
        batch = np.stack([obs[k] for k in live])
        masks = np.stack([envs[k].action_masks() for k in live])
        actions = choose(net, batch, masks, None if noise is None else [noise[k] for k in live])
        still = []
        for k, action in zip(live, actions, strict=True):
            obs[k], _, terminated, truncated, info = envs[k].step(int(action))
            decisions += 1
            if terminated or truncated:
                makespans[k] = info.get("makespan", np.nan)
            else:
                still.append(k)
        live = still
    best = int(np.argmin(makespans))
    return Sampled(makespans, best, _schedule_of(envs[best]), decisions, time.perf_counter() - started)


def sample_shop(
    policy: Any,
    instance: JobShopInstance,
    samples: int,
    seed: int,
    decisions: DecisionKind = "active",
    greedy: bool = False,
) -> Sampled:
    """``samples`` rollouts of ``instance`` as one :class:`ShopBatch`, the policy called once
    per step of the batch: rollout ``k`` equals :func:`rollout` of an
    ``ActiveDispatchEnv(instance, decisions=decisions)`` with generator ``k``.

    Raises:
        ValueError: ``samples`` below 1, or a policy that does not fit the instance.
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1 (got {samples})")
    started = time.perf_counter()
    shop = ShopBatch(instance, samples, decisions)
    queue = instance.n_jobs
    size = shop.layout.size
    net = resize_policy(_net(policy), spaces.Box(-1.0, 1.0, (size,), np.float32), spaces.Discrete(queue))
    noise = None if greedy else generators(seed, samples)
    while True:
        live = np.flatnonzero(~shop.done)
        if not len(live):
            break
        obs = shop.observe(queue)[live]
        masks = shop.action_masks(queue)[live]
        slots = np.zeros(samples, dtype=np.int64)
        slots[live] = choose(net, obs, masks, None if noise is None else [noise[k] for k in live])
        shop.step(slots)
    makespans = shop.makespan.copy()
    best = int(np.argmin(makespans))
    return Sampled(makespans, best, shop.schedule(best), int(shop.decisions.sum()), time.perf_counter() - started)
