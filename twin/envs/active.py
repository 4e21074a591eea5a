"""``twin/Dispatch-v0`` with ``decisions="active"``: Giffler-Thompson decisions on a job shop.

The plant's env asks which waiting job a free machine starts now (non-delay decisions): it
can never keep a machine free for a job that is about to arrive, so some instances' optimal
schedules are out of its reach. With ``decisions="active"`` the env asks the active-schedule
question instead: of the operations that could start on the machine ``m*`` of the earliest
completing operation before that completion, which goes next (a job still busy elsewhere
included; the machine then waits for it). It runs on :class:`twin.envs.shop.ShopBatch`, the
array model of a deterministic job shop, so it takes job-shop instances only (fixed
durations, all jobs at time 0, unlimited buffers), not scenarios with randomness.

Spaces, rewards and layout are those of :class:`twin.envs.dispatch.DispatchEnv` (its
docstring, "Active-schedule decisions", says what changes). ``env.plant`` has no model here:
:meth:`ActiveDispatchEnv.schedule` gives the schedule built so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from twin.dispatching import Rule, RuleContext, make_rule, rule_names
from twin.envs.dispatch import DEFAULT_RULES, DispatchEnv, Mode, RewardKind
from twin.envs.observation import Layout
from twin.envs.shop import DecisionKind, ShopBatch
from twin.jobshop.instances import JobShopInstance, load_instance
from twin.jobshop.schedules import ScheduledOperation
from twin.scenario import Scenario
from twin.sim.plant import Plant

__all__ = ["ActiveDispatchEnv", "Candidate"]


@dataclass(frozen=True)
class Candidate:
    """A candidate operation as a dispatching rule reads it (:class:`twin.dispatching.QueuedJob`).

    ``entered`` is when the job reaches the machine (the end of its previous operation; later
    than the decision's instant for a job still on its way).
    """

    job: int
    entered: float
    process_time: float
    remaining_work: float
    remaining_ops: int
    due: float = float("inf")


class ActiveDispatchEnv(DispatchEnv):
    """Dispatch-v0 on a job-shop instance with ``decisions="active"`` or ``"non_delay"``
    (Giffler-Thompson steps on the array model; see the module doc and ``DispatchEnv``).

    Raises:
        ValueError: a scenario instead of a job-shop instance, a reward other than makespan,
            a horizon or a warm-start state, an unknown mode or rule, or ``max_queue`` below 1.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | JobShopInstance,
        mode: Mode = "job",
        reward: RewardKind | None = None,
        max_queue: int | None = None,
        rules: Sequence[str] = DEFAULT_RULES,
        horizon: float | None = None,
        state: Any = None,
        decisions: DecisionKind = "active",
    ) -> None:
        if isinstance(scenario, Scenario):
            raise ValueError("decisions='active' needs a job-shop instance (.txt or JobShopInstance), not a scenario")
        instance = scenario if isinstance(scenario, JobShopInstance) else load_instance(Path(scenario))
        if reward not in (None, "makespan"):
            raise ValueError(f"decisions='active' minimises the makespan: reward must be 'makespan' (got {reward!r})")
        if horizon is not None:
            raise ValueError("decisions='active' schedules a closed job shop: no horizon")
        if state is not None:
            raise ValueError("decisions='active' starts every episode from the empty shop: no state")
        if mode not in ("job", "rule"):
            raise ValueError(f"mode must be 'job' or 'rule' (got {mode!r})")
        unknown = [name for name in rules if name not in rule_names()]
        if unknown or not rules:
            raise ValueError(f"rules must be known rule names (got {list(rules)}; known: {', '.join(rule_names())})")
        self.instance = instance
        self.decision_kind: DecisionKind = decisions
        self.mode = mode
        self.rules = tuple(rules)
        self.reward_kind = "makespan"
        self.closed = True
        self.stations = [f"m{m}" for m in range(instance.machines)]
        self.max_queue = max_queue or instance.n_jobs
        if self.max_queue < 1:
            raise ValueError(f"max_queue must be >= 1 (got {self.max_queue})")
        self._shop = ShopBatch(instance, 1, decisions)
        self.lower_bound = self._shop.lower_bound
        self.op_max, self.work_max, self.work_mean = self._shop.op_max, self._shop.work_max, self._shop.work_mean
        self.route_max = self._shop.route_max
        self.layout = Layout(instance.machines, self.max_queue)
        self._n_actions = self.max_queue if mode == "job" else len(self.rules)
        self.observation_space = spaces.Box(-1.0, 1.0, (self.layout.size,), np.float32)
        self.action_space = spaces.Discrete(self._n_actions)
        self._rule_cache: dict[tuple[str, str], Rule] = {}
        self._episode_over = True
        self._started = False
        self._seed = 0
        self._last_makespan = 0.0
        self.decisions = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the instance again, run to the first decision (the seed changes nothing but
        the ``random`` rule's draws: the shop is deterministic)."""
        if (options or {}).get("state") is not None:
            raise ValueError("decisions='active' starts every episode from the empty shop: no state")
        super(DispatchEnv, self).reset(seed=seed)
        self._shop = ShopBatch(self.instance, 1, self.decision_kind)
        self._rule_cache.clear()
        self._seed = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
        self._started, self._episode_over = True, False
        self.decisions = 0
        self._last_makespan = 0.0
        return self._observe(), self._info()

    def step(self, action: int | np.integer[Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Carry out one decision, run to the next one (reward: minus the growth of the
        partial makespan over the lower bound)."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._episode_over:
            raise RuntimeError("the episode is over: call reset()")
        extra: dict[str, Any] = {}
        shop = self._shop
        if not shop.done[0]:
            index = int(action)
            mask = self.action_masks()
            if not (0 <= index < len(mask) and mask[index]):
                extra["invalid_action"] = True
                index = 0
            slot = index if self.mode == "job" else self.rule_action(self.rules[index])
            shop.step(np.array([slot]))
            self.decisions += 1
        makespan = float(shop.makespan[0])
        reward = -(makespan - self._last_makespan) / self.lower_bound
        self._last_makespan = makespan
        terminated = bool(shop.done[0])
        self._episode_over = terminated
        return self._observe(), float(reward), terminated, False, self._info() | extra

    def action_masks(self) -> np.ndarray:
        """Valid actions of the current decision (slot 0 alone when none is pending)."""
        if self.mode == "rule":
            return np.ones(len(self.rules), dtype=bool)
        mask: np.ndarray = self._shop.action_masks(self.max_queue)[0]
        return mask

    def schedule(self) -> list[ScheduledOperation]:
        """The operations scheduled so far, sorted by job and operation."""
        return self._shop.schedule(0)

    @property
    def queue(self) -> list[Any]:
        """The candidates of the current decision, in action order (:class:`Candidate`)."""
        shop = self._shop
        jobs = shop.candidates(0)[: self.max_queue]
        op = shop.next_op[0]
        return [
            Candidate(
                int(j),
                float(shop.job_ready[0, j]),
                float(shop.op_duration[j, op[j]]),
                float(shop.remaining[j, op[j]]),
                int(shop.n_ops[j] - op[j]),
            )
            for j in jobs
        ]

    @property
    def plant(self) -> Plant:
        """Not available: active decisions run on the array model (use :meth:`schedule`).

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError("decisions='active' runs no plant model; use env.schedule()")

    @property
    def station(self) -> str | None:
        """Name of the deciding machine (``m<k>``; None when the schedule is complete)."""
        machine = int(self._shop.machine[0])
        return f"m{machine}" if machine >= 0 else None

    def rule_action(self, rule: str) -> int:
        """The ``mode="job"`` action that ``rule`` would take among the current candidates
        (``now`` is the decision's instant).

        Raises:
            RuntimeError: no decision is pending.
            KeyError: unknown rule.
        """
        machine = self.station
        if machine is None:
            raise RuntimeError("no decision is pending")
        key = (rule, machine)
        chosen = self._rule_cache.get(key)
        if chosen is None:
            m = int(self._shop.machine[0])
            durations = [d for ops in self.instance.jobs for mm, d in ops if mm == m]
            seed = self._seed
            context = RuleContext(
                machine,
                float(np.mean(durations)) if durations else 1.0,
                lambda: np.random.default_rng([seed, m]),
            )
            chosen = self._rule_cache[key] = make_rule(rule, context)
        return int(chosen(self.queue, float(self._shop.time[0])))

    def _observe(self) -> np.ndarray:
        obs: np.ndarray = self._shop.observe(self.max_queue)[0]
        return obs

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "action_mask": self.action_masks(),
            "time": float(self._shop.time[0]),
            "station": self.station,
            "decisions": self.decisions,
        }
        if self._shop.done[0]:
            info["makespan"] = float(self._shop.makespan[0])
        return info
