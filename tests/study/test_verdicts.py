"""Intervals that respect a KPI's range, percent changes, KPI directions and the verdicts built
from them: checked against closed forms, by coverage, and on stored runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.dashboard.conftest import ROOT
from tests.helpers import scenario
from twin.measure.experiment import run_replication, simulate
from twin.measure.kpi import OEE_PARTS, kpi_bounds, kpi_direction, kpi_names
from twin.measure.stats import bounded_interval, confidence_interval, percent_change
from twin.scenario import load_scenario
from twin.studies.report import comparison_report, format_change
from twin.studies.verdicts import sentence, verdict_table


def test_bounded_interval_is_the_t_interval_when_it_fits() -> None:
    values = np.array([10.0, 11.0, 12.0, 9.5, 10.5])
    assert bounded_interval(values) == confidence_interval(values)


def test_bounded_interval_of_a_skewed_small_sample_never_goes_below_zero() -> None:
    values = np.array([0.0, 0.0, 0.5, 3.0, 0.1])  # tardiness-like: the t-interval is [-0.88, 2.32]
    mean, low, high = bounded_interval(values)
    assert confidence_interval(values)[1] < 0 < low < mean < high
    # The log-scale interval: mean * exp(-+ t * se / mean), t(0.975, 4) = 2.776.
    se = values.std(ddof=1) / math.sqrt(5)
    assert low == pytest.approx(mean * math.exp(-2.7764451 * se / mean), rel=1e-6)
    assert high == pytest.approx(mean * math.exp(2.7764451 * se / mean), rel=1e-6)


def test_bounded_interval_of_a_share_stays_inside_zero_and_one() -> None:
    mean, low, high = bounded_interval(np.array([0.97, 0.99, 1.0]), 0.0, 1.0)
    assert confidence_interval(np.array([0.97, 0.99, 1.0]))[2] > 1
    assert 0 < low < mean < high < 1


def test_bounded_interval_of_all_zeros_is_the_point() -> None:
    assert bounded_interval(np.zeros(4)) == (0.0, 0.0, 0.0)


def test_bounded_interval_covers_the_mean_of_a_skewed_quantity() -> None:
    """Exponential samples of 5 (mean 1): the interval holds the true mean about 95% of the
    time and its lower bound is never negative."""
    rng = np.random.default_rng(7)
    hits, lows = 0, []
    for _ in range(2000):
        _, low, high = bounded_interval(rng.exponential(1.0, 5))
        hits += low <= 1.0 <= high
        lows.append(low)
    assert min(lows) >= 0
    assert 0.88 <= hits / 2000 <= 0.98


def test_percent_change_of_a_proportional_paired_change_is_exact() -> None:
    base = np.array([1.0, 1.1, 0.9, 1.05])
    pct, low, high = percent_change(base, 1.2 * base, paired=True)
    assert pct == pytest.approx(20.0)
    assert low == pytest.approx(20.0) and high == pytest.approx(20.0)


def test_percent_change_interval_is_never_below_minus_100_and_agrees_in_sign() -> None:
    rng = np.random.default_rng(3)
    base = rng.exponential(10.0, 10)
    cut = base * 0.05 + rng.exponential(0.1, 10)
    pct, low, high = percent_change(base, cut, paired=True)
    assert -100 < low <= pct <= high < 0


def test_percent_change_undefined_against_a_zero_baseline() -> None:
    assert all(math.isnan(v) for v in percent_change(np.zeros(3), np.ones(3), paired=True))


def test_every_kpi_has_a_range_and_every_loss_a_direction() -> None:
    """Planned time (off shift, preventive maintenance) and design-dependent figures (jobs per
    batch, vehicle utilisation) have no good direction; every other KPI has one."""
    names = kpi_names(load_scenario(ROOT / "scenarios/examples/flexible_flow_shop.yaml"))
    names += kpi_names(load_scenario(ROOT / "scenarios/examples/motor_plant.yaml"))
    neutral = (".off_shift", ".maintenance", ".batch_mean", "transport.utilization")
    assert kpi_direction("throughput") == "up" and kpi_direction("lead_time_mean") == "down"
    assert kpi_direction("stations.edge.oee") == "up" and kpi_direction("stations.edge.blocked") == "down"
    for name in names:
        assert kpi_bounds(name)[0] == 0.0
        assert kpi_direction(name) is not None or name.endswith(neutral), name


def test_oee_is_availability_times_performance_times_quality() -> None:
    """Failures, setups and scrap: the three factors differ from each other and from
    utilisation, and their product is OEE."""
    s = load_scenario(ROOT / "scenarios/examples/flexible_flow_shop.yaml")
    kpis = run_replication(s, 0).kpis
    for station in s.stations:
        parts = [kpis[f"stations.{station}.{p}"] for p in OEE_PARTS]
        assert math.prod(parts) == pytest.approx(kpis[f"stations.{station}.oee"], rel=1e-9)
        assert all(0 <= p <= 1 for p in parts)
    edge = {p: kpis[f"stations.edge.{p}"] for p in (*OEE_PARTS, "oee", "utilization")}
    assert edge["quality"] < 1 and edge["availability"] < 1 and edge["performance"] < 1
    assert edge["oee"] < edge["utilization"]


def test_oee_factors_on_a_deterministic_line() -> None:
    """One machine, 5 jobs of 1.0 over [0, 10], 2 of them scrapped: availability 1,
    performance 5 / 10 (idle half the time), quality 3 / 5."""
    s = scenario(
        stations={"a": {"process_time": 1.0, "scrap": 0.0}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["a"]}},
        horizon=10,
    )
    kpis = run_replication(s, 0).kpis
    assert kpis["stations.a.availability"] == 1.0
    assert kpis["stations.a.performance"] == pytest.approx(0.5)
    assert kpis["stations.a.quality"] == 1.0
    assert kpis["stations.a.oee"] == pytest.approx(0.5)


def stored_pair() -> tuple[pd.DataFrame, list[str]]:
    base = load_scenario(ROOT / "scenarios/examples/assembly_line.yaml", ["horizon=2480", "replications=4"])
    faster = load_scenario(
        ROOT / "scenarios/examples/assembly_line.yaml", ["horizon=2480", "replications=4", "products.motor.arrival=1.9"]
    )
    frames = []
    for run_id, s in (("base", base), ("faster", faster)):
        frames.append(simulate(s).kpis.assign(run_id=run_id))
    return pd.concat(frames, ignore_index=True), ["base", "faster"]


@pytest.mark.slow
def test_verdicts_of_a_faster_takt() -> None:
    """Releasing a motor every 1.9 min instead of 2.0 raises throughput by 5.3% (2 / 1.9) in
    the long run; the interval holds it, and the verdict says so, good: more throughput is."""
    kpis, runs = stored_pair()
    table = verdict_table(kpis, runs)
    row = table[(table["run_id"] == "faster") & (table["kpi"] == "throughput")].iloc[0]
    assert row["effect"] == "better" and row["paired"]
    assert row["pct_low"] < 100 * (2.0 / 1.9 - 1) < row["pct_high"] + 0.5
    assert (table["ci_low"].dropna() >= 0).all()
    text = sentence(table, "faster", {"base": "takt 2.0", "faster": "takt 1.9"}, ["throughput"], "min")
    low, high = f"{row['pct_low']:.2g}%", f"{row['pct_high']:.2g}%"
    assert text == f"takt 1.9 raises throughput by {row['pct']:.2g}% (95% CI {low} to {high}) against takt 2.0."
    assert format_change(row, "jobs/min").startswith("+0.0")
    base_rows = table[table["run_id"] == "base"]
    assert set(base_rows["effect"]) == {"baseline"}


@pytest.mark.slow
def test_report_is_one_self_contained_page() -> None:
    kpis, runs = stored_pair()
    table = verdict_table(kpis, runs)
    html = comparison_report(table, {"base": "takt 2.0", "faster": "takt 1.9"}, ["throughput", "wip_mean"], "min")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 1
    assert "takt 1.9 raises throughput" in html
    assert "src=" not in html and "<script" not in html  # nothing to fetch: it can be mailed
