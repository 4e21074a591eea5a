"""Evaluations of scheduling methods on job-shop instances, and their leaderboard.

An evaluation scores methods (dispatching rules, CP-SAT, trained agents) on instances. It is
stored in a run store as ``<store>/evaluations/<evaluation_id>/`` by
:func:`twin.studies.store.write_evaluation`:

- ``evaluation.json``: ``evaluation_id``, ``name``, ``created`` (ISO time), ``methods`` and
  ``instances`` (lists of names), and anything the writer adds (settings, versions).
- ``results.parquet``: one row per (method, instance, seed), the :data:`RESULT_COLUMNS`:

  ============================ ======================================================
  ``method``                   ``rule:<name>``, ``cpsat`` or ``agent:<model name>``
  ``kind``                     ``rule``, ``solver`` or ``agent``
  ``instance``                 instance name (file stem, e.g. ``ft06``)
  ``seed``                     seed of the episode (0 for deterministic methods)
  ``makespan``                 of the schedule, in the instance's time units
  ``best_known``               best known makespan (null when unknown)
  ``gap``                      ``makespan / best_known - 1`` (null when unknown)
  ``optimal``                  proven optimal (CP-SAT; null for rules and agents)
  ``decisions``                dispatching decisions taken (operations scheduled when
                               the method does not count its own)
  ``wall_time_s``              wall-clock time of the whole solve or episode
  ``wall_time_per_decision_s`` ``wall_time_s / decisions``
  ============================ ======================================================

- ``schedules.parquet``: every operation of every schedule, the :data:`SCHEDULE_COLUMNS`
  ``method``, ``instance``, ``seed``, ``job``, ``operation``, ``machine``, ``start``, ``end``
  (numbered from 0 as in the instance file, as ``twin jobshop --json`` prints them).

``twin evaluate`` (reinforcement-learning agents) writes the same tables, so agents, rules
and CP-SAT share one leaderboard. The store's run functions never mistake an evaluation for a
run: it has no ``meta.json``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twin.jobshop.instances import JobShopInstance, Perturbation, instance_to_scenario
from twin.jobshop.schedules import ScheduledOperation, run_rule

if TYPE_CHECKING:
    import pandas as pd
from twin.measure.stats import bounded_interval

__all__ = ["RESULT_COLUMNS", "SCHEDULE_COLUMNS", "Method", "MethodOutcome", "evaluate", "leaderboard", "rule_method"]

RESULT_COLUMNS = (
    "method",
    "kind",
    "instance",
    "seed",
    "makespan",
    "best_known",
    "gap",
    "optimal",
    "decisions",
    "wall_time_s",
    "wall_time_per_decision_s",
)
"""Columns of ``results.parquet`` (see the module doc)."""

SCHEDULE_COLUMNS = ("method", "instance", "seed", "job", "operation", "machine", "start", "end")
"""Columns of ``schedules.parquet``."""


@dataclass(frozen=True)
class MethodOutcome:
    """What one method made of one instance.

    Attributes:
        makespan: of the schedule.
        schedule: its operations.
        optimal: proven optimal (None when the method proves nothing).
        decisions: decisions taken (None: count the operations).
        progress: ``(seconds, makespan)`` of each improvement of a search, the starting
            schedule's at 0 s first (empty for a method that does not search).
    """

    makespan: float
    schedule: list[ScheduledOperation]
    optimal: bool | None = None
    decisions: int | None = None
    progress: tuple[tuple[float, float], ...] = ()


Method = Callable[[JobShopInstance, int], MethodOutcome]
"""Schedules an instance with a seed."""


def rule_method(rule: str, perturbation: Perturbation | None = None) -> Method:
    """A dispatching rule run through the twin, as a :data:`Method` (on the perturbed shop
    when a perturbation is given)."""

    def schedule(instance: JobShopInstance, seed: int) -> MethodOutcome:
        run = run_rule(instance_to_scenario(instance, rule, perturbation), seed=seed)
        return MethodOutcome(run.makespan, run.schedule)

    return schedule


def _kind(method: str) -> str:
    prefix = method.partition(":")[0]
    return {"rule": "rule", "agent": "agent"}.get(prefix, "solver")


def evaluate(
    instances: Sequence[JobShopInstance],
    methods: Mapping[str, Method],
    best_known: Mapping[str, float] | None = None,
    seeds: Sequence[int] = (0,),
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every method on every instance with every seed: the results and schedules tables
    (see the module doc).

    Args:
        methods: ``{name: method}``; names follow ``rule:<name>``, ``cpsat``, ``agent:<name>``.
        best_known: best known makespan per instance name, for the gaps.
        progress: called with (done, total) after each (method, instance, seed).
    """
    best = dict(best_known or {})
    results, schedules = [], []
    total, done = len(instances) * len(methods) * len(seeds), 0
    for instance in instances:
        for name, method in methods.items():
            for seed in seeds:
                started = time.perf_counter()
                outcome = method(instance, seed)
                wall = time.perf_counter() - started
                decisions = outcome.decisions if outcome.decisions is not None else len(outcome.schedule)
                known = best.get(instance.name)
                results.append(
                    {
                        "method": name,
                        "kind": _kind(name),
                        "instance": instance.name,
                        "seed": seed,
                        "makespan": float(outcome.makespan),
                        "best_known": float(known) if known else math.nan,
                        "gap": outcome.makespan / known - 1 if known else math.nan,
                        "optimal": outcome.optimal,
                        "decisions": decisions,
                        "wall_time_s": wall,
                        "wall_time_per_decision_s": wall / decisions if decisions else math.nan,
                    }
                )
                schedules += [
                    {"method": name, "instance": instance.name, "seed": seed, **op._asdict()} for op in outcome.schedule
                ]
                done += 1
                if progress is not None:
                    progress(done, total)
    import pandas as pd

    return (
        pd.DataFrame(results, columns=list(RESULT_COLUMNS)),
        pd.DataFrame(schedules, columns=list(SCHEDULE_COLUMNS)),
    )


def leaderboard(results: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per method, best mean gap first: ``method``, ``kind``, ``instances``,
    ``episodes``, ``gap_mean``, ``gap_ci_low``, ``gap_ci_high`` (t-interval over episodes, kept >= 0 when every gap is),
    ``makespan_mean``, ``optimal`` (episodes proven optimal), ``wall_time_per_decision_s``
    (mean). Gaps are fractions (0.05 = 5% above the best known makespan)."""
    rows = []
    for method, frame in results.groupby("method", sort=False):
        gaps = frame["gap"].to_numpy(float)
        # A gap is >= 0 unless a schedule beats the best known makespan: keep the interval there.
        mean, low, high = bounded_interval(gaps, 0.0 if bool((gaps[gaps == gaps] >= 0).all()) else None, None, level)
        rows.append(
            {
                "method": method,
                "kind": frame["kind"].iloc[0],
                "instances": frame["instance"].nunique(),
                "episodes": len(frame),
                "gap_mean": mean,
                "gap_ci_low": low,
                "gap_ci_high": high,
                "makespan_mean": float(frame["makespan"].mean()),
                "optimal": int((frame["optimal"] == True).sum()),  # noqa: E712 (nullable column)
                "wall_time_per_decision_s": float(frame["wall_time_per_decision_s"].mean()),
            }
        )
    import pandas as pd

    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["gap_mean", "makespan_mean"], na_position="last").reset_index(drop=True)
