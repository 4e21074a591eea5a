"""Design search over a scenario's ``design:`` section: exhaustive grid and Optuna (TPE).

Both take a :class:`~twin.studies.design.DesignEvaluator` (common random numbers, cached results,
runs written to the store) and return a :class:`SearchResult`: every design the method asked
for, in order, and the best. ``evaluations`` counts the distinct designs a method needed,
whether or not an evaluator shared between methods had simulated them already.

Optuna is imported inside :func:`optuna_search` (the ``design`` extra).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twin.measure.labels import json_number
from twin.scenario import scenario_to_yaml
from twin.studies.design import DesignEvaluator, DesignSpace, Evaluation, Values, pareto_front

__all__ = ["SearchResult", "grid_search", "optuna_search", "study_name"]


@dataclass
class SearchResult:
    """What a design search found.

    Attributes:
        method: ``grid``, ``optuna`` or ``rl``.
        designs: every distinct design the method evaluated, in the order it asked.
        wall_time_s: time the search took.
        details: method-specific facts (trials, study name, training steps, ...).
    """

    method: str
    designs: list[Evaluation]
    wall_time_s: float
    details: dict[str, Any] = field(default_factory=dict)
    best_override: Evaluation | None = None

    @property
    def evaluations(self) -> int:
        """Distinct designs the method needed."""
        return len(self.designs)

    @property
    def best(self) -> Evaluation:
        """The design the method recommends: the highest objective unless it chose otherwise
        (an RL agent recommends the design its policy builds)."""
        if self.best_override is not None:
            return self.best_override
        return max(self.designs, key=lambda e: (e.objective, -e.cost, -e.index))

    def ranked(self) -> list[Evaluation]:
        """Designs by decreasing objective (cheaper first among equals)."""
        return sorted(self.designs, key=lambda e: (-e.objective, e.cost, e.index))

    def pareto(self) -> list[Evaluation]:
        """The throughput-versus-cost front of the evaluated designs."""
        return pareto_front(self.designs)

    def to_json(self) -> dict[str, Any]:
        """The ``twin optimize --json`` document (docs/architecture.md, JSON documents); NaN becomes null."""

        best = self.best
        return {
            "method": self.method,
            "evaluations": self.evaluations,
            "best": {
                "design": best.design,
                "objective": json_number(best.objective),
                "kpis": {name: {k: json_number(v) for k, v in row.items()} for name, row in best.kpis.items()},
            },
            "designs": [
                {"design": e.design, "cost": e.cost, "objective": json_number(e.objective)} for e in self.designs
            ],
        }


Progress = Callable[[int, int], None]


def grid_search(evaluator: DesignEvaluator, maximal: bool = False, progress: Progress | None = None) -> SearchResult:
    """Evaluate every feasible design on the unit grid (see :meth:`DesignSpace.grid`).

    Args:
        maximal: only designs that leave no affordable unit unbought; exact when more of
            every option never lowers the objective (throughput of a line with more buffer
            slots or machines), and far fewer designs.
        progress: called with (designs done, designs in all).
    """
    started = time.perf_counter()
    designs = list(evaluator.space.grid(maximal=maximal))
    evaluations = evaluator.evaluate_many(designs, progress=progress)
    return SearchResult("grid", evaluations, time.perf_counter() - started, {"maximal": maximal})


def study_name(space: DesignSpace, replications: int, seed: int) -> str:
    """The Optuna study of a design problem: the scenario's name and a hash of everything that
    decides the designs' values (scenario, replications, seed), so a rerun resumes it."""
    key = f"{scenario_to_yaml(space.scenario)}\n{replications}\n{seed}"
    return f"{space.scenario.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _suggest(trial: Any, space: DesignSpace) -> Values:
    values = []
    for i, (path, option) in enumerate(zip(space.paths, space.options, strict=True)):
        if space.integer[i]:
            values.append(float(trial.suggest_int(path, int(option.min), int(option.max))))
        else:
            values.append(trial.suggest_float(path, option.min, option.max))
    return tuple(values)


def _attrs(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "design": evaluation.design,
        "cost": evaluation.cost,
        "objective_ci": list(evaluation.objective_ci),
        "per_replication": list(evaluation.per_replication),
        "kpis": evaluation.kpis,
    }


def _restore(space: DesignSpace, attrs: dict[str, Any], value: float, index: int) -> Evaluation:
    values = space.values_of(attrs["design"])
    low, high = attrs["objective_ci"]
    return Evaluation(
        index,
        values,
        space.as_dict(values),
        float(attrs["cost"]),
        float(value),
        (low, high),
        tuple(attrs["per_replication"]),
        attrs["kpis"],
        None,
    )


def optuna_search(
    evaluator: DesignEvaluator,
    trials: int,
    seed: int = 0,
    storage: str | None = None,
    name: str | None = None,
    batch: int = 1,
    progress: Progress | None = None,
) -> SearchResult:
    """Optuna's TPE sampler over the options' ranges until the study has ``trials`` trials.

    A trial suggests a value per option (whole numbers for whole-number options); a design
    over budget is repaired (:meth:`DesignSpace.repair`: options shrink in proportion) and
    the repaired design is what is simulated and reported, so every trial costs a feasible
    design, and trials landing on a design seen before cost nothing. With a ``storage`` URL
    (``sqlite:///study.db``) the study is kept there under ``name`` (default
    :func:`study_name`), and running the search again resumes it: finished trials are read
    back (their designs' results travel in the trials' user attributes), only the missing
    ones run.

    Args:
        trials: trials the study should have in all.
        seed: of the TPE sampler.
        batch: trials asked for at once and simulated in parallel (the sampler's constant
            liar keeps them apart); set it to the evaluator's workers.
        progress: called with (trials done, trials in all).

    Raises:
        ValueError: ``trials`` or ``batch`` below 1.
    """
    import optuna

    if trials < 1 or batch < 1:
        raise ValueError(f"trials and batch must be >= 1 (got trials={trials}, batch={batch})")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = evaluator.space
    started = time.perf_counter()
    name = name or study_name(space, evaluator.replications, evaluator.seed)
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=min(10, max(trials // 5, 2)))
    study = optuna.create_study(
        storage=storage, study_name=name, sampler=sampler, direction="maximize", load_if_exists=True
    )
    asked: dict[Values, Evaluation] = {}
    for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if "design" in frozen.user_attrs and frozen.value is not None:
            restored = _restore(space, dict(frozen.user_attrs), frozen.value, len(asked))
            asked.setdefault(restored.values, restored)
    done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    resumed = done
    while done < trials:
        pending = [study.ask() for _ in range(min(batch, trials - done))]
        designs = [space.repair(_suggest(trial, space)) for trial in pending]
        fresh = [d for d in designs if d not in asked]
        for evaluation in evaluator.evaluate_many(fresh):
            asked.setdefault(evaluation.values, evaluation)
        for trial, design in zip(pending, designs, strict=True):
            evaluation = asked[design]
            for key, value in _attrs(evaluation).items():
                trial.set_user_attr(key, value)
            study.tell(trial, evaluation.objective)
        done += len(pending)
        if progress is not None:
            progress(done, trials)
    details = {"trials": trials, "resumed_trials": resumed, "study": name, "storage": storage}
    return SearchResult("optuna", list(asked.values()), time.perf_counter() - started, details)
