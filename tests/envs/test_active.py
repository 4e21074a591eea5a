"""``decisions="active"``: Giffler-Thompson decisions on the array model of a job shop.

Checked against the definitions: every schedule is feasible and active (no operation could
start earlier in an idle gap of its machine), non-delay schedules leave no machine idle while
an operation waits for it, makespans never fall below the proven lower bounds, rule-driven
episodes equal a plain-Python Giffler-Thompson written from the textbook, and both env
checkers pass."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from twin.envs.active import ActiveDispatchEnv
from twin.envs.dispatch import DispatchEnv
from twin.envs.observation import JOB_FEATURES, JOB_PRESENT, JOB_SLACK
from twin.envs.shop import ShopBatch
from twin.jobshop.instances import JobShopInstance, generate_instance, load_instance
from twin.jobshop.schedules import ScheduledOperation, check_schedule

ROOT = Path(__file__).resolve().parents[2]
JOBSHOP = ROOT / "scenarios" / "jobshop"
BOUNDS = json.loads((JOBSHOP / "bounds.json").read_text())
Option = tuple[int, int, int, float, int]
"""A next operation in the textbook loop: job, machine, duration, earliest start, job's work left."""


def run_rule(env: ActiveDispatchEnv, rule: str) -> dict[str, object]:
    env.reset(seed=0)
    while True:
        _, _, terminated, _, info = env.step(env.rule_action(rule))
        if terminated:
            return info


def textbook_gt(instance: JobShopInstance, rule_key: Callable[[Option], tuple[float, int]], active: bool) -> float:
    """Giffler-Thompson as in the textbook, one operation at a time, plain Python."""
    nxt = [0] * instance.n_jobs
    ready = [0.0] * instance.n_jobs
    free = [0.0] * instance.machines
    while True:
        options: list[Option] = []
        for j, ops in enumerate(instance.jobs):
            if nxt[j] < len(ops):
                m, d = ops[nxt[j]]
                est = max(ready[j], free[m])
                options.append((j, m, d, est, sum(dd for _, dd in ops[nxt[j] :])))
        if not options:
            return max(free)
        if active:
            j0, m0, d0, e0, _ = min(options, key=lambda o: (o[3] + o[2], o[0]))
            conflict = [o for o in options if o[1] == m0 and (o[3] < e0 + d0 or o[0] == j0)]
        else:
            j0, m0, d0, e0, _ = min(options, key=lambda o: (o[3], o[0]))
            conflict = [o for o in options if o[1] == m0 and o[3] <= e0]
        j, m, d, est, _ = min(conflict, key=rule_key)
        free[m] = ready[j] = est + d
        nxt[j] += 1


def is_active(instance: JobShopInstance, schedule: list[ScheduledOperation]) -> bool:
    """No operation fits, whole, into an idle gap of its machine after its job's predecessor."""
    ends = {(op.job, op.operation): op.end for op in schedule}
    by_machine: dict[int, list[ScheduledOperation]] = {}
    for op in schedule:
        by_machine.setdefault(op.machine, []).append(op)
    for ops in by_machine.values():
        ops.sort(key=lambda op: op.start)
        for i, op in enumerate(ops):
            release = ends.get((op.job, op.operation - 1), 0.0)
            gap_start = 0.0
            for before in ops[:i]:
                start = max(gap_start, release)
                if before.start - start >= op.end - op.start and op.end - op.start > 0 and start < op.start:
                    return False
                gap_start = before.end
    return True


def is_non_delay(instance: JobShopInstance, schedule: list[ScheduledOperation]) -> bool:
    """No machine idles while an operation it runs later is ready: in every idle gap of a
    machine, each later operation there becomes ready only at the gap's end or after."""
    ends = {(op.job, op.operation): op.end for op in schedule}
    by_machine: dict[int, list[ScheduledOperation]] = {}
    for op in schedule:
        by_machine.setdefault(op.machine, []).append(op)
    for ops in by_machine.values():
        ops.sort(key=lambda op: op.start)
        for i, op in enumerate(ops):
            gap_end = op.start
            gap_start = ops[i - 1].end if i else 0.0
            if gap_end <= gap_start:
                continue
            for later in ops[i:]:
                if ends.get((later.job, later.operation - 1), 0.0) < gap_end - 1e-9:
                    return False
    return True


def test_the_default_is_the_plant_and_active_is_an_option() -> None:
    ft06 = load_instance(JOBSHOP / "ft06.txt")
    assert type(DispatchEnv(ft06)) is DispatchEnv
    env = DispatchEnv(ft06, decisions="active")
    assert isinstance(env, ActiveDispatchEnv) and env.decision_kind == "active"
    with pytest.raises(ValueError, match="decisions"):
        DispatchEnv(ft06, decisions="delayed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="job-shop instance"):
        DispatchEnv(DispatchEnv(ft06).scenario, decisions="active")
    with pytest.raises(ValueError, match="makespan"):
        DispatchEnv(ft06, decisions="active", reward="throughput")


@pytest.mark.parametrize("kind", ["active", "non_delay"])
def test_both_env_checkers_pass(kind: str) -> None:
    env = ActiveDispatchEnv(JOBSHOP / "ft06.txt", decisions=kind)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gymnasium_check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)


@pytest.mark.parametrize("name", ["ft06", "la01", "ft10", "ta01"])
@pytest.mark.parametrize("kind", ["active", "non_delay"])
def test_rule_episodes_equal_textbook_giffler_thompson(name: str, kind: str) -> None:
    instance = load_instance(JOBSHOP / f"{name}.txt")
    keys: dict[str, Callable[[Option], tuple[float, int]]] = {
        "spt": lambda o: (o[2], o[0]),
        "mwkr": lambda o: (-o[4], o[0]),
    }
    env = ActiveDispatchEnv(instance, decisions=kind)  # type: ignore[arg-type]
    for rule, key in keys.items():
        info = run_rule(env, rule)
        assert info["makespan"] == textbook_gt(instance, key, kind == "active"), rule
        schedule = env.schedule()
        assert check_schedule(instance, schedule) == []
        assert is_active(instance, schedule)
        if kind == "non_delay":
            assert is_non_delay(instance, schedule)
        bound = BOUNDS[name]
        assert info["makespan"] >= max(bound["lower_bound"], instance.lower_bound())


@pytest.mark.parametrize("kind", ["active", "non_delay"])
def test_random_choices_give_feasible_active_schedules_above_the_bound(kind: str) -> None:
    rng = np.random.default_rng(5)
    for seed in range(6):
        instance = generate_instance(8, 5, seed=seed)
        shop = ShopBatch(instance, 16, kind)  # type: ignore[arg-type]
        while not shop.done.all():
            shop.step(rng.integers(0, 8, size=16))
        for row in range(16):
            schedule = shop.schedule(row)
            assert check_schedule(instance, schedule) == []
            assert is_active(instance, schedule)
            assert shop.makespan[row] == max(op.end for op in schedule) >= instance.lower_bound()


def candidate_slacks(shop: ShopBatch) -> np.ndarray:
    """``(K, Q)`` the slack slot of each candidate slot (nan where no candidate)."""
    slots = shop.observe()[:, shop.layout.candidate(0) :].reshape(shop.copies, -1, JOB_FEATURES)
    return np.where(slots[:, :, JOB_PRESENT] > 0, slots[:, :, JOB_SLACK], np.nan)


def test_active_slack_is_each_jobs_distance_below_the_makespan_bound_by_hand() -> None:
    """Jobs (m0 3, m1 2) and (m0 4, m1 2): earliest completions 5 and 6, machine loads 7 and 4,
    so the bound is 7 and the slacks 2 and 1 (over work_mean 5.5); non-delay keeps 1."""
    instance = JobShopInstance("hand", 2, (((0, 3), (1, 2)), ((0, 4), (1, 2))))
    assert candidate_slacks(ShopBatch(instance, 1, "active"))[0] == pytest.approx([2 / 5.5, 1 / 5.5])
    assert candidate_slacks(ShopBatch(instance, 1, "non_delay"))[0] == pytest.approx([1.0, 1.0])


def test_active_slack_measures_against_a_bound_no_completion_beats() -> None:
    """At every decision of random rollouts, each candidate's earliest completion plus its
    slack is one number per copy (the bound), never above the copy's final makespan, and the
    bound never falls as the schedule grows (slots clipped at 1 say only "at least")."""
    rng = np.random.default_rng(3)
    for seed in range(4):
        instance = generate_instance(10, 5, seed=seed)
        shop = ShopBatch(instance, 8, "active")
        bounds: dict[int, list[float]] = {row: [] for row in range(8)}
        while not shop.done.all():
            slacks = candidate_slacks(shop)
            for row in np.flatnonzero(~shop.done):
                jobs = shop.candidates(row)
                slack = slacks[row, : len(jobs)]
                op = shop.next_op[row, jobs]
                est = np.maximum(shop.job_ready[row, jobs], shop.machine_free[row, shop.op_machine[jobs, op]])
                bound = (est + shop.remaining[jobs, op] + slack * shop.work_mean)[slack < 1.0]
                assert np.all(slack >= 0.0)
                if len(bound):
                    assert bound.max() - bound.min() < 1e-3  # float32 slots
                    bounds[row].append(float(bound.min()))
            shop.step(rng.integers(0, 10, size=8))
        assert any(bounds.values())
        for row, seen in bounds.items():
            assert all(b <= shop.makespan[row] + 1e-3 for b in seen)
            assert all(later >= earlier - 1e-3 for earlier, later in pairwise(seen))


def test_returns_sum_to_minus_makespan_over_the_bound() -> None:
    env = ActiveDispatchEnv(JOBSHOP / "la01.txt")
    env.reset(seed=0)
    total = 0.0
    while True:
        _, reward, terminated, truncated, info = env.step(0)
        total += reward
        assert not truncated
        if terminated:
            break
    assert total == pytest.approx(-float(info["makespan"]) / env.lower_bound)
    with pytest.raises(RuntimeError, match="over"):
        env.step(0)
    with pytest.raises(RuntimeError, match="plant"):
        _ = env.plant


def test_a_masked_action_takes_the_first_candidate() -> None:
    env = ActiveDispatchEnv(JOBSHOP / "ft06.txt")
    env.reset(seed=0)
    mask = env.action_masks()
    first = env.queue[0].job
    _, _, _, _, info = env.step(int(mask.size) - 1 if not mask[-1] else 0)
    assert info.get("invalid_action", False) == (not mask[-1])
    assert any(op.job == first for op in env.schedule())


def test_active_decisions_reach_schedules_non_delay_ones_cannot() -> None:
    """Keeping a machine free for a job on its way: some active schedule is not non-delay."""
    instance = load_instance(JOBSHOP / "ft06.txt")
    env = ActiveDispatchEnv(instance, decisions="active")
    delayed = 0
    for rule in ("spt", "lpt", "mwkr", "fifo", "mopnr"):
        run_rule(env, rule)
        delayed += not is_non_delay(instance, env.schedule())
    assert delayed > 0


def test_gymnasium_make_takes_the_option() -> None:
    import gymnasium

    import twin  # noqa: F401  (registers the env ids)

    env = gymnasium.make("twin/Dispatch-v0", scenario=str(JOBSHOP / "ft06.txt"), decisions="active")
    assert isinstance(env.unwrapped, ActiveDispatchEnv)
    env.reset(seed=0)
    while True:
        _, _, terminated, _, info = env.step(env.unwrapped.rule_action("mopnr"))
        if terminated:
            break
    assert info["makespan"] == run_rule(ActiveDispatchEnv(JOBSHOP / "ft06.txt"), "mopnr")["makespan"]
