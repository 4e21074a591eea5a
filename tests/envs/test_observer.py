"""The observation kept up to date between decisions equals the one computed from the whole
plant, at every decision of whole episodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.envs.dispatch import DispatchEnv
from twin.envs.observer import Observer
from twin.jobshop.instances import read_instance

ROOT = Path(__file__).resolve().parents[2]
JOBSHOP = ROOT / "scenarios" / "jobshop"
EXAMPLES = ROOT / "scenarios" / "examples"


def from_scratch(env: DispatchEnv) -> np.ndarray:
    """The observation of the pending decision, every station computed from the plant."""
    observer = Observer(env.layout, env._observer.scales)
    observer.start(env.plant)
    station = env.plant.stations[env.station or ""]
    return observer.observe(station, len(env._pending) - 1)


def episode_mismatches(env: DispatchEnv, seed: int) -> tuple[int, int]:
    """Decisions of one episode with masked random actions, and those at which the kept
    observation differs from the one computed from scratch."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    decisions = mismatches = 0
    while True:
        decisions += 1
        mismatches += not np.array_equal(obs, from_scratch(env))
        obs, _, terminated, truncated, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        if terminated or truncated:
            return decisions, mismatches


@pytest.mark.parametrize(
    "scenario",
    [
        JOBSHOP / "ft06.txt",
        JOBSHOP / "ft10.txt",
        JOBSHOP / "ta01.txt",
        read_instance(JOBSHOP / "ft06.txt", cv=0.3, mtbf=40, mttr=4, arrival_mean=3),
    ],
    ids=["ft06", "ft10", "ta01", "ft06-noisy-breakdowns-arrivals"],
)
def test_kept_observation_equals_the_one_from_scratch_on_job_shops(scenario: object) -> None:
    env = DispatchEnv(scenario)  # type: ignore[arg-type]
    for seed in (0, 1):
        decisions, mismatches = episode_mismatches(env, seed)
        assert decisions > 5 and mismatches == 0


@pytest.mark.parametrize("name", ["job_shop.yaml", "motor_plant.yaml", "operator_shifts.yaml"])
def test_kept_observation_equals_the_one_from_scratch_on_plants(name: str) -> None:
    """Parallel machines, finite buffers, blocking, breakdowns, setups, operators, transport,
    batching, assembly, rework, maintenance."""
    env = DispatchEnv(EXAMPLES / name, horizon=3000)
    decisions, mismatches = episode_mismatches(env, 0)
    assert decisions > 50 and mismatches == 0


def test_the_returned_observation_is_the_callers() -> None:
    """Later decisions do not change an observation already returned."""
    env = DispatchEnv(JOBSHOP / "ft06.txt")
    first, _ = env.reset(seed=0)
    kept = first.copy()
    env.step(0)
    env.step(0)
    assert np.array_equal(first, kept)
