"""Decisions from a plant state: the twin, started from the floor's present, runs to the next
dispatching decision and the exported model takes it.

``twin/Dispatch-v0`` started from the state (:mod:`twin.sim.warmstart`) pauses at the first
moment a machine is free with two or more jobs waiting: at the state's time when a decision is
due then, otherwise at the next one the twin expects (seed 0, so the same state gives the same
answer). The answer names the station and the job by the state's ids, the queue the model chose
from, and what the station's own rule (the fallback) would take.
"""

from __future__ import annotations

from typing import Any

from twin.envs.dispatch import DispatchEnv
from twin.scenario import Scenario
from twin.scenario.state import PlantState
from twin.service.policy import OnnxPolicy, PolicyError

__all__ = ["decide_from_state"]


def decide_from_state(policy: OnnxPolicy, scenario: Scenario, state: PlantState) -> dict[str, Any]:
    """The model's decision at the next decision point from ``state``.

    Returns ``{"time", "station", "job", "action", "probabilities", "queue", "fallback_rule",
    "fallback_job"}``.

    Raises:
        PolicyError: the model's shape does not fit the scenario, the state cannot start the
            twin, or no decision comes before the run ends.
    """
    stations = int(policy.card.get("stations", 0))
    if stations != len(scenario.stations):
        raise PolicyError(
            f"scenario: the model reads {stations} stations, the scenario has {len(scenario.stations)} "
            "(export the model for this plant: twin export --stations --max-queue)"
        )
    try:
        env = DispatchEnv(scenario, mode="job", max_queue=int(policy.card["max_queue"]), state=state)
    except ValueError as error:
        raise PolicyError(f"state: {error}") from None
    observation, info = env.reset(seed=0)
    if env.station is None:
        raise PolicyError("state: no dispatching decision comes before the run ends")
    mask = env.action_masks()
    decision = policy.decide([float(v) for v in observation], [bool(m) for m in mask])
    ids = env.plant.warm_ids

    def name(job: Any) -> str:
        return ids.get(job.id, f"new-{job.id}")  # jobs that arrived after the state are the twin's own

    rule = scenario.stations[env.station].dispatching
    return {
        "time": float(info["time"]),
        "station": env.station,
        "job": name(env.queue[decision.action]),
        "action": decision.action,
        "probabilities": decision.probabilities,
        "queue": [name(job) for job in env.queue],
        "fallback_rule": rule,
        "fallback_job": name(env.queue[env.rule_action(rule)]),
    }
