"""Design spaces: what a scenario's ``design:`` section lets a designer change, and what it is worth.

A :class:`DesignSpace` reads the section (docs/architecture.md, the `twin optimize` contract): each option is a
numeric scenario path with ``min``, ``max`` and a ``cost`` per unit above ``min``; a design
gives every option a value, costs ``sum(cost * (value - min))`` and is feasible within the
``budget``. Grid search and the design env move options in steps of one unit from ``min``.

A :class:`DesignEvaluator` simulates designs with common random numbers: every design runs
replications ``0..R-1`` with one seed, so two designs differ only by what the design changed,
and a design's result is a pure function of (design, replications, seed). Results are cached
by design, so a search or an agent that comes back to a design pays nothing; with a run store
every evaluated design is written there as a run.

The objective is ``throughput`` (jobs per time unit) or ``profit`` = ``margin * throughput -
cost``, where option costs (and the budget) are then read as capital cost per time unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from twin.errors import Problem, ScenarioError
from twin.measure.executors import Engine, Executor, make_executor
from twin.measure.experiment import Replication, result_of, run_replication
from twin.measure.stats import confidence_interval
from twin.scenario import Design, DesignOption, Scenario, apply_overrides, get_path, parse_scenario
from twin.studies.store import new_run_id, write_run, write_study_summary

__all__ = [
    "DesignEvaluator",
    "DesignSpace",
    "Evaluation",
    "Values",
    "pareto_front",
    "plot_pareto",
]

Values = tuple[float, ...]
"""One value per option, in the order of the ``design.options`` mapping."""

_EPS = 1e-9


@dataclass(frozen=True)
class DesignSpace:
    """The options of a scenario's ``design:`` section, their costs and the budget.

    Attributes:
        scenario: the base scenario (options take their values in it from a design).
        paths: the option paths, in file order.
        options: each path's ``min``, ``max`` and unit ``cost``.
        integer: whether the scenario value at each path is a whole number (buffers,
            machines); such options only take whole values.
    """

    scenario: Scenario
    paths: tuple[str, ...]
    options: tuple[DesignOption, ...]
    integer: tuple[bool, ...]

    @classmethod
    def of(cls, scenario: Scenario) -> DesignSpace:
        """The design space a scenario declares.

        Raises:
            ScenarioError: the scenario has no ``design:`` section, or an integer option has
                fractional bounds.
        """
        if scenario.design is None:
            raise ScenarioError([Problem("design", "the scenario declares no design space (add a `design:` section)")])
        data = scenario.to_dict()
        paths = tuple(scenario.design.options)
        options = tuple(scenario.design.options.values())
        integer = tuple(isinstance(get_path(data, path), int) for path in paths)
        problems = [
            Problem(f"design.options.{path}", "bounds of a whole-number value must be whole numbers")
            for path, option, whole in zip(paths, options, integer, strict=True)
            if whole and not (float(option.min).is_integer() and float(option.max).is_integer())
        ]
        if problems:
            raise ScenarioError(problems)
        return cls(scenario, paths, options, integer)

    @property
    def design(self) -> Design:
        """The scenario's ``design:`` section."""
        assert self.scenario.design is not None, "checked by DesignSpace.of"
        return self.scenario.design

    @property
    def budget(self) -> float:
        """Total cost of changes allowed."""
        return self.design.budget

    def start(self) -> Values:
        """The cheapest design: every option at its ``min`` (cost 0)."""
        return tuple(self._value(i, option.min) for i, option in enumerate(self.options))

    def cost(self, values: Sequence[float]) -> float:
        """``sum(cost * (value - min))`` over the options."""
        return float(sum(o.cost * (v - o.min) for o, v in zip(self.options, values, strict=True)))

    def feasible(self, values: Sequence[float]) -> bool:
        """Every value within its bounds and the cost within the budget."""
        inside = all(o.min - _EPS <= v <= o.max + _EPS for o, v in zip(self.options, values, strict=True))
        return inside and self.cost(values) <= self.budget + _EPS

    def can_add(self, values: Sequence[float], option: int) -> bool:
        """Whether one more unit of ``option`` stays within its ``max`` and the budget."""
        spec = self.options[option]
        return values[option] + 1 <= spec.max + _EPS and self.cost(values) + spec.cost <= self.budget + _EPS

    def add(self, values: Sequence[float], option: int) -> Values:
        """``values`` with one more unit of ``option`` (not checked: see :meth:`can_add`)."""
        return tuple(self._value(i, v + 1 if i == option else v) for i, v in enumerate(values))

    def maximal(self, values: Sequence[float]) -> bool:
        """Whether no option can take one more unit within the budget (nothing left to buy)."""
        return not any(self.can_add(values, i) for i in range(len(self.options)))

    def steps(self, option: int) -> list[float]:
        """The values grid search tries for ``option``: ``min, min + 1, ...`` up to ``max``."""
        spec = self.options[option]
        return [self._value(option, spec.min + k) for k in range(math.floor(spec.max - spec.min + _EPS) + 1)]

    def grid(self, maximal: bool = False) -> Iterator[Values]:
        """Every feasible design on the unit grid, in lexicographic order of the values.

        Args:
            maximal: only designs that leave no affordable unit unbought (see :meth:`maximal`).
                Exact for objectives that more of every option never lowers, like the
                throughput of a line as buffers or machines are added.
        """

        def extend(prefix: Values, spent: float) -> Iterator[Values]:
            i = len(prefix)
            if i == len(self.options):
                if not maximal or self.maximal(prefix):
                    yield prefix
                return
            spec = self.options[i]
            for value in self.steps(i):
                cost = spent + spec.cost * (value - spec.min)
                if cost > self.budget + _EPS:
                    break
                yield from extend((*prefix, value), cost)

        yield from extend((), 0.0)

    def repair(self, values: Sequence[float]) -> Values:
        """A feasible design close to ``values`` (clipped to the bounds): over budget, every
        option's share above ``min`` shrinks in proportion, whole-number options rounded down,
        then units go back by largest remainder while the budget allows."""
        clipped = [min(max(v, o.min), o.max) for o, v in zip(self.options, values, strict=True)]
        cost = self.cost(clipped)
        if cost <= self.budget + _EPS:
            return tuple(self._value(i, v) for i, v in enumerate(clipped))
        scale = self.budget / cost
        extras = [(v - o.min) * scale for o, v in zip(self.options, clipped, strict=True)]
        kept = [math.floor(e + _EPS) if whole else e for e, whole in zip(extras, self.integer, strict=True)]
        repaired = [o.min + k for o, k in zip(self.options, kept, strict=True)]
        for i in sorted(range(len(kept)), key=lambda i: kept[i] - extras[i]):
            if self.integer[i] and repaired[i] + 1 <= clipped[i] and self.can_add(repaired, i):
                repaired[i] += 1
        return tuple(self._value(i, v) for i, v in enumerate(repaired))

    def as_dict(self, values: Sequence[float]) -> dict[str, float]:
        """``{path: value}`` of a design (whole numbers as ``int``)."""
        return {path: self._value(i, v) for i, (path, v) in enumerate(zip(self.paths, values, strict=True))}

    def values_of(self, design: dict[str, Any]) -> Values:
        """The values of a ``{path: value}`` design, in option order.

        Raises:
            KeyError: a path of the space is missing from ``design``.
        """
        return tuple(self._value(i, float(design[path])) for i, path in enumerate(self.paths))

    def scenario_for(self, values: Sequence[float]) -> Scenario:
        """The base scenario with the design's values set.

        Raises:
            ScenarioError: the values make an invalid scenario.
        """
        return parse_scenario(apply_overrides(self.scenario.to_dict(), self.as_dict(values).items()))

    def objective_of(self, throughput: float, values: Sequence[float]) -> float:
        """The design's objective given its throughput (jobs per time unit)."""
        if self.design.objective == "profit":
            assert self.design.margin is not None, "validated with the scenario"
            return self.design.margin * throughput - self.cost(values)
        return throughput

    def _value(self, option: int, value: float) -> float:
        # Whole-number options stay ints, so a design reads (and serialises) as the scenario would.
        return round(value) if self.integer[option] else float(value)


@dataclass(frozen=True)
class Evaluation:
    """One simulated design.

    Attributes:
        index: order of evaluation (0 first) within its evaluator.
        values: the design, one value per option.
        design: ``{path: value}``.
        cost: of the changes, in the design section's units.
        objective: mean of the per-replication objective.
        objective_ci: 95% t-interval of the objective (nan without replications to spare).
        per_replication: the objective in each replication (for paired comparisons).
        kpis: ``{KPI: {"mean", "ci_low", "ci_high"}}`` as ``twin run`` reports them.
        run_id: the run written to the store, if any.
    """

    index: int
    values: Values
    design: dict[str, float]
    cost: float
    objective: float
    objective_ci: tuple[float, float]
    per_replication: tuple[float, ...]
    kpis: dict[str, dict[str, float]] = field(repr=False)
    run_id: str | None = None

    @property
    def throughput(self) -> float:
        """Mean throughput (jobs per time unit)."""
        return self.kpis["throughput"]["mean"]

    def station_stats(self, stations: Sequence[str]) -> np.ndarray:
        """Utilisation, blocked and starved shares of each station (rows in ``stations`` order)."""
        return np.array(
            [[self.kpis[f"stations.{s}.{k}"]["mean"] for k in ("utilization", "blocked", "starved")] for s in stations],
            dtype=float,
        )


def pareto_front(evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    """The throughput-versus-cost front: designs no other design beats on one without losing
    on the other (lower or equal cost and higher or equal throughput, one strictly), by cost."""
    front: list[Evaluation] = []
    for evaluation in sorted(evaluations, key=lambda e: (e.cost, -e.throughput)):
        if not front or evaluation.throughput > front[-1].throughput:
            front.append(evaluation)
    return front


def plot_pareto(evaluations: Sequence[Evaluation], best: Evaluation, path: str | Path, title: str) -> Path:
    """Throughput against cost of every evaluated design, the Pareto front joined by a line,
    the recommended design ringed; written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    ax.scatter(
        [e.cost for e in evaluations],
        [e.throughput for e in evaluations],
        s=12,
        color="#aec7e8",
        label=f"evaluated designs ({len(evaluations)})",
    )
    front = pareto_front(evaluations)
    ax.plot(
        [e.cost for e in front],
        [e.throughput for e in front],
        "o-",
        color="#1f77b4",
        ms=4,
        drawstyle="steps-post",
        label="Pareto front",
    )
    ax.scatter(
        [best.cost],
        [best.throughput],
        s=120,
        facecolors="none",
        edgecolors="#d62728",
        linewidths=2,
        label="best: " + ", ".join(f"{k.removeprefix('stations.')}={v:g}" for k, v in best.design.items()),
    )
    ax.set_xlabel("Cost of the design")
    ax.set_ylabel("Throughput (jobs per time unit)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


class DesignEvaluator:
    """Simulates designs of a space with common random numbers, caching each result.

    Args:
        space: the design space.
        replications: per design (default: the scenario's).
        seed: base seed, the same for every design (default: the scenario's).
        workers, engine, address: where replications run (see :mod:`twin.measure.executors`); the
            executor is started on first need and kept until :meth:`close`.
        root: run store; every evaluated design is written as a run into ``root/<study_id>/``.
        study_id: the study folder's name (default: a new id from the scenario's name and ``label``).
        label: method name recorded in each run's meta.json.
    """

    def __init__(
        self,
        space: DesignSpace,
        replications: int | None = None,
        seed: int | None = None,
        workers: int = 1,
        engine: Engine = "local",
        address: str | None = None,
        root: str | Path | None = None,
        study_id: str | None = None,
        label: str = "design",
    ) -> None:
        self.space = space
        self.replications = space.scenario.replications if replications is None else replications
        if self.replications < 1:
            raise ValueError(f"replications must be >= 1 (got {self.replications})")
        self.seed = space.scenario.seed if seed is None else seed
        self.workers, self.engine, self.address = workers, engine, address
        self.label = label
        self.folder: Path | None = None
        if root is not None:
            self.folder = Path(root) / (study_id or new_run_id(f"{space.scenario.name}-{label}"))
        self._cache: dict[Values, Evaluation] = {}
        self._executor: Executor | None = None

    @property
    def evaluations(self) -> list[Evaluation]:
        """Every distinct design evaluated so far, in evaluation order."""
        return list(self._cache.values())

    def cached(self, values: Sequence[float]) -> Evaluation | None:
        """The evaluation of ``values`` if it has been simulated."""
        return self._cache.get(self._key(values))

    def evaluate(self, values: Sequence[float]) -> Evaluation:
        """Simulate one design (or return its cached result)."""
        return self.evaluate_many([values])[0]

    def evaluate_many(
        self, designs: Sequence[Sequence[float]], progress: Callable[[int, int], None] | None = None
    ) -> list[Evaluation]:
        """Simulate designs not seen before, all replications in parallel on the executor;
        the evaluations of ``designs`` in their order.

        Args:
            progress: called with (designs done, designs to simulate) as they finish.

        Raises:
            ScenarioError: a design is infeasible or makes an invalid scenario (nothing runs).
        """
        keys = [self._key(values) for values in designs]
        todo = list(dict.fromkeys(key for key in keys if key not in self._cache))
        problems = [
            Problem(
                "design",
                f"infeasible: cost {self.space.cost(key):g} > budget {self.space.budget:g} or out of bounds",
                repr(self.space.as_dict(key)),
            )
            for key in todo
            if not self.space.feasible(key)
        ]
        if problems:
            raise ScenarioError(problems)
        scenarios = {key: self.space.scenario_for(key) for key in todo}
        if todo:
            reps: dict[Values, dict[int, Replication]] = {key: {} for key in todo}
            executor = self._executor_for(len(todo) * self.replications)
            tasks = (
                ((key, r), (scenarios[key], r, self.seed, False)) for key in todo for r in range(self.replications)
            )
            finished = 0
            for (key, r), replication in executor.run(run_replication, tasks):
                reps[key][r] = replication
                if len(reps[key]) == self.replications:
                    self._record(key, scenarios[key], [reps[key][i] for i in range(self.replications)])
                    finished += 1
                    if progress is not None:
                        progress(finished, len(todo))
        return [self._cache[key] for key in keys]

    def close(self) -> None:
        """Stop the executor's workers (the cache stays)."""
        if self._executor is not None:
            self._executor.close()
            self._executor = None

    def __enter__(self) -> DesignEvaluator:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def write_summary(self, document: dict[str, Any]) -> Path | None:
        """Write ``document`` as ``optimize.json`` into the study folder (if there is a store)."""
        if self.folder is None:
            return None
        return write_study_summary(self.folder, document)

    def _key(self, values: Sequence[float]) -> Values:
        return tuple(self.space._value(i, v) for i, v in enumerate(values))

    def _executor_for(self, tasks: int) -> Executor:
        if self.workers <= 1 or tasks <= 1:
            return make_executor(1)
        if self._executor is None:
            self._executor = make_executor(self.workers, self.engine, self.address)
        return self._executor

    def _record(self, key: Values, scenario: Scenario, replications: list[Replication]) -> None:
        result = result_of(scenario, self.seed, replications)
        throughput = result.kpis["throughput"].to_numpy(float)
        per_replication = tuple(self.space.objective_of(float(t), key) for t in throughput)
        mean, low, high = confidence_interval(np.array(per_replication, dtype=float))
        index = len(self._cache)
        run_id = None
        if self.folder is not None:
            run_id = f"{self.folder.name}-d{index:04d}"
            write_run(
                result,
                self.folder,
                overrides=self.space.as_dict(key),
                run_id=run_id,
                extra_meta={"study_id": self.folder.name, "design_index": index, "method": self.label},
            )
        self._cache[key] = Evaluation(
            index,
            key,
            self.space.as_dict(key),
            self.space.cost(key),
            mean,
            (low, high),
            per_replication,
            result.summary_dict(),
            run_id,
        )
