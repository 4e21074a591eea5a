"""twin/Dispatch-v0 started from a plant state: the checkers, the rule's own warm run, sampling."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import twin  # noqa: F401  (registers the env ids)
from tests.envs.test_dispatch import roll
from tests.helpers import scenario
from twin.envs.dispatch import DispatchEnv
from twin.measure.kpi import compute_kpis
from twin.scenario.state import PlantState
from twin.sim.plant import Plant

SHOP = scenario(
    {
        "a": {"machines": 2, "buffer": 6, "process_time": {"dist": "exponential", "mean": 1.5}, "dispatching": "spt"},
        "b": {"buffer": 4, "process_time": {"dist": "gamma", "shape": 2, "scale": 0.4}, "dispatching": "spt"},
    },
    {
        "x": {"arrival": {"dist": "exponential", "mean": 1.2}, "route": ["a", "b"], "due_date": {"slack": 12}},
        "y": {"arrival": {"dist": "exponential", "mean": 2.5}, "route": ["a", "b"], "due_date": {"slack": 8}},
    },
    horizon=120,
)


def _states() -> list[PlantState]:
    states = []
    for at in (60.0, 95.5):
        plant = Plant(SHOP, seed=11)
        plant.env.run(until=at)
        states.append(plant.snapshot())
    return states


def test_the_env_from_a_state_passes_the_checker() -> None:
    env = gymnasium.make("twin/Dispatch-v0", scenario=SHOP, state=_states())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)


def test_a_rule_driven_episode_from_a_state_is_the_rules_own_warm_run() -> None:
    state = _states()[0]
    assert len(state.jobs) >= 3
    plant = Plant(SHOP, seed=4, state=state)
    end = plant.run()
    env = DispatchEnv(SHOP, mode="rule", rules=["spt"], state=state)
    _, info, steps = roll(env, lambda e: 0, seed=4)
    assert steps > 1 and env.plant.start == state.time == 60.0
    assert info["kpis"] == compute_kpis(plant.log, SHOP, state.time, end)
    for column, values in plant.log.columns().items():
        assert np.array_equal(values, env.plant.log.columns()[column]), column


def test_reset_samples_the_states_or_takes_one_from_options() -> None:
    states = _states()
    env = DispatchEnv(SHOP, state=states)
    starts = set()
    env.reset(seed=0)
    for _ in range(12):
        env.reset()
        starts.add(env.plant.start)
    assert starts == {60.0, 95.5}
    env.reset(options={"state": PlantState(time=7.0)})
    assert env.plant.start == 7.0


def test_a_state_that_contradicts_the_scenario_is_refused() -> None:
    bad = PlantState.model_validate(
        {"time": 5.0, "jobs": [{"id": "1", "product": "x", "where": "buffer", "station": "nowhere"}]}
    )
    with pytest.raises(ValueError, match=r"jobs\[0\]\.station: unknown station 'nowhere'"):
        DispatchEnv(SHOP, state=bad)
