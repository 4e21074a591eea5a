"""Choosing the best of many: the subset holds the best at its stated rate, a clear winner is
named alone, the replications asked for do separate the leaders, and `twin compare --best`
reports the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.studies.ranking import rank


def systems(means: list[float], n: int, rng: np.random.Generator, shared: float = 0.0) -> dict[str, pd.Series]:
    """Normal replications of each mean plus 50 (sd 1: never near 0), with a common random
    part of size ``shared``."""
    common = rng.normal(0.0, 1.0, n) * shared
    return {f"s{i}": pd.Series(50 + m + common + rng.normal(0.0, 1.0, n), index=range(n)) for i, m in enumerate(means)}


def test_a_clear_winner_is_alone_in_the_subset() -> None:
    rng = np.random.default_rng(1)
    ranking = rank(systems([0.0, 1.0, 2.0, 5.0], 20, rng), "throughput")
    assert ranking.best == "s3" and ranking.subset == ["s3"]
    assert ranking.replications_needed == ranking.replications == 20
    assert "no other run can be better" in ranking.sentence("throughput")
    others = ranking.table[ranking.table["run_id"] != "s3"]
    assert (others["diff_high"] < 0).all()  # intervals against the best exclude 0


def test_lower_is_better_for_lead_time() -> None:
    rng = np.random.default_rng(2)
    ranking = rank(systems([10.0, 4.0, 12.0], 15, rng), "lead_time_mean")
    assert list(ranking.table["run_id"]) == ["s1", "s0", "s2"]
    assert ranking.direction == "down" and ranking.best == "s1"


@pytest.mark.slow
def test_the_subset_holds_the_best_at_least_95_percent_of_the_time() -> None:
    """Five systems, the best only slightly better (0.3 sd), 10 replications: over 300 studies
    the subset contains the true best in >= 95% of them (the procedure's guarantee)."""
    rng = np.random.default_rng(3)
    hits = sum("s4" in rank(systems([0, 0, 0, 0, 0.3], 10, rng), "throughput").subset for _ in range(300))
    assert hits / 300 >= 0.95


def test_common_random_numbers_make_the_subset_smaller() -> None:
    """Systems with a large shared noise (sd 5) and gaps of 1.5: paired, the shared part
    cancels and the best stands alone; the same values taken as unpaired (other replication
    numbers) leave every system in the subset."""
    values = systems([0.0, 1.5, 3.0], 12, np.random.default_rng(4), shared=5.0)
    paired = rank(values, "throughput")
    unpaired = rank({k: v.set_axis(v.index + 100 * i) for i, (k, v) in enumerate(values.items())}, "throughput")
    assert paired.paired and paired.subset == ["s2"]
    assert not unpaired.paired and len(unpaired.subset) == 3


def test_more_replications_as_asked_separate_the_leaders() -> None:
    rng = np.random.default_rng(5)
    first = rank(systems([0.0, 0.5, 0.6], 6, rng), "throughput")
    assert len(first.subset) > 1 and first.replications_needed > 6
    hits = 0
    for _ in range(40):
        again = rank(systems([0.0, 0.5, 0.6], 4 * first.replications_needed, rng), "throughput")
        hits += again.subset == ["s2"]
    assert hits >= 20  # the estimate is for observed gaps; with 4x it separates most studies


def test_exact_ties_are_reported_not_counted_as_needing_replications() -> None:
    values = {"a": pd.Series([1.0, 2.0, 3.0]), "b": pd.Series([1.0, 2.0, 3.0]), "c": pd.Series([0.0, 0.5, 1.0])}
    ranking = rank(values, "throughput")
    assert ranking.ties == ("b",) and "tie(s) with it exactly" in ranking.sentence("throughput")


def test_a_kpi_without_direction_or_replications_is_refused() -> None:
    with pytest.raises(ValueError, match="no better direction"):
        rank({"a": pd.Series([1.0, 2.0]), "b": pd.Series([1.0, 2.0])}, "stations.a.off_shift")
    with pytest.raises(ValueError, match="at least 2 replications"):
        rank({"a": pd.Series([1.0]), "b": pd.Series([1.0, 2.0])}, "throughput")


@pytest.mark.slow
def test_compare_best_in_the_terminal_and_as_json(tmp_path: Path) -> None:
    runner = CliRunner()
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "runs"
    result = runner.invoke(
        app,
        [
            "sweep", str(root / "scenarios/validation/mm1.yaml"), "--vary", "stations.server.process_time=0.5,0.7,0.9",
            "--replications", "3", "--out", str(out), "--set", "horizon=2000", "--set", "warmup=200",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (sweep,) = [p for p in out.iterdir() if p.is_dir()]
    shown = runner.invoke(app, ["compare", str(sweep), "--best", "lead_time_mean"])
    assert shown.exit_code == 0, shown.output
    assert "Ranking on Lead time" in shown.output and "May be the best" in shown.output
    document = json.loads(runner.invoke(app, ["compare", str(sweep), "--best", "lead_time_mean", "--json"]).stdout)
    ranking = document["ranking"]
    assert ranking["direction"] == "down" and ranking["best"].endswith("p000")  # the fastest server
    assert ranking["runs"][0]["rank"] == 1 and ranking["runs"][0]["ci_low"] >= 0
    assert set(document) >= {"baseline", "runs", "kpis", "ranking"}
    other = runner.invoke(
        app, ["run", str(root / "scenarios/validation/md1.yaml"), "--replications", "2", "--out", str(out)]
    )
    assert other.exit_code == 0, other.output
    (single,) = [p for p in out.iterdir() if p.is_dir() and p != sweep]
    refused = runner.invoke(app, ["compare", str(sweep), str(single)])
    assert refused.exit_code == 2 and "--force" in refused.output
    mixed = runner.invoke(app, ["compare", str(sweep), str(single), "--force"])
    assert mixed.exit_code == 0 and "warning: these runs simulate different scenarios" in mixed.stderr
    assert "warning" not in shown.stderr
    bad = runner.invoke(app, ["compare", str(sweep), "--best", "lead_time"])
    assert bad.exit_code == 2 and "--best: lead_time: not a KPI of these runs" in bad.output
    assert "Traceback" not in bad.output
