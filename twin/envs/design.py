"""``twin/Design-v0``: building a plant design under a budget, one unit at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from twin.scenario import Scenario, load_scenario
from twin.studies.design import DesignEvaluator, DesignSpace, Evaluation, Values

__all__ = ["DesignEnv", "RewardMode"]

RewardMode = Literal["final", "step"]


class DesignEnv(gym.Env[np.ndarray, np.int64]):
    """Where the next buffer slot or machine goes: a design built step by step under a budget.

    The scenario's ``design:`` section (docs/architecture.md, scenario file) names the options (any
    numeric scenario path: a station's ``buffer``, its ``machines``, ...), their bounds, their
    unit costs and the budget. An episode starts from the cheapest design (every option at its
    ``min``) and adds one unit of an option per step until the agent stops or nothing more is
    affordable; the design is then simulated and scored by the section's objective.

    ## Action Space

    ``Discrete(n + 1)`` for ``n`` options: action ``i < n`` adds one unit to option ``i`` (in
    the order of ``design.options``), action ``n`` stops. An addition is valid while the
    option stays within its ``max`` and the cost within the budget; stopping is always valid.
    :meth:`action_masks` (for sb3-contrib's ``MaskablePPO``) and ``info["action_mask"]`` give
    the valid actions. A masked action taken anyway ends the episode as a stop would, with
    ``info["invalid_action"]`` set.

    ## Observation Space

    ``Box(0, 1, (n + 1 + 3 * S,), float32)`` for ``S`` stations, in this order:

    - allocation (``n``): each option's ``(value - min) / (max - min)`` (0 when ``max == min``);
    - remaining budget / budget (0 with a zero budget);
    - per station (``3 * S``): utilisation, blocked and starved shares of machine time in the
      last simulated design (the starting design until ``reward="step"`` simulates more).

    ## Rewards

    ``reward="final"`` (default): 0 per step, then the objective of the final design
    (``throughput`` in jobs per time unit, or ``profit = margin * throughput - cost``): the
    return is the objective. ``reward="step"``: every addition is simulated and rewarded by
    the change of the objective it brings (the observation's statistics follow the design);
    the return is the final objective minus the starting design's.

    ## Starting State

    Every option at its ``min``. The design is deterministic; ``reset(seed=...)`` only seeds
    ``self.np_random`` (unused by the dynamics).

    ## Episode End

    Terminated when the agent stops, takes a masked action, or no addition is affordable.
    ``info`` then carries ``objective``, ``design`` (``{path: value}``), ``cost`` and
    ``kpis`` (KPI means of the final design).

    ## Simulation

    Designs are simulated by a :class:`~twin.studies.design.DesignEvaluator`: the scenario's
    replications (or ``replications``) with one seed (the scenario's, or ``seed``), so designs
    are compared with common random numbers, and a design's value is deterministic. Results
    are cached, so an agent that builds a design again pays nothing; pass one ``evaluator`` to
    several envs to share the cache.

    ## Arguments

    - ``scenario``: a scenario file or :class:`~twin.scenario.Scenario` with a ``design:``
      section.
    - ``replications``, ``seed``: of each design's simulation (defaults: the scenario's).
    - ``reward``: ``"final"`` or ``"step"`` (see Rewards).
    - ``evaluator``: a shared evaluator of the same scenario (replaces ``replications`` and
      ``seed``).

    ## Version History

    - v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(
        self,
        scenario: str | Path | Scenario,
        replications: int | None = None,
        seed: int | None = None,
        reward: RewardMode = "final",
        evaluator: DesignEvaluator | None = None,
    ) -> None:
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if reward not in ("final", "step"):
            raise ValueError(f"reward must be 'final' or 'step' (got {reward!r})")
        self.space = evaluator.space if evaluator is not None else DesignSpace.of(spec)
        self.evaluator = evaluator or DesignEvaluator(self.space, replications=replications, seed=seed, label="rl")
        self.reward_mode: RewardMode = reward
        self.stations = list(self.space.scenario.stations)
        n = len(self.space.options)
        self.observation_space = spaces.Box(0.0, 1.0, (n + 1 + 3 * len(self.stations),), np.float32)
        self.action_space = spaces.Discrete(n + 1)
        self.stop_action = n
        self._values: Values = self.space.start()
        self._last: Evaluation | None = None
        self._over = True

    @property
    def design(self) -> dict[str, float]:
        """The design built so far, ``{path: value}``."""
        return self.space.as_dict(self._values)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start again from the cheapest design (its simulation gives the first statistics)."""
        super().reset(seed=seed)
        self._values = self.space.start()
        self._last = self.evaluator.evaluate(self._values)
        self._over = False
        return self._observe(), self._info()

    def step(self, action: int | np.integer[Any]) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Add one unit of an option, or stop (see Rewards, Episode End)."""
        if self._over:
            raise RuntimeError("the episode is over: call reset()")
        index = int(action)
        extra: dict[str, Any] = {}
        stop = index == self.stop_action
        if not stop and not (0 <= index < self.stop_action and self.space.can_add(self._values, index)):
            extra["invalid_action"] = True
            stop = True
        reward = 0.0
        if not stop:
            self._values = self.space.add(self._values, index)
            if self.reward_mode == "step":
                previous = self._last
                self._last = self.evaluator.evaluate(self._values)
                assert previous is not None
                reward = self._last.objective - previous.objective
            stop = self.space.maximal(self._values)
        if stop:
            self._over = True
            final = self.evaluator.evaluate(self._values)
            if self.reward_mode == "final":
                reward = final.objective
            self._last = final
            extra |= {
                "objective": final.objective,
                "cost": final.cost,
                "kpis": {name: stats["mean"] for name, stats in final.kpis.items()},
            }
        return self._observe(), float(reward), stop, False, self._info() | extra

    def action_masks(self) -> np.ndarray:
        """Valid actions now (for sb3-contrib's ``MaskablePPO``): affordable additions and stop."""
        mask = np.array([self.space.can_add(self._values, i) for i in range(self.stop_action)] + [True], dtype=bool)
        if self._over:
            mask[:] = False
            mask[self.stop_action] = True
        return mask

    def _observe(self) -> np.ndarray:
        space = self.space
        allocation = [
            (v - o.min) / (o.max - o.min) if o.max > o.min else 0.0
            for v, o in zip(self._values, space.options, strict=True)
        ]
        left = (space.budget - space.cost(self._values)) / space.budget if space.budget > 0 else 0.0
        stats = (
            self._last.station_stats(self.stations).ravel()
            if self._last is not None
            else np.zeros(3 * len(self.stations))
        )
        obs = np.concatenate([allocation, [left], np.nan_to_num(stats)]).astype(np.float32)
        return np.clip(obs, 0.0, 1.0)

    def _info(self) -> dict[str, Any]:
        return {
            "action_mask": self.action_masks(),
            "design": self.design,
            "budget_left": self.space.budget - self.space.cost(self._values),
            "evaluations": len(self.evaluator.evaluations),
        }
