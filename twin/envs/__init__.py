"""Gymnasium environments over the plant model.

:func:`register_envs` (called on ``import twin``) registers the ids with string entry points,
so registering imports nothing but Gymnasium's registry; the env module loads on
``gymnasium.make``.
"""

from __future__ import annotations

import gymnasium

__all__ = ["DESIGN_ID", "DISPATCH_ID", "register_envs"]

DISPATCH_ID = "twin/Dispatch-v0"
DESIGN_ID = "twin/Design-v0"


def register_envs() -> None:
    """Register ``twin/Dispatch-v0`` and ``twin/Design-v0`` (once per process)."""
    if DISPATCH_ID not in gymnasium.registry:
        gymnasium.register(id=DISPATCH_ID, entry_point="twin.envs.dispatch:DispatchEnv")
    if DESIGN_ID not in gymnasium.registry:
        gymnasium.register(id=DESIGN_ID, entry_point="twin.envs.design:DesignEnv")
