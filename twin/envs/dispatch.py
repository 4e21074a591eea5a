"""``twin/Dispatch-v0``: dispatching decisions of the plant model as a Gymnasium environment."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from simpy.core import EmptySchedule

from twin.dispatching import RULES, Rule, rule_names
from twin.envs.episode_kpis import EpisodeKpis
from twin.envs.observation import GLOBAL_PROGRESS, Layout
from twin.envs.observer import Observer, Scales
from twin.jobshop.instances import JobShopInstance, instance_to_scenario, read_instance
from twin.scenario import Scenario, load_scenario
from twin.scenario.state import PlantState
from twin.sim.job import Job
from twin.sim.plant import Plant
from twin.sim.station import Station
from twin.sim.warmstart import warm_start_problems

__all__ = ["DEFAULT_RULES", "REWARD_KINDS", "DispatchEnv", "Mode", "RewardKind"]

Mode = Literal["job", "rule"]
RewardKind = Literal["makespan", "tardiness", "tardiness_accrued", "throughput"]
REWARD_KINDS: tuple[str, ...] = get_args(RewardKind)

DEFAULT_RULES: tuple[str, ...] = ("fifo", "spt", "lpt", "edd", "mwkr", "mopnr", "cr", "atc")
"""The rules an action may pick in ``mode="rule"``, in action order."""


class _TrackedPlant(Plant):
    """A plant that counts, for rewards, the jobs completed and their total tardiness and,
    with ``track_open``, knows the due dates of the jobs still in it (for the tardiness they
    have accrued; off by default, as it costs a little at every departure)."""

    completed = 0
    tardiness = 0.0

    def __init__(self, *args: Any, track_open: bool = False, **kwargs: Any) -> None:
        self._track_open = track_open
        self._open_dues: dict[int, float] = {}
        self._known_jobs = 0
        super().__init__(*args, **kwargs)

    def _sync_open(self) -> None:
        """Add the jobs that arrived since the last call (their dues are in the log)."""
        dues = self.log.job_due
        for job_id in range(self._known_jobs, len(dues)):
            self._open_dues[job_id] = dues[job_id]
        self._known_jobs = len(dues)

    def job_left(self, job: Job) -> None:
        super().job_left(job)
        if self._track_open:
            self._sync_open()
            del self._open_dues[job.id]
        if job.step == len(job.plan):  # complete, not scrapped
            self.completed += 1
            self.tardiness += max(0.0, self.env.now - job.due)

    def tardiness_accrued(self) -> float:
        """The tardiness of the completed jobs plus how late the jobs in the plant are now
        (needs ``track_open``)."""
        assert self._track_open, "built without track_open"
        self._sync_open()
        now = self.env.now
        return self.tardiness + sum(now - due for due in self._open_dues.values() if due < now)


def _check_state(scenario: Scenario, state: PlantState) -> None:
    """Refuse a state the scenario cannot start from (ValueError naming each problem)."""
    problems = warm_start_problems(scenario, state)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))


def _as_scenario(scenario: str | Path | Scenario | JobShopInstance) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, JobShopInstance):
        return instance_to_scenario(scenario)
    path = Path(scenario)
    return read_instance(path) if path.suffix == ".txt" else load_scenario(path)


class DispatchEnv(gym.Env[np.ndarray, np.int64]):
    """Which job a free machine takes next, decided by an agent, in the plant model itself.

    The environment is the twin's SimPy model with every station's dispatcher deferring its
    choice: the simulation runs until a machine is free with two or more jobs waiting, pauses,
    and the agent decides. Works for job-shop instances (``.txt``) and for any scenario.

    ## Action Space

    ``mode="job"`` (default): ``Discrete(max_queue)``, the position in the deciding station's
    buffer (in order of entry) of the job to start. Only the first ``max_queue`` waiting jobs
    are candidates; positions past the queue are masked. ``mode="rule"``:
    ``Discrete(len(rules))``, the dispatching rule (default :data:`DEFAULT_RULES`) that picks
    the job for this decision; all are always allowed. :meth:`action_masks` (for sb3-contrib's
    ``MaskablePPO``) and ``info["action_mask"]`` give the valid actions. A masked action that
    is taken anyway starts the first candidate and sets ``info["invalid_action"]``.

    ## Observation Space

    ``Box(-1, 1, (3 + 6 * S + 7 * max_queue,), float32)`` for ``S`` stations, in this order
    (times are mean times; ``op_max`` is the longest mean operation of the scenario,
    ``work_max`` the largest mean work content of a product, ``work_mean`` the mean one):

    - global (3): progress (share of the mean work content of a closed scenario done, or
      ``now / horizon``); jobs in the plant / ``(S * max_queue)``; other decisions pending at
      this instant / ``S``;
    - deciding station (``S``): one-hot of its index;
    - per station (``5 * S``): queue length / ``max_queue``; share of machines busy or in
      setup; share of machines down, blocked, off shift or in maintenance; mean work waiting in the queue /
      ``op_max`` per machine, divided by ``max_queue``; mean remaining time of the
      operations in progress / ``op_max`` (0 for a free machine);
    - per candidate (``7 * max_queue``, zeros for empty slots): 1 (present); process time here
      / ``op_max``; remaining work / ``work_max``; remaining operations / longest route;
      time waited here / ``work_mean``; slack ``(due - now - remaining work) / work_mean``
      (1 without a due date); queue length at its next station / ``max_queue`` (0 at its
      last).

    Every feature is clipped to ``[-1, 1]``; all but the slack lie in ``[0, 1]``.

    ## Rewards

    ``reward="makespan"`` (default for scenarios without horizon): minus the simulated time
    from the previous decision to this one's successor, over a lower bound ``LB`` of the
    makespan (the largest of the busiest station's mean work per machine and the longest
    product), the time before the first decision counted in the first step: the return of an
    episode is exactly ``-makespan / LB``. ``reward="tardiness"`` (default with a horizon
    and due dates): minus the tardiness of the jobs completed during the step, over
    ``work_mean``. ``reward="tardiness_accrued"``: minus the tardiness accrued during the
    step, over ``work_mean``: every job in the plant past its due date adds the time it was
    late within the step, so a late job costs while it waits, not only when it leaves (a
    denser signal with the same total: an episode's return is minus the tardiness of the jobs
    completed plus the lateness of those still in the plant at its end, over ``work_mean``).
    ``reward="throughput"`` (default with a horizon and no due dates): the number of jobs
    completed during the step.

    ## Starting State

    Replication 0 of the scenario, run up to the first decision, with ``reset(seed=s)``'s
    ``s`` as the model's seed (the episode is then the run ``twin run --seed s`` would make,
    and ``s`` reproduces it exactly: process times, breakdowns, arrivals and the ``random``
    rule's draws); ``reset()`` without a seed draws the model's seed from ``self.np_random``.
    With ``state`` (a :class:`~twin.scenario.state.PlantState`, or a list of them, one drawn
    with ``self.np_random`` at each reset) or ``reset(options={"state": s})``, the episode
    starts from that state of the floor instead of from empty (:mod:`twin.sim.warmstart`):
    the clock starts at its time, the horizon and the progress feature count from there, and
    the final KPIs cover ``[T, end]``.

    ## Episode End

    Terminated when every job of a scenario without horizon has left the plant; truncated
    when the simulation reaches the scenario's horizon. ``info`` then carries ``kpis`` (the
    KPIs of :mod:`twin.measure.kpi` over ``[warmup, end]``, a read-only mapping that computes
    them when first read: :class:`~twin.envs.episode_kpis.EpisodeKpis`, which pickles and
    copies as a dict) and, without horizon, ``makespan``. A
    scenario in which no decision ever arises has a one-step episode whose action is ignored.

    ## Decisions

    A station decides only when a machine is free and at least two jobs wait: a single
    candidate starts at once, inside the model, and is never shown. Decisions due at the same
    instant are queued and presented one at a time, in the order the model raised them; a
    decision raised while carrying out an action (the same station's next free machine, or a
    station upstream whose held job may now move) comes next, as a rule deciding on the spot
    would take it. The simulation does not advance until the queue is empty, so a rule's
    choices reproduce the rule's own run exactly (:meth:`rule_action`). One exception: where
    stations share operators, a decision raised by an operator coming free is taken after the
    rest of that instant's event, not inside it, so simultaneous events may be ordered
    differently than in the rule's run (the same model, not the same random path).

    A batch station (``batch:``) forms its batches by its own rule and never asks the agent;
    an assembly station asks only when a complete kit of components waits. Transport,
    maintenance, rework and energy change nothing in the spaces: their effects show in the
    queues, machine states and rewards.

    ## Arguments

    - ``scenario``: a scenario file (``.yaml``), a job-shop instance file (``.txt``), a
      :class:`~twin.scenario.Scenario` or a :class:`~twin.jobshop.JobShopInstance`.
    - ``mode``: ``"job"`` or ``"rule"`` (see Action Space).
    - ``reward``: ``"makespan"``, ``"tardiness"``, ``"tardiness_accrued"`` or ``"throughput"``
      (default as above).
    - ``max_queue``: candidate slots; default the number of jobs of a closed scenario (at
      most 64), else 16.
    - ``rules``: rule names for ``mode="rule"``.
    - ``horizon``: replaces the scenario's horizon (e.g. shorter episodes of an open plant).
    - ``state``: a plant state, or a list of states to sample from, to start episodes from.
    - ``decisions``: ``"non_delay"`` (default: the plant model, as above) or ``"active"``
      (see Active-Schedule Decisions).

    ## Active-Schedule Decisions

    ``decisions="non_delay"`` (default) asks which *waiting* job a *free* machine starts now,
    so a machine is never kept free for a job about to arrive: the schedules are non-delay,
    and on many instances none of them is optimal. ``decisions="active"`` (job-shop instances
    only: fixed durations, every job at 0) asks the Giffler-Thompson question instead: take
    the operation that would complete first among the jobs' next operations, at ``c*`` on
    machine ``m*``; the candidates are the next operations on ``m*`` that could start before
    ``c*``, including a job still busy on another machine (``m*`` then waits for it). The
    chosen one is scheduled at its earliest start; a single candidate is scheduled without
    asking. Every schedule is active, and some sequence of choices reaches an optimum.
    ``DispatchEnv(..., decisions="active")`` returns a
    :class:`twin.envs.active.ActiveDispatchEnv`, which runs on the array model
    :class:`twin.envs.shop.ShopBatch` (no SimPy plant: ``env.schedule()`` instead of
    ``env.plant``; no ``kpis`` in the last info). Spaces, masks and the makespan reward are
    as above, with the candidate slots holding the candidates in job order; the features
    are read at the decision's instant ``t`` (the earliest start among the candidates):
    "time waited" is negative for a job that reaches ``m*`` after ``t`` (its arrival minus
    ``t``, over ``work_mean``), a station's queue counts the jobs whose next operation is
    there and that are ready at ``t``, and "busy" is 1 while a machine's last operation
    ends after ``t``. A job shop has no due dates, so the slack slot says instead how much
    the job can lose before it raises the partial schedule's makespan bound: ``(B - c_j) /
    work_mean``, where ``c_j`` is the job's earliest completion (its next operation's earliest
    start plus its remaining work) and ``B`` the largest of the jobs' ``c_j`` and the
    machines' free-at plus unscheduled work (0 for the critical job; a model trained on
    non-delay decisions saw 1 there). ``decisions="non_delay"`` on the array model keeps the
    plant's features, 1 included.

    ## Version History

    - v0: initial version; ``reward="tardiness_accrued"`` added later (the other rewards
      and the observation are unchanged); scenarios with batching, assembly, rework,
      maintenance, transport and energy accepted later (spaces unchanged; batch stations
      decide by their rule); ``state`` (warm starts) added later, spaces unchanged;
      ``decisions="active"`` added later (the default unchanged).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __new__(cls, *args: Any, decisions: str = "non_delay", **kwargs: Any) -> DispatchEnv:
        """``decisions="active"`` makes an :class:`~twin.envs.active.ActiveDispatchEnv`."""
        if decisions == "active" and cls is DispatchEnv:
            from twin.envs.active import ActiveDispatchEnv

            return super().__new__(ActiveDispatchEnv)
        return super().__new__(cls)

    def __init__(
        self,
        scenario: str | Path | Scenario | JobShopInstance,
        mode: Mode = "job",
        reward: RewardKind | None = None,
        max_queue: int | None = None,
        rules: Sequence[str] = DEFAULT_RULES,
        horizon: float | None = None,
        state: PlantState | Sequence[PlantState] | None = None,
        decisions: Literal["non_delay", "active"] = "non_delay",
    ) -> None:
        if decisions != "non_delay":
            raise ValueError(f"decisions must be 'non_delay' or 'active' (got {decisions!r})")
        spec = _as_scenario(scenario)
        if horizon is not None:
            if not horizon > 0:
                raise ValueError(f"horizon must be > 0 (got {horizon})")
            spec = spec.model_copy(update={"horizon": float(horizon), "warmup": min(spec.warmup, horizon / 2)})
        if mode not in ("job", "rule"):
            raise ValueError(f"mode must be 'job' or 'rule' (got {mode!r})")
        unknown = [name for name in rules if name not in rule_names()]
        if unknown or not rules:
            raise ValueError(f"rules must be known rule names (got {list(rules)}; known: {', '.join(rule_names())})")
        self.scenario = spec
        self.states: list[PlantState] = [state] if isinstance(state, PlantState) else list(state or [])
        """States episodes start from (one drawn per reset); empty: from an empty plant."""
        for chosen in self.states:
            _check_state(spec, chosen)
        self.mode: Mode = mode
        self.rules = tuple(rules)
        self.closed = spec.horizon is None
        self.stations = list(spec.stations)
        self._deciding = [name for name, station in spec.stations.items() if station.batch is None]
        """Stations whose decisions the agent takes (batch stations form batches by their rule)."""
        self._measure(spec)
        has_due = any(
            p.due_date is not None or any(o.due is not None for o in p.release or []) for p in spec.products.values()
        )
        default_reward: RewardKind = "makespan" if self.closed else ("tardiness" if has_due else "throughput")
        self.reward_kind: RewardKind = reward or default_reward
        if self.reward_kind not in REWARD_KINDS:
            raise ValueError(f"reward must be one of {', '.join(REWARD_KINDS)} (got {self.reward_kind!r})")
        if self.reward_kind == "makespan" and not self.closed:
            raise ValueError("reward 'makespan' needs a scenario without horizon (a closed job shop)")
        if max_queue is None:
            max_queue = min(max(self._jobs_total, 2), 64) if self.closed else 16
        if max_queue < 1:
            raise ValueError(f"max_queue must be >= 1 (got {max_queue})")
        self.max_queue = max_queue
        self.layout = Layout(len(self.stations), max_queue)
        size = self.layout.size
        self._size = size
        self._n_actions = max_queue if mode == "job" else len(self.rules)
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), np.float32)
        self.action_space = spaces.Discrete(self._n_actions)
        scales = Scales(self.op_max, self.work_max, self.work_mean, self.route_max, self._total_work, spec.horizon)
        self._observer = Observer(self.layout, scales)
        self._plant: _TrackedPlant | None = None
        self._warm = False
        self._pending: deque[Station] = deque()
        self._raised: list[Station] | None = None
        self._rule_cache: dict[tuple[str, str], Rule] = {}
        self._done = True
        self._episode_over = False
        self._last_time = 0.0
        self._last_completed = 0
        self._last_tardiness = 0.0
        self.decisions = 0

    def _measure(self, spec: Scenario) -> None:
        """Scales of the features and rewards, from the scenario's mean times."""
        op_means: list[float] = []
        work: list[float] = []
        routes: list[int] = []
        load = dict.fromkeys(spec.stations, 0.0)
        jobs_total = 0
        for pname, product in spec.products.items():
            means = [spec.process_time(pname, i).mean for i in range(len(product.route))]
            op_means += means
            work.append(sum(means))
            routes.append(len(means))
            count = sum(o.quantity for o in product.release) if product.release is not None else 1
            jobs_total += count if product.arrival is None else 0
            for op, mean in zip(product.route, means, strict=True):
                load[op.station] += count * mean
        self.op_max = max(max(op_means), 1e-9)
        self.work_max = max(max(work), 1e-9)
        self.work_mean = max(float(np.mean(work)), 1e-9)
        self.route_max = max(routes)
        self._jobs_total = jobs_total
        self._total_work = sum(
            (sum(o.quantity for o in p.release) if p.release is not None else 1) * w
            for p, w in zip(spec.products.values(), work, strict=True)
        )
        per_machine = [load[name] / spec.stations[name].machines for name in spec.stations]
        self.lower_bound = max(max(per_machine), max(work), 1e-9)

    # Gymnasium API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new replication (see Starting State) and run it to the first decision."""
        super().reset(seed=seed)
        # A given seed is the plant's seed itself, so reset(seed=s) replays `twin run --seed s`
        # (replication 0); later resets draw theirs from the seeded generator.
        plant_seed = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))

        def defer(queue: Sequence[Job], now: float) -> None:
            return None

        start = (options or {}).get("state")
        if start is not None:
            _check_state(self.scenario, start)
        elif self.states:
            start = self.states[int(self.np_random.integers(len(self.states)))]
        self._plant = _TrackedPlant(
            self.scenario,
            seed=plant_seed,
            dispatchers=dict.fromkeys(self._deciding, defer),
            on_decision=self._on_decision,
            track_open=self.reward_kind == "tardiness_accrued",
            state=start,
        )
        self._warm = start is not None
        self._pending.clear()
        self._rule_cache.clear()
        self._last_time = self._plant.start
        self._last_completed = 0
        self._last_tardiness = 0.0
        self.decisions = 0
        self._episode_over = False
        self._done = self._advance()
        self._observer.start(self._plant)
        return self._observe(), self._info()

    def step(self, action: int | np.integer[Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Carry out one decision, run to the next one (see Rewards, Episode End)."""
        plant = self._plant
        if plant is None:
            raise RuntimeError("call reset() before step()")
        if self._episode_over:
            raise RuntimeError("the episode is over: call reset()")
        if not self._pending:  # a scenario without decisions: one step, action ignored
            return self._finish_step({})
        station = self._pending.popleft()
        index = int(action)
        extra: dict[str, Any] = {}
        if not 0 <= index < self._choices(station):
            extra["invalid_action"] = True
            index = 0
        job_index = (
            index if self.mode == "job" else self._rule(self.rules[index], station)(station.queue, plant.env.now)
        )
        self.decisions += 1
        self._raised = []
        station.assign(job_index)
        raised, self._raised = self._raised, None
        self._pending.extendleft(reversed(raised))
        self._done = self._advance()
        return self._finish_step(extra)

    def _finish_step(self, extra: dict[str, Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        reward = self._reward()
        ended = self._done and not self._pending
        terminated = ended and self.closed
        truncated = ended and not self.closed
        if ended:
            self._episode_over = True
        return self._observe(), reward, terminated, truncated, self._info() | extra

    def action_masks(self) -> np.ndarray:
        """Valid actions of the current decision (for sb3-contrib's ``MaskablePPO``)."""
        if not self._pending:
            mask = np.zeros(self._n_actions, dtype=bool)
            mask[0] = True  # episode over or action ignored: any action will do
            return mask
        return self._mask(self._pending[0])

    # Helpers for rule-driven runs and analysis

    @property
    def queue(self) -> list[Job]:
        """Jobs waiting at the deciding station, in the order actions number them (empty when
        no decision is pending)."""
        return list(self._pending[0].queue)[: self.max_queue] if self._pending else []

    @property
    def plant(self) -> Plant:
        """The model of the current episode (its ``log`` is the event log so far).

        Raises:
            RuntimeError: before the first reset.
        """
        if self._plant is None:
            raise RuntimeError("call reset() first")
        return self._plant

    @property
    def station(self) -> str | None:
        """Name of the deciding station (None when no decision is pending)."""
        return self._pending[0].name if self._pending else None

    def rule_action(self, rule: str) -> int:
        """The ``mode="job"`` action that ``rule`` would take at the current decision.

        Raises:
            RuntimeError: no decision is pending.
            KeyError: unknown rule.
        """
        if not self._pending or self._plant is None:
            raise RuntimeError("no decision is pending")
        station = self._pending[0]
        return self._rule(rule, station)(station.queue, self._plant.env.now)

    # The model loop

    def _on_decision(self, station: Station) -> None:
        if self._raised is not None:
            self._raised.append(station)
        else:
            self._pending.append(station)

    def _advance(self) -> bool:
        """Run until a decision is pending or the episode's end; True at the end."""
        plant = self._plant
        assert plant is not None
        env, pending, done = plant.env, self._pending, plant.all_done
        if self.closed:  # it ends with its last job, or when nothing is left to happen
            step = env.step
            try:
                while not pending and not done.triggered:
                    step()
            except EmptySchedule:
                return True
            return not pending
        # An open plant that empties for a while triggers all_done too: it ends at the horizon.
        limit = plant.start + float(self.scenario.horizon or math.inf)
        while not pending:
            if env.peek() >= limit:
                if env.now < limit < math.inf:
                    env.run(until=limit)
                return True
            env.step()
        return False

    def _rule(self, name: str, station: Station) -> Rule:
        plain = RULES.get(name)
        if plain is not None:  # needs nothing of the plant: skip building its context per episode
            return plain
        key = (name, station.name)
        rule = self._rule_cache.get(key)
        if rule is None:
            assert self._plant is not None
            rule = self._rule_cache[key] = self._plant.rule_for(station.name, name)
        return rule

    def _choices(self, station: Station) -> int:
        """How many actions are valid at ``station``'s decision: the first ones."""
        return len(self.rules) if self.mode == "rule" else min(len(station.queue), self.max_queue)

    def _mask(self, station: Station) -> np.ndarray:
        mask = np.zeros(self._n_actions, dtype=bool)
        mask[: self._choices(station)] = True
        return mask

    def _reward(self) -> float:
        plant = self._plant
        assert plant is not None
        now = plant.env.now
        tardiness = plant.tardiness_accrued() if self.reward_kind == "tardiness_accrued" else plant.tardiness
        if self.reward_kind == "makespan":
            reward = -(now - self._last_time) / self.lower_bound
        elif self.reward_kind in ("tardiness", "tardiness_accrued"):
            reward = -(tardiness - self._last_tardiness) / self.work_mean
        else:
            reward = float(plant.completed - self._last_completed)
        self._last_time, self._last_completed, self._last_tardiness = now, plant.completed, tardiness
        return float(reward)

    def _info(self) -> dict[str, Any]:
        plant = self._plant
        assert plant is not None
        info: dict[str, Any] = {
            "action_mask": self.action_masks(),
            "time": plant.env.now,
            "station": self.station,
            "decisions": self.decisions,
        }
        if self._done and not self._pending:
            end = plant.env.now
            skip = 0.0 if self._warm else self.scenario.warmup
            info["kpis"] = EpisodeKpis(plant.log, self.scenario, min(plant.start + skip, end), end)
            if self.closed:
                info["makespan"] = end
        return info

    def _observe(self) -> np.ndarray:
        if not self._pending:
            obs = np.zeros(self._size, dtype=np.float32)
            obs[GLOBAL_PROGRESS] = 1.0
            return obs
        return self._observer.observe(self._pending[0], len(self._pending) - 1)
