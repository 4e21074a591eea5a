"""Imitation warm start: teach a policy a dispatching rule before reinforcement learning.

A policy that starts from random weights spends most of its first episodes relearning what
a good rule already knows (late jobs first, short jobs before long ones), and PPO from
scratch on a noisy objective such as tardiness under breakdowns may never get back to the
rule's level. Behaviour cloning fixes the start instead: the rule (the *teacher*) runs the
training problems, every decision is recorded as ``(observation, mask, teacher's action,
discounted return)``, and the policy is fitted by minimising the cross-entropy of its
(masked) action distribution against the teacher's choice, and its critic by the squared
error against the return of the teacher's episode. PPO then starts from a policy about as
good as the rule, with a critic that already knows the scale of the returns, and only has
to find where it can do better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.training_set import SampledDispatchEnv, Source, rule_rollout

__all__ = ["Demonstrations", "ImitationReport", "clone", "collect"]


@dataclass(frozen=True)
class Demonstrations:
    """The teacher's decisions: one row per decision, in episode order."""

    observations: np.ndarray
    masks: np.ndarray
    actions: np.ndarray
    returns: np.ndarray
    """Discounted return from each decision to its episode's end (the critic's target)."""
    episodes: int


@dataclass(frozen=True)
class ImitationReport:
    """How well the policy learned the teacher (for the model card)."""

    rule: str
    episodes: int
    decisions: int
    epochs: int
    accuracy: float
    """Share of the teacher's decisions the policy's greedy choice agrees with, after fitting."""
    loss: float
    """Mean cross-entropy of the last epoch."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def collect(
    source: Source,
    env_kwargs: dict[str, Any],
    rule: str,
    episodes: int,
    gamma: float,
    seed: int,
    baseline: str | None = None,
) -> Demonstrations:
    """Run ``rule`` on ``episodes`` problems drawn from ``source`` (seeded by ``seed``); the
    returns are those of the training reward (with the rule ``baseline`` subtracted, if any)."""
    env = SampledDispatchEnv(source, baseline=baseline, **env_kwargs)
    observations, masks, actions, returns = [], [], [], []
    for episode in range(episodes):
        steps = list(rule_rollout(env, rule, seed + episode))
        observations += [step.observation for step in steps]
        masks += [step.mask for step in steps]
        actions += [step.action for step in steps]
        returns.extend(_discounted([step.reward for step in steps], gamma))
    return Demonstrations(
        np.asarray(observations, dtype=np.float32),
        np.asarray(masks, dtype=bool),
        np.asarray(actions, dtype=np.int64),
        np.asarray(returns, dtype=np.float32),
        episodes,
    )


def _discounted(rewards: list[float], gamma: float) -> list[float]:
    out = [0.0] * len(rewards)
    running = 0.0
    for i in range(len(rewards) - 1, -1, -1):
        running = rewards[i] + gamma * running
        out[i] = running
    return out


def clone(
    policy: Any,
    demos: Demonstrations,
    rule: str,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    seed: int,
    log: Callable[[str], None] = lambda _: None,
) -> ImitationReport:
    """Fit ``policy`` (an SB3 actor-critic policy, masked or not) to the demonstrations.

    Uses its own Adam optimiser, so PPO's optimiser state starts fresh afterwards.
    """
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    masked = isinstance(policy, MaskableActorCriticPolicy)
    obs = torch.as_tensor(demos.observations)
    masks = torch.as_tensor(demos.masks)
    actions = torch.as_tensor(demos.actions)
    targets = torch.as_tensor(demos.returns)
    optimizer = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    policy.set_training_mode(True)
    loss_mean = float("nan")
    for epoch in range(epochs):
        order = torch.randperm(len(actions), generator=generator)
        losses = []
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            if masked:
                values, log_prob, _ = policy.evaluate_actions(obs[batch], actions[batch], action_masks=masks[batch])
            else:
                values, log_prob, _ = policy.evaluate_actions(obs[batch], actions[batch])
            value_loss = torch.nn.functional.mse_loss(values.flatten(), targets[batch])
            policy_loss = -log_prob.mean()
            optimizer.zero_grad()
            (policy_loss + 0.5 * value_loss).backward()
            optimizer.step()
            losses.append(float(policy_loss.detach()))
        loss_mean = float(np.mean(losses))
        log(f"imitation epoch {epoch + 1}/{epochs}: cross-entropy {loss_mean:.4f}")
    policy.set_training_mode(False)
    return ImitationReport(rule, demos.episodes, len(actions), epochs, _accuracy(policy, demos, masked), loss_mean)


def _accuracy(policy: Any, demos: Demonstrations, masked: bool) -> float:
    agree = 0
    with torch.no_grad():
        for start in range(0, len(demos.actions), 4096):
            part = slice(start, start + 4096)
            obs = torch.as_tensor(demos.observations[part])
            if masked:
                distribution = policy.get_distribution(obs, action_masks=demos.masks[part])
            else:
                distribution = policy.get_distribution(obs)
            chosen = distribution.get_actions(deterministic=True).numpy()
            agree += int((chosen == demos.actions[part]).sum())
    return agree / max(len(demos.actions), 1)
