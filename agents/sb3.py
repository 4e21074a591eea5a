"""Stable-Baselines3 policies on ``twin/Dispatch-v0``: loading a saved model and running it.

Models are saved with SB3's ``model.save(path)``; a model trained with sb3-contrib's
``MaskablePPO`` is given the env's action mask at every decision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from twin.envs.dispatch import DispatchEnv

__all__ = ["load_model", "run_episode"]


def load_model(path: str | Path) -> Any:
    """Load a saved ``MaskablePPO`` or ``PPO`` model (CPU).

    Raises:
        ValueError: the file is not a model either can load.
    """
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    torch.set_num_threads(1)  # small policies: threads cost more than they give
    problems = []
    for cls in (MaskablePPO, PPO):
        try:
            return cls.load(str(path), device="cpu")
        except Exception as error:  # SB3 raises many types for a foreign or broken file
            problems.append(f"{cls.__name__}: {error}")
    raise ValueError(f"cannot load a MaskablePPO or PPO model from {path} ({'; '.join(problems)})")


def run_episode(model: Any, env: DispatchEnv, seed: int | None = None) -> dict[str, Any]:
    """Run one episode with ``model`` choosing deterministically; the last step's info.

    Raises:
        ValueError: the model's observation or action space does not match the env's.
    """
    if model.observation_space.shape != env.observation_space.shape or model.action_space != env.action_space:
        raise ValueError(
            f"model expects observations {model.observation_space.shape} and actions {model.action_space}, "
            f"the env gives {env.observation_space.shape} and {env.action_space}"
        )
    masked = type(model).__name__ == "MaskablePPO"
    obs, info = env.reset(seed=seed)
    while True:
        if masked:
            action, _ = model.predict(obs, deterministic=True, action_masks=env.action_masks())
        else:
            action, _ = model.predict(obs, deterministic=True)
        obs, _, terminated, truncated, info = env.step(int(np.asarray(action).item()))
        if terminated or truncated:
            return info
