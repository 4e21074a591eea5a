"""An RL designer: MaskablePPO trained on ``twin/Design-v0``, then asked for its design.

The script reads top to bottom: settings in :class:`DesignRLConfig` (one line of doc per
field), seeding in one place, training, then one deterministic episode whose final design is
the agent's answer. Every design the env simulates goes through one shared
:class:`~twin.studies.design.DesignEvaluator`, so a design built twice (by any of the vectorised envs,
in any episode) is simulated once: with common random numbers its value is a pure function of
the design.

Uses sb3-contrib's ``MaskablePPO`` (the ``rl`` extra); without sb3-contrib, plain ``PPO``
learns the masks the hard way (a masked action ends the episode, and so its return).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from agents.design_search import Progress, SearchResult
from agents.methods import run_policy
from twin.envs.design import DesignEnv, RewardMode
from twin.studies.design import DesignEvaluator

__all__ = ["DesignRLConfig", "rl_search"]


@dataclass(frozen=True)
class DesignRLConfig:
    """Settings of :func:`rl_search`."""

    timesteps: int = 12_000
    """Env steps of training (a step adds one unit or stops; a 10-slot design is ~11 steps)."""
    n_envs: int = 4
    """Envs in one DummyVecEnv: the simulation is the cost, not the policy, so one process."""
    n_steps: int = 128
    """Steps per env per rollout (n_steps * n_envs per update)."""
    batch_size: int = 128
    """Minibatch size of the PPO update."""
    n_epochs: int = 10
    """Passes over each rollout."""
    learning_rate: float = 1e-3
    """Adam step size: a small problem, a small network, a brisk rate."""
    ent_coef: float = 0.01
    """Entropy bonus: keeps exploring allocations early on."""
    gamma: float = 1.0
    """No discounting: an episode is short and its return is the design's objective."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layers of the policy and value networks."""
    reward: RewardMode = "final"
    """Design-v0's reward mode (``final``: the objective at the end; ``step``: its increments)."""
    seed: int = 0
    """Seeds the policy's initialisation and sampling (the simulation seed is the evaluator's)."""


def rl_search(
    evaluator: DesignEvaluator, config: DesignRLConfig | None = None, progress: Progress | None = None
) -> SearchResult:
    """Train an agent on ``twin/Design-v0`` for the evaluator's design space; its design is
    the one a deterministic episode of the trained policy builds.

    ``designs`` of the result are every design simulated during training and the final
    episode (use a fresh evaluator so they are the agent's own); ``best`` is the agent's
    design, which need not be the best one it ever saw (``details["best_seen"]`` is that one).

    Raises:
        ValueError: ``timesteps`` or ``n_envs`` below 1.
    """
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    config = config or DesignRLConfig()
    if config.timesteps < 1 or config.n_envs < 1:
        raise ValueError(f"timesteps and n_envs must be >= 1 (got {config.timesteps}, {config.n_envs})")
    started = time.perf_counter()
    torch.set_num_threads(1)  # a 64-unit MLP: threads cost more than they give
    torch.manual_seed(config.seed)

    def make() -> DesignEnv:
        return DesignEnv(evaluator.space.scenario, reward=config.reward, evaluator=evaluator)

    venv = DummyVecEnv([make for _ in range(config.n_envs)])
    venv.seed(config.seed)
    algorithm = _algorithm()
    model = algorithm(
        "MlpPolicy",
        venv,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        learning_rate=config.learning_rate,
        ent_coef=config.ent_coef,
        gamma=config.gamma,
        policy_kwargs={"net_arch": list(config.net_arch)},
        seed=config.seed,
        device="cpu",
        verbose=0,
    )

    total = config.timesteps

    class Report(BaseCallback):
        def _on_step(self) -> bool:
            if progress is not None:
                progress(min(self.num_timesteps, total), total)
            return True

    model.learn(total_timesteps=config.timesteps, callback=Report())
    env = make()
    info, _ = run_policy(model, env, config.seed)
    final = evaluator.cached(env.space.values_of(info["design"]))
    assert final is not None, "the final design was just simulated"
    designs = evaluator.evaluations
    best_seen = max(designs, key=lambda e: e.objective)
    details: dict[str, Any] = {
        "algorithm": algorithm.__name__,
        "config": asdict(config),
        "best_seen": {"design": best_seen.design, "objective": best_seen.objective},
    }
    return SearchResult("rl", designs, time.perf_counter() - started, details, best_override=final)


def _algorithm() -> Any:
    """MaskablePPO when sb3-contrib is installed, else PPO."""
    try:
        from sb3_contrib import MaskablePPO
    except ImportError:
        from stable_baselines3 import PPO

        return PPO
    return MaskablePPO
