"""``twin/Dispatch-v0`` on the motor plant, with every scenario feature on: batch stations
decide by their own rule, the others ask the agent, and an episode ends with every KPI."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.envs.dispatch import DispatchEnv

MOTOR_PLANT = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "motor_plant.yaml"


def test_motor_plant_episode_with_masked_random_actions() -> None:
    env = DispatchEnv(MOTOR_PLANT, horizon=3000)
    env.reset(seed=5)
    rng = np.random.default_rng(5)
    deciding = set()
    while True:
        deciding.add(env.station)
        valid = np.flatnonzero(env.action_masks())
        _, _, terminated, truncated, info = env.step(int(rng.choice(valid)))
        if terminated or truncated:
            break
    assert truncated and not terminated
    assert "oven" not in deciding  # a batch station forms its batches by its rule
    assert {"assembly", "eol_test"} & deciding
    assert info["kpis"]["completed"] > 0
    assert info["kpis"]["energy_per_job"] > 0
    assert env.decisions > 50
