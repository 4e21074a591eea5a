"""N copies of ``twin/Dispatch-v0`` as one Stable-Baselines3 vectorised env.

Stable-Baselines3 is imported inside :func:`make_vec_env`, so this module stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal

from twin.jobshop.instances import JobShopInstance
from twin.scenario import Scenario

__all__ = ["make_vec_env"]


def _make_env(scenario: str | Path | Scenario | JobShopInstance, kwargs: dict[str, Any]) -> Any:
    from stable_baselines3.common.monitor import Monitor

    from twin.envs.dispatch import DispatchEnv

    return Monitor(DispatchEnv(scenario, **kwargs))


def make_vec_env(
    scenario: str | Path | Scenario | JobShopInstance,
    n_envs: int = 2,
    seed: int = 0,
    vec_env: Literal["subproc", "dummy"] = "subproc",
    **env_kwargs: Any,
) -> Any:
    """``n_envs`` Dispatch envs (each in a ``Monitor``) in a ``SubprocVecEnv`` (one process
    each, for real parallelism) or a ``DummyVecEnv`` (in this process, for tiny envs and
    debugging). Env ``i`` is seeded ``seed + i`` on its first reset; ``env_kwargs`` go to
    :class:`~twin.envs.dispatch.DispatchEnv`. MaskablePPO reads the masks through
    ``env_method("action_masks")``.

    Raises:
        ValueError: ``n_envs`` below 1 or an unknown ``vec_env``.
    """
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    if n_envs < 1:
        raise ValueError(f"n_envs must be >= 1 (got {n_envs})")
    if vec_env not in ("subproc", "dummy"):
        raise ValueError(f"vec_env must be 'subproc' or 'dummy' (got {vec_env!r})")
    makers: list[Callable[[], Any]] = [partial(_make_env, scenario, dict(env_kwargs)) for _ in range(n_envs)]
    venv = SubprocVecEnv(makers) if vec_env == "subproc" else DummyVecEnv(makers)
    venv.seed(seed)
    return venv
