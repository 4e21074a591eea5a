"""Warm start: a plant placed from a state, snapshots, residual times, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tests.helpers import scenario
from twin.measure.kpi import compute_kpis
from twin.scenario import Scenario
from twin.scenario.distributions import Gamma, LogNormal, Weibull
from twin.scenario.residuals import residual
from twin.scenario.state import PlantState, check_state
from twin.sim.log import JobEvent, MachineState
from twin.sim.plant import Plant

KPIS = ("completed", "throughput", "wip_mean", "lead_time_mean", "tardiness_mean", "stations.a.utilization")

DETERMINISTIC = scenario(
    {
        "a": {"machines": 2, "buffer": 2, "process_time": 3.0},
        "b": {"buffer": 1, "process_time": 1.7, "failures": {"ttf": 40.0, "ttr": 6.0, "basis": "busy"}},
        "c": {"process_time": 1.2},
    },
    {"p": {"release": [{"at": 1.0 * i, "due": 10.0 * i + 30} for i in range(200)], "route": ["a", "b", "c"]}},
    horizon=300,
)

BLOCKING = scenario(
    {
        "a": {"machines": 2, "process_time": 1.0},
        "b": {"buffer": 0, "process_time": 1.3},
        "c": {"machines": 2, "buffer": 0, "process_time": 2.9},
        "d": {"buffer": 0, "process_time": 1.1},
    },
    {"p": {"release": [{"at": 0, "quantity": 300}], "route": ["a", "b", "c", "d"]}},
    horizon=250,
)

SHIFTS = scenario(
    {
        "a": {"machines": 2, "process_time": 2.0, "operator": "crew"},
        "b": {"machines": 2, "buffer": 2, "process_time": 3.1, "operator": "crew", "setup": {"default": 0.7}},
    },
    {
        "p": {"release": [{"at": 0, "quantity": 150}], "route": ["a", "b"]},
        "q": {"release": [{"at": 10.0 * i} for i in range(25)], "route": ["b"]},
    },
    operators={
        "crew": {
            "count": 3,
            "shifts": {"period": 90, "shifts": [{"start": 0, "end": 50}, {"start": 60, "end": 85, "count": 2}]},
        }
    },
    horizon=250,
)

MEMORYLESS = scenario(
    {
        "a": {"buffer": 3, "process_time": {"dist": "exponential", "mean": 0.8}},
        "b": {"buffer": 2, "process_time": {"dist": "exponential", "mean": 0.9}},
    },
    {"p": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["a", "b"]}},
    horizon=60,
)


def _split(s: object, at: float, seed: int = 0, replication: int = 0) -> tuple[Plant, PlantState]:
    first = Plant(s, seed=seed, replication=replication)  # type: ignore[arg-type]
    first.env.run(until=at)
    return first, first.snapshot()


@pytest.mark.parametrize("line", [DETERMINISTIC, BLOCKING], ids=["breakdowns", "blocking"])
def test_a_split_deterministic_run_has_the_statistics_of_the_unsplit_one(line: Scenario) -> None:
    """Constant times and a release list: restarting from the snapshot at T reproduces the
    unsplit run's KPIs over [T, end] exactly (waits excepted: a buffered job's counts from T),
    with busy-time breakdowns, and with machines blocked in chains (buffers of 0)."""
    full = Plant(line)
    end = full.run()
    in_hand = []
    for at in (57.3, 120.0, 201.5):
        _, state = _split(line, at)
        assert state.jobs
        in_hand += [job.elapsed > 0 for job in state.jobs]
        assert line is DETERMINISTIC or any(m.state == "blocked" for m in state.machines)
        rest = Plant(line.model_copy(update={"horizon": end - at}), state=state)
        assert rest.run() == pytest.approx(end)
        expected = compute_kpis(full.log, line, at, end)
        got = compute_kpis(rest.log, line, at, end)
        for name in KPIS:
            assert got[name] == pytest.approx(expected[name], rel=1e-9), (at, name)
    assert any(in_hand)  # some cut caught operations in hand


def test_a_split_run_with_an_operator_shift_calendar_joins_it_where_it_is() -> None:
    """Operators on shifts (setups, off-shift machines): a restart at T, in a shift or in the
    gap between two, follows the calendar from there and completes what the unsplit run does,
    give or take the order in which stations queue for an operator (not in a state)."""
    full = Plant(SHIFTS)
    end = full.run()
    for at in (30.0, 57.3, 201.5):
        _, state = _split(SHIFTS, at)
        rest = Plant(SHIFTS.model_copy(update={"horizon": end - at}), state=state)
        rest.run()
        assert rest.arrived == rest.left + rest.in_system
        expected = compute_kpis(full.log, SHIFTS, at, end)["completed"]
        assert abs(compute_kpis(rest.log, SHIFTS, at, end)["completed"] - expected) <= 2, at
    _, gap = _split(SHIFTS, 57.3)
    assert {m.state for m in gap.machines} <= {"off_shift", "busy", "setup", "blocked"}


def test_a_split_memoryless_run_has_the_distribution_of_the_unsplit_one() -> None:
    """Exponential times: completions over [T, T+H] after a restart from the snapshot at T
    (other numbers from then on) are distributed as in unsplit runs (two-sample KS test)."""
    at, horizon, runs = 30.0, 60.0, 60
    whole = MEMORYLESS.model_copy(update={"horizon": at + horizon})
    unsplit, split = [], []
    for r in range(runs):
        plant = Plant(whole, seed=1, replication=r)
        plant.run()
        unsplit.append(compute_kpis(plant.log, whole, at, at + horizon)["completed"])
        _, state = _split(whole, at, seed=2, replication=r)
        rest = Plant(MEMORYLESS, seed=3, replication=r, state=state)
        rest.run()
        split.append(compute_kpis(rest.log, MEMORYLESS, at, at + horizon)["completed"])
    assert stats.ks_2samp(unsplit, split).pvalue > 0.01
    assert abs(np.mean(unsplit) - np.mean(split)) < 3 * math.sqrt(np.var(unsplit) / runs + np.var(split) / runs) + 1


def test_every_job_of_the_state_is_completed_scrapped_or_still_in_the_plant() -> None:
    s = scenario(
        {"a": {"buffer": 4, "process_time": 1.0, "scrap": 0.2}, "b": {"buffer": 2, "process_time": 1.4}},
        {"p": {"arrival": {"dist": "exponential", "mean": 1.1}, "route": ["a", "b"]}},
        horizon=15,
    )
    _, state = _split(s.model_copy(update={"horizon": 100.0}), 80.0)
    assert len(state.jobs) >= 5
    plant = Plant(s, state=state)
    plant.run()
    columns = plant.log.columns()
    left = {
        int(j)
        for j, k in zip(columns["job_id"], columns["job_kind"], strict=True)
        if k in (JobEvent.EXIT, JobEvent.SCRAP)
    }
    inside = {job.id for job in plant.snapshot().jobs}
    mine = {str(j) for j in plant.warm_ids}
    ours = {plant.warm_ids[j] for j in plant.warm_ids}
    assert ours == {job.id for job in state.jobs}
    done = {plant.warm_ids[j] for j in left if j in plant.warm_ids}
    still = ours & inside
    assert done | still == ours and not done & still
    assert mine  # the model's own ids of the placed jobs


def test_a_job_resumes_with_what_is_left_and_a_down_machine_with_the_rest_of_its_repair() -> None:
    s = scenario(
        {"a": {"process_time": 3.0, "failures": {"ttf": 1000.0, "ttr": 10.0}}},
        {"p": {"release": [{"at": 0}], "route": ["a"]}},
    )
    state = PlantState.model_validate(
        {
            "time": 50.0,
            "jobs": [{"id": "x", "product": "p", "where": "machine", "station": "a", "machine": "0", "elapsed": 1.0}],
            "machines": [{"station": "a", "machine": "0", "state": "down", "since": 46.0}],
        }
    )
    plant = Plant(s, state=state)
    plant.run()
    columns = plant.log.columns()
    finish = columns["job_time"][columns["job_kind"] == JobEvent.FINISH]
    assert finish.tolist() == pytest.approx([50.0 + 6.0 + 2.0])  # 6 of the repair left, then 2 of the operation


@pytest.mark.parametrize(
    ("dist", "age", "frozen"),
    [
        # Weibull time to failure of a machine aged 150: closed form
        (Weibull(dist="weibull", shape=2.0, scale=100.0), 150.0, stats.weibull_min(2.0, scale=100.0)),
        # gamma processing time 2 into an operation: rejection from the distribution
        (Gamma(dist="gamma", shape=3.0, scale=1.0), 2.0, stats.gamma(3.0)),
        # lognormal repair far into its tail: the inverse of the conditional CDF
        (
            LogNormal(dist="lognormal", mean=5.0, sd=2.0),
            30.0,
            stats.lognorm(math.sqrt(math.log1p(0.16)), scale=5.0 * math.exp(-math.log1p(0.16) / 2)),
        ),
    ],
)
def test_residual_times_follow_the_conditional_distribution(dist: object, age: float, frozen: object) -> None:
    """KS test of X - a | X > a against the analytic conditional CDF."""
    rng = np.random.default_rng(5)
    draws = np.array([residual(dist, age, rng) for _ in range(2000)])  # type: ignore[arg-type]
    tail = frozen.sf(age)  # type: ignore[attr-defined]

    def cdf(x: np.ndarray) -> np.ndarray:
        return 1.0 - frozen.sf(age + x) / tail  # type: ignore[attr-defined, no-any-return]

    assert stats.kstest(draws, cdf).pvalue > 0.01


def test_a_state_the_scenario_cannot_start_from_is_refused() -> None:
    s = scenario(
        {"a": {"process_time": 1.0, "batch": {"size": 3}}},
        {"p": {"arrival": 1.0, "route": ["a"]}},
        horizon=10,
    )
    with pytest.raises(ValueError, match=r"stations\.a\.batch: warm start does not support a batch station"):
        Plant(s, state=PlantState(time=5.0))


def test_an_aged_machine_fails_after_the_rest_of_its_time_to_failure_and_a_setup_resumes() -> None:
    s = scenario(
        {
            "a": {"process_time": 3.0, "failures": {"ttf": 100.0, "ttr": 5.0, "basis": "calendar"}},
            "b": {"process_time": 1.0, "setup": {"default": 2.0}},
        },
        {"p": {"release": [{"at": 0}], "route": ["a", "b"]}},
        horizon=60,
    )
    state = PlantState.model_validate(
        {
            "time": 50.0,
            "jobs": [{"id": "x", "product": "p", "step": 1, "where": "machine", "station": "b", "machine": "0"}],
            "machines": [
                {"station": "a", "machine": "0", "state": "idle", "since": 20.0, "age": 70.0},
                {"station": "b", "machine": "0", "state": "setup", "since": 49.5},
            ],
        }
    )
    plant = Plant(s, state=state)
    plant.run()
    columns = plant.log.columns()
    down = columns["state_time"][(columns["state_code"] == MachineState.DOWN)]
    assert down.tolist() == pytest.approx([80.0])  # 100 to failure, 70 of them gone
    starts = columns["job_time"][columns["job_kind"] == JobEvent.START]
    finish = columns["job_time"][columns["job_kind"] == JobEvent.FINISH]
    assert (starts.max(), finish.tolist()) == (pytest.approx(51.5), pytest.approx([52.5]))  # 1.5 of setup left


@pytest.mark.parametrize("seed", range(8))
def test_random_lines_restart_from_any_snapshot_and_keep_every_job(seed: int) -> None:
    """Random lines (parallel machines, finite buffers, breakdowns of both bases, scrap,
    rework, setups, operators on shifts): the snapshot at a random time passes its checks, a plant starts from it,
    and jobs in = jobs out + jobs still in the plant."""
    rng = np.random.default_rng(seed)
    names = [f"s{i}" for i in range(int(rng.integers(2, 5)))]
    stations: dict[str, object] = {}
    for i, name in enumerate(names):
        spec: dict[str, object] = {
            "machines": int(rng.integers(1, 3)),
            "process_time": {"dist": "gamma", "shape": 2, "scale": float(rng.uniform(0.2, 0.5))},
        }
        if i:
            spec["buffer"] = int(rng.integers(0, 4))
        if rng.random() < 0.5:
            basis = "busy" if rng.random() < 0.5 else "calendar"
            spec["failures"] = {"ttf": {"dist": "weibull", "shape": 1.5, "scale": 40}, "ttr": 4.0, "basis": basis}
        if rng.random() < 0.3:
            spec["scrap"] = 0.1
        if rng.random() < 0.3:
            spec["setup"] = {"default": 0.5}
        if i and rng.random() < 0.3:
            spec["rework"] = {"probability": 0.1, "to": name}
        if rng.random() < 0.3:
            spec["operator"] = "crew"
        stations[name] = spec
    products = {
        "p": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": names, "due_date": {"slack": 20}},
        "q": {"arrival": {"dist": "exponential", "mean": 3.0}, "route": names[::-1][:2][::-1]},
    }
    shifts = {"period": 60, "shifts": [{"start": 0, "end": 40}, {"start": 45, "end": 60, "count": 1}]}
    s = scenario(stations, products, horizon=50, operators={"crew": {"count": 2, "shifts": shifts}})
    _, state = _split(s.model_copy(update={"horizon": 200.0}), float(rng.uniform(30, 150)), seed=seed)
    assert check_state(state, s) == []
    plant = Plant(s, seed=seed, state=state)
    plant.run()
    assert plant.arrived == plant.left + plant.in_system
    assert check_state(plant.snapshot(), s) == []
