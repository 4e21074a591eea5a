"""Right-shift execution of a plan: the textbook times give the plan back, other times keep
its machine sequences, releases and breakdowns only delay it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.jobshop.execution import Breakdowns, machine_sequences, right_shift
from twin.jobshop.instances import instance_to_scenario, load_instance
from twin.jobshop.schedules import check_schedule, run_rule

FT06 = Path(__file__).resolve().parents[1] / "scenarios" / "jobshop" / "ft06.txt"


def test_the_textbook_times_give_the_plan_back_and_other_times_keep_its_sequences() -> None:
    instance = load_instance(FT06)
    plan = run_rule(instance_to_scenario(instance, "mwkr")).schedule
    sequences = machine_sequences(plan, instance.machines)
    assert right_shift(instance, sequences) == plan  # a rule's plan is left-justified already
    rng = np.random.default_rng(0)
    durations = [[d * rng.uniform(0.5, 1.5) for _, d in ops] for ops in instance.jobs]
    noisy = right_shift(instance, sequences, durations)
    assert check_schedule(instance, noisy, exact_durations=False) == []
    assert machine_sequences(noisy, instance.machines) == sequences
    for op in noisy:
        assert op.end - op.start == pytest.approx(durations[op.job][op.operation])


def test_releases_and_breakdowns_only_delay() -> None:
    instance = load_instance(FT06)
    plan = run_rule(instance_to_scenario(instance, "spt")).schedule
    sequences = machine_sequences(plan, instance.machines)
    late = right_shift(instance, sequences, releases=[10.0 * j for j in range(instance.n_jobs)])
    assert all(op.start >= 10.0 * op.job for op in late)
    broken = right_shift(instance, sequences, breakdowns=Breakdowns(instance.machines, 20.0, 5.0, seed=1))
    by_key = {(op.job, op.operation): op for op in plan}
    assert all(op.end >= by_key[op.job, op.operation].end for op in broken)
    assert max(op.end for op in broken) > max(op.end for op in plan)
    assert check_schedule(instance, broken, exact_durations=False) == []


def test_breakdowns_stretch_busy_time_by_the_repairs() -> None:
    one = Breakdowns(1, 10.0, 3.0, seed=4)
    again = Breakdowns(1, 10.0, 3.0, seed=4)
    total = sum(one.stretch(0, 7.0) for _ in range(20))
    assert total == sum(again.stretch(0, 7.0) for _ in range(20)) > 140.0


def test_sequences_that_are_not_a_plan_are_refused() -> None:
    instance = load_instance(FT06)
    plan = run_rule(instance_to_scenario(instance, "fifo")).schedule
    sequences = machine_sequences(plan, instance.machines)
    with pytest.raises(ValueError, match="once"):
        right_shift(instance, [*sequences[:-1], sequences[-1][:-1]])
    reversed_all = [list(reversed(seq)) for seq in sequences]
    with pytest.raises(ValueError, match="deadlock"):
        right_shift(instance, reversed_all)
