"""CP-SAT and trained models as scheduling methods: the one wrapper every caller uses.

A method (:data:`twin.jobshop.evaluation.Method`) schedules a job-shop instance with a seed
and returns a :class:`~twin.jobshop.evaluation.MethodOutcome`. Rules come from
:func:`twin.jobshop.evaluation.rule_method`; this module adds CP-SAT (:func:`cpsat_method`)
and saved SB3 models (:func:`model_method`), so ``twin jobshop``, ``twin evaluate`` and the
dashboard's Agents page run every method the same way. :func:`run_policy` is the one loop
that steps an env with a policy's (masked) choices; :func:`improve_method` hands any
method's schedule to CP-SAT as a hint and upper bound (agent plus search).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from twin.jobshop.evaluation import Method, MethodOutcome, rule_method
from twin.jobshop.instances import JobShopInstance, Perturbation, instance_to_scenario
from twin.jobshop.schedules import ScheduleError, check_schedule, schedule_from_log

if TYPE_CHECKING:
    from agents.cpsat import Search

__all__ = [
    "HINT_RULES",
    "Decisions",
    "best_rule_method",
    "cpsat_method",
    "improve_method",
    "load_any_model",
    "model_method",
    "run_policy",
]

Decisions = Literal["plant", "non_delay", "active"]
"""Where a model decides: the plant's env (SimPy, non-delay) or the array model's
non-delay or active (Giffler-Thompson) decisions (deterministic job shops only)."""

HINT_RULES: tuple[str, ...] = ("mwkr", "mopnr", "spt", "lpt", "fifo", "lifo")
"""The rules whose best schedule seeds CP-SAT when no agent is given."""


def load_any_model(path: str | Path) -> Any:
    """Load a saved MaskablePPO, PPO, A2C or DQN model on the CPU.

    Raises:
        ValueError: none of them can load the file.
    """
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import A2C, DQN, PPO

    torch.set_num_threads(1)
    problems = []
    for cls in (MaskablePPO, PPO, A2C, DQN):
        try:
            return cls.load(str(path), device="cpu")
        except Exception as error:  # SB3 raises many types for a foreign file
            problems.append(f"{cls.__name__}: {type(error).__name__}")
    raise ValueError(f"cannot load a model from {path} ({'; '.join(problems)})")


def run_policy(policy: Any, env: Any, seed: int, deterministic: bool = True) -> tuple[dict[str, Any], int]:
    """One episode of ``env`` with ``policy`` (an SB3 policy or model): the last info and the
    number of decisions. Masks are passed when the policy takes them; a candidate policy is
    resized to a Dispatch-v0 env's shape.

    Raises:
        ValueError: the policy does not fit the env's spaces (and cannot be resized).
    """
    from agents.policies import resize_policy

    policy = resize_policy(getattr(policy, "policy", policy), env.observation_space, env.action_space)
    masked = "action_masks" in inspect.signature(policy.predict).parameters
    obs, info = env.reset(seed=seed)
    decisions = 0
    while True:
        if masked:
            action, _ = policy.predict(obs, deterministic=deterministic, action_masks=env.action_masks())
        else:
            action, _ = policy.predict(obs, deterministic=deterministic)
        obs, _, terminated, truncated, info = env.step(int(np.asarray(action).item()))
        decisions += 1
        if terminated or truncated:
            return info, decisions


def cpsat_method(time_limit: float, workers: int | None = 1) -> Method:
    """OR-Tools CP-SAT on the deterministic instance, within ``time_limit`` seconds (the seed
    is CP-SAT's); ``workers`` search threads (None: the machine's cores, at most 8)."""
    from agents.cpsat import solve

    def schedule(instance: JobShopInstance, seed: int) -> MethodOutcome:
        result = solve(instance, time_limit=time_limit, workers=workers, seed=seed)
        return MethodOutcome(float(result.makespan), result.schedule, optimal=result.optimal)

    return schedule


def best_rule_method(rules: tuple[str, ...] = HINT_RULES) -> Method:
    """The shortest of the schedules the ``rules`` make (run through the twin)."""
    methods = [rule_method(rule) for rule in rules]

    def schedule(instance: JobShopInstance, seed: int) -> MethodOutcome:
        outcomes = [method(instance, seed) for method in methods]
        return min(outcomes, key=lambda outcome: outcome.makespan)

    return schedule


def improve_method(start: Method, time_limit: float, workers: int | None = None, search: Search = "lns") -> Method:
    """``start``'s schedule improved by CP-SAT within ``time_limit`` seconds: the schedule
    is the solver's hint and its makespan an upper bound, so the result is never worse; the
    outcome's ``progress`` starts with ``start``'s makespan at 0 s and lists every
    improvement with its solver time. ``search`` as :func:`agents.cpsat.solve` takes it
    (default ``"lns"``: a short complete search, then neighbourhood repairs of the incumbent).

    Raises:
        ValueError: a non-positive time limit.
    """
    if not time_limit > 0:
        raise ValueError(f"the improvement time must be > 0 seconds (got {time_limit:g})")
    from agents.cpsat import solve

    def schedule(instance: JobShopInstance, seed: int) -> MethodOutcome:
        first = start(instance, seed)
        result = solve(instance, time_limit, workers, seed, hint=first.schedule, search=search)
        decisions = first.decisions if first.decisions is not None else len(first.schedule)
        return MethodOutcome(float(result.makespan), result.schedule, result.optimal, decisions, result.progress)

    return schedule


def _dispatch_env(model: Any, scenario: Any, mode: str) -> Any:
    from twin.envs.dispatch import DispatchEnv

    if mode == "rule":
        return DispatchEnv(scenario, mode="rule")
    if getattr(model.policy, "candidate_max_queue", None) is not None:
        return DispatchEnv(scenario, mode="job")  # the candidate policy reads a queue of any length
    return DispatchEnv(scenario, mode="job", max_queue=int(getattr(model.action_space, "n", 1)))


def model_method(
    path: str | Path,
    samples: int = 0,
    perturbation: Perturbation | None = None,
    mode: str = "job",
    decisions: Decisions = "plant",
) -> Method:
    """A saved SB3 model dispatching every decision of ``twin/Dispatch-v0`` on the instance.

    Args:
        samples: 0 for greedy decoding, else the best of this many sampled rollouts,
            stepped together (:mod:`agents.sampling`; reproducible per seed and sample).
        perturbation: run the perturbed (stochastic) shop instead of the textbook one.
        mode: the model's action mode, ``job`` or ``rule``.
        decisions: ``plant`` (the SimPy env), or ``non_delay`` / ``active`` on the array
            model (a deterministic shop in job mode only).

    Raises:
        ValueError: the file holds no loadable model, ``samples`` below 0, or array-model
            decisions with a stochastic shop or rule mode.
    """
    from agents.sampling import sample_envs, sample_shop

    if samples < 0:
        raise ValueError(f"samples must be >= 0 (got {samples})")
    stochastic = perturbation is not None and perturbation.stochastic
    if decisions != "plant" and (stochastic or mode != "job"):
        raise ValueError(f"decisions={decisions!r} needs the deterministic shop and mode 'job'")
    model = load_any_model(path)

    def schedule(instance: JobShopInstance, seed: int) -> MethodOutcome:
        if decisions != "plant":
            sampled = sample_shop(model, instance, max(1, samples), seed, decisions, greedy=not samples)
            best = MethodOutcome(sampled.makespan, sampled.schedule, decisions=sampled.decisions)
        elif samples:
            scenario = instance_to_scenario(instance, perturbation=perturbation)
            envs = [_dispatch_env(model, scenario, mode) for _ in range(samples)]
            sampled = sample_envs(model, envs, seed)
            best = MethodOutcome(sampled.makespan, sampled.schedule, decisions=sampled.decisions)
        else:
            env = _dispatch_env(model, instance_to_scenario(instance, perturbation=perturbation), mode)
            info, count = run_policy(model, env, seed)
            best = MethodOutcome(float(info["makespan"]), schedule_from_log(env.plant.log), decisions=count)
        broken = check_schedule(instance, best.schedule, exact_durations=not stochastic)
        if broken:
            raise ScheduleError(f"{instance.name}: the model's schedule is infeasible: {'; '.join(broken[:3])}")
        return best

    return schedule
