"""Comparisons: the difference to the baseline, its paired CI and whether it is significant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import twin
from twin.cli import app
from twin.measure.stats import difference
from twin.scenario import Scenario, parse_scenario
from twin.studies.compare import compare
from twin.studies.store import StoreError, write_run


def small_queue(process_mean: float) -> Scenario:
    """An M/M/1-like station loaded at 0.7 x process_mean, short runs."""
    return parse_scenario(
        {
            "name": "queue",
            "horizon": 400,
            "warmup": 40,
            "replications": 5,
            "products": {"p": {"arrival": {"dist": "exponential", "mean": 1.0 / 0.7}, "route": ["s"]}},
            "stations": {"s": {"process_time": {"dist": "exponential", "mean": process_mean}}},
        }
    )


@pytest.mark.slow
def test_identical_scenarios_are_rarely_significant() -> None:
    """Same scenario, independent seeds: 'significant' at most about as often as the 5% level
    says (deterministic: fixed seeds)."""
    scenario = small_queue(1.0)
    hits = 0
    trials = 100
    for seed in range(trials):
        a = twin.simulate(scenario, seed=seed, keep_events=False).kpis["stations.s.wait_mean"].to_numpy()
        b = twin.simulate(scenario, seed=seed + 10_000, keep_events=False).kpis["stations.s.wait_mean"].to_numpy()
        _, low, high = difference(a, b, paired=True)
        hits += low > 0 or high < 0
    assert hits / trials <= 0.10


def test_a_clearly_faster_machine_is_always_significant() -> None:
    """Process time 1.0 -> 0.6 cuts the wait; with common random numbers it shows every time."""
    for seed in range(20):
        slow = twin.simulate(small_queue(1.0), seed=seed, keep_events=False).kpis["stations.s.wait_mean"].to_numpy()
        fast = twin.simulate(small_queue(0.6), seed=seed, keep_events=False).kpis["stations.s.wait_mean"].to_numpy()
        _, low, high = difference(slow, fast, paired=True)
        assert high < 0, (seed, low, high)


def test_pairing_uses_common_random_numbers() -> None:
    """Paired over replications with shared streams, the interval is far tighter than Welch's."""
    slow = twin.simulate(small_queue(1.0), seed=3, keep_events=False).kpis["stations.s.wait_mean"].to_numpy()
    fast = twin.simulate(small_queue(0.9), seed=3, keep_events=False).kpis["stations.s.wait_mean"].to_numpy()
    _, p_low, p_high = difference(slow, fast, paired=True)
    _, u_low, u_high = difference(slow, fast, paired=False)
    assert p_high - p_low < 0.5 * (u_high - u_low)


def test_welch_interval_matches_scipy() -> None:
    """The unpaired interval is Welch's t-interval."""
    from scipy import stats

    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 5.0, 7.0, 9.0])
    diff, low, high = difference(a, b, paired=False)
    result = stats.ttest_ind(b, a, equal_var=False)
    ci = result.confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean())
    assert (low, high) == pytest.approx((ci.low, ci.high))


def test_compare_stored_runs(tmp_path: Path) -> None:
    """Stored runs compare: the baseline has no difference; the faster machine's is significant."""
    slow = write_run(twin.simulate(small_queue(1.0), keep_events=False), tmp_path)
    fast = write_run(
        twin.simulate(small_queue(0.6), keep_events=False), tmp_path, overrides={"stations.s.process_time": 0.6}
    )
    table = compare([slow, fast])
    wait = table[table["kpi"] == "stations.s.wait_mean"].set_index("run_id")
    assert np.isnan(wait.loc[slow.name, "diff"]) and not wait.loc[slow.name, "significant"]
    assert wait.loc[fast.name, "significant"] and wait.loc[fast.name, "paired"]
    assert wait.loc[fast.name, "label"] == "stations.s.process_time=0.6"
    assert wait.loc[fast.name, "diff"] == pytest.approx(wait.loc[fast.name, "mean"] - wait.loc[slow.name, "mean"])


def test_compare_command(tmp_path: Path) -> None:
    """`twin compare --json` and --plot; a path that is no run exits 2."""
    slow = write_run(twin.simulate(small_queue(1.0), keep_events=False), tmp_path)
    fast = write_run(twin.simulate(small_queue(0.6), keep_events=False), tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["compare", str(slow), str(fast), "--json", "--plot", str(tmp_path / "cmp.png")])
    assert done.exit_code == 0, done.stderr
    import json

    document = json.loads(done.stdout)
    assert document["baseline"] == slow.name
    waits = {row["run_id"]: row for row in document["kpis"]["stations.s.wait_mean"]}
    assert waits[fast.name]["significant"] is True and waits[slow.name]["diff"] is None
    assert (tmp_path / "cmp.png").stat().st_size > 1000
    table = runner.invoke(app, ["compare", str(tmp_path)])
    assert table.exit_code == 0 and "s: wait in buffer" in table.stdout
    missing = runner.invoke(app, ["compare", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such run, sweep or run store" in missing.stderr
    with pytest.raises(StoreError):
        compare([tmp_path / "nope"])
