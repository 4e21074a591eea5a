"""twin/Dispatch-v0: both env checkers, rule-driven episodes equal the rule's own run,
determinism, masks, rewards, KPIs at the end, and the vectorised helper."""

from __future__ import annotations

import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import twin  # noqa: F401  (registers the env ids)
from twin.dispatching import rule_names
from twin.envs.dispatch import DispatchEnv
from twin.jobshop.instances import load_instance, read_instance
from twin.jobshop.schedules import check_schedule, run_rule, schedule_from_log
from twin.measure.kpi import compute_kpis
from twin.scenario import load_scenario
from twin.sim.plant import Plant

ROOT = Path(__file__).resolve().parents[2]
FT06 = ROOT / "scenarios" / "jobshop" / "ft06.txt"
EXAMPLES = sorted((ROOT / "scenarios" / "examples").glob("*.yaml"))


def roll(env: DispatchEnv, choose: object, seed: int | None = 0) -> tuple[list[float], dict[str, object], int]:
    """Run an episode; ``choose(env)`` gives each action. Rewards, last info, steps."""
    env.reset(seed=seed)
    rewards = []
    while True:
        _, reward, terminated, truncated, info = env.step(choose(env))  # type: ignore[operator]
        rewards.append(reward)
        if terminated or truncated:
            return rewards, info, len(rewards)


@pytest.mark.parametrize("path", [FT06, *EXAMPLES], ids=lambda p: p.name)
def test_env_checkers_pass(path: Path) -> None:
    env = gymnasium.make("twin/Dispatch-v0", scenario=str(path), horizon=None if path.suffix == ".txt" else 3000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker's warning is a failure
        gymnasium_check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_rule_mode_checks_and_runs_on_examples(path: Path) -> None:
    env = DispatchEnv(path, mode="rule", horizon=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env)
    _rewards, info, steps = roll(env, lambda e: 1)
    assert steps > 1 and "kpis" in info and info["time"] == 2000


@pytest.mark.parametrize("rule", rule_names())
def test_rule_driven_env_reproduces_the_rule_run(rule: str) -> None:
    """Picking each time the job the rule would pick gives the makespan of `twin jobshop --rule`,
    in both modes; the return is -makespan / LB."""
    scenario = read_instance(ROOT / "scenarios" / "jobshop" / "la01.txt")
    expected = run_rule(scenario, rule).makespan
    job_env = DispatchEnv(scenario)
    rewards, info, _ = roll(job_env, lambda e: e.rule_action(rule), seed=scenario.seed)
    assert info["makespan"] == expected
    assert sum(rewards) == pytest.approx(-expected / job_env.lower_bound)
    instance = load_instance(ROOT / "scenarios" / "jobshop" / "la01.txt")
    assert check_schedule(instance, schedule_from_log(job_env.plant.log)) == []
    rule_env = DispatchEnv(scenario, mode="rule", rules=[rule])
    _, info, _ = roll(rule_env, lambda e: 0, seed=scenario.seed)
    assert info["makespan"] == expected


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "operator" not in p.name], ids=lambda p: p.name)
def test_rule_driven_env_reproduces_open_plants(path: Path) -> None:
    """On plants with parallel machines, finite buffers, blocking, setups and breakdowns the
    env with one rule everywhere logs exactly what the rule's own run logs."""
    base = load_scenario(path)
    stations = {name: spec.model_copy(update={"dispatching": "spt"}) for name, spec in base.stations.items()}
    scenario = base.model_copy(update={"stations": stations, "horizon": 4000.0, "warmup": 0.0})
    plant = Plant(scenario, seed=3)
    plant.run()
    env = DispatchEnv(scenario, mode="rule", rules=["spt"])
    _, info, _ = roll(env, lambda e: 0, seed=3)
    assert info["kpis"] == compute_kpis(plant.log, scenario, 0.0, 4000.0)
    for column, values in plant.log.columns().items():
        assert np.array_equal(values, env.plant.log.columns()[column]), column


def test_same_seed_same_episode_other_seed_other_episode() -> None:
    """Two envs side by side with one seed agree step by step (noise, breakdowns, arrivals)."""
    scenario = read_instance(FT06, cv=0.3, mtbf=40, mttr=4, arrival_mean=3)
    a, b = DispatchEnv(scenario), DispatchEnv(scenario)
    obs_a, _ = a.reset(seed=7)
    obs_b, _ = b.reset(seed=7)
    rng = np.random.default_rng(0)
    while True:
        assert np.array_equal(obs_a, obs_b)
        action = int(rng.choice(np.flatnonzero(a.action_masks())))
        obs_a, r_a, done_a, _, info_a = a.step(action)
        obs_b, r_b, done_b, _, _ = b.step(action)
        assert (r_a, done_a) == (r_b, done_b)
        if done_a:
            break
    first = info_a["makespan"]
    _, info, _ = roll(a, lambda e: 0, seed=8)
    assert info["makespan"] != first


def test_masks_observations_and_invalid_actions() -> None:
    env = DispatchEnv(FT06)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.observation_space.shape == (3 + 6 * 6 + 7 * 6,)
    mask = env.action_masks()
    assert np.array_equal(mask, info["action_mask"])
    assert mask.sum() == len(env.queue) >= 2 and mask[: mask.sum()].all()
    assert obs[3 + int(env.station[1:])] == 1.0  # type: ignore[index]  # one-hot of the deciding station
    _, _, _, _, info = env.step(5)  # past the queue: masked
    assert info.get("invalid_action") is True


def test_rewards_by_kind() -> None:
    scenario = load_scenario(EXAMPLES[0])
    assert DispatchEnv(scenario, horizon=500).reward_kind in ("tardiness", "throughput")
    env = DispatchEnv(scenario, horizon=1500, reward="throughput")
    rewards, info, _ = roll(env, lambda e: 0)
    assert sum(rewards) == pytest.approx(env.plant.completed)
    assert info["kpis"]["completed"] <= env.plant.completed  # the KPI counts after warm-up only
    with pytest.raises(ValueError, match="closed job shop"):
        DispatchEnv(scenario, reward="makespan")


def test_accrued_tardiness_has_the_same_total_and_pays_earlier() -> None:
    """On a closed shop with due dates every job ends, so both tardiness rewards sum to minus
    the total tardiness; the accrued one charges a late job while it waits, before it leaves:
    along the same episode its running sum is never above the other's, and below it at times."""
    scenario = read_instance(ROOT / "scenarios" / "jobshop" / "ft10.txt", due_factor=1.0)
    running = {}
    for kind in ("tardiness", "tardiness_accrued"):
        env = DispatchEnv(scenario, reward=kind)
        rewards, info, _ = roll(env, lambda e: e.rule_action("spt"))
        total = env.plant.tardiness
        assert total > 0 and sum(rewards) * env.work_mean == pytest.approx(-total)
        assert info["kpis"]["tardiness_mean"] * env.plant.completed == pytest.approx(total)
        running[kind] = np.cumsum(rewards)
    gap = running["tardiness"] - running["tardiness_accrued"]
    assert gap.min() >= -1e-9 and gap.max() > 1.0 and gap[-1] == pytest.approx(0.0, abs=1e-9)


def test_accrued_tardiness_counts_the_late_jobs_still_in_an_open_plant() -> None:
    env = DispatchEnv(ROOT / "scenarios" / "examples" / "job_shop.yaml", reward="tardiness_accrued", horizon=3000)
    rewards, _, _ = roll(env, lambda e: e.rule_action("fifo"), seed=2)
    plant = env.plant
    inside = [job for station in plant.stations.values() for job in station.queue]
    inside += [machine.job for station in plant.stations.values() for machine in station.machines if machine.job]
    late_now = [3000 - job.due for job in inside if job.due < 3000]
    assert plant.in_system == len(inside) and len(late_now) == 7  # a backlog at the end
    assert sum(rewards) * env.work_mean == pytest.approx(-(plant.tardiness + sum(late_now)))


def test_bad_arguments() -> None:
    for kwargs in ({"mode": "x"}, {"rules": ["nope"]}, {"max_queue": 0}, {"reward": "x"}, {"horizon": -1}):
        with pytest.raises(ValueError):
            DispatchEnv(FT06, **kwargs)  # type: ignore[arg-type]
    env = DispatchEnv(FT06)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_a_scenario_without_decisions_is_a_one_step_episode() -> None:
    from tests.helpers import scenario

    single = scenario({"a": {}, "b": {"process_time": 1}}, {"p": {"route": [{"station": "a", "process_time": 2}, "b"]}})
    env = DispatchEnv(single)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and info["makespan"] == 3.0 and reward == pytest.approx(-1.0)
    with pytest.raises(RuntimeError, match="over"):
        env.step(0)


@pytest.mark.slow
def test_vectorised_envs_for_sb3() -> None:
    from twin.envs.vector import make_vec_env

    venv = make_vec_env(FT06, n_envs=2, seed=1, vec_env="subproc")
    try:
        obs = venv.reset()
        assert obs.shape == (2, 81)
        masks = np.stack(venv.env_method("action_masks"))
        actions = np.array([int(np.flatnonzero(m)[0]) for m in masks])
        obs, rewards, _dones, _infos = venv.step(actions)
        assert obs.shape == (2, 81) and rewards.shape == (2,)
    finally:
        venv.close()
