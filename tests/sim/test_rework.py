"""Rework: visit rates of a Jackson network with feedback, fresh process times for the
operations done again, scrap and rework as exclusive outcomes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from tests.helpers import job_records, run_plant, scenario
from tests.queueing import feedback_visits
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent


def loop(probability: float | None, to: str, horizon: float = 60_000, **b: Any) -> Any:
    """Poisson arrivals (mean 2) through a then b (exponential, mean 0.5 each); b sends a
    share ``probability`` of its jobs back to ``to`` (None: no rework)."""
    exp = {"dist": "exponential", "mean": 0.5}
    if probability is not None:
        b["rework"] = {"probability": probability, "to": to}
    return scenario(
        stations={"a": {"process_time": exp}, "b": {"process_time": exp, **b}},
        products={"w": {"arrival": {"dist": "exponential", "mean": 2.0}, "route": ["a", "b"]}},
        horizon=horizon,
        warmup=horizon / 100,
        seed=3,
    )


def visits_per_job(plant: Any, station: str) -> float:
    """Mean operations at ``station`` of the jobs that left the plant complete."""
    done = {job for _, job, _ in job_records(plant, JobEvent.EXIT)}
    starts = Counter(job for _, job, _ in job_records(plant, JobEvent.START, station) if job in done)
    return sum(starts.values()) / len(done)


@pytest.mark.slow
@pytest.mark.parametrize(("probability", "to"), [(0.1, "a"), (0.3, "a"), (0.5, "b")])
def test_visit_rate_of_a_feedback_loop_is_one_over_one_minus_p(probability: float, to: str) -> None:
    """Back to a (or to b itself) with probability p after b: every station of the loop is
    visited 1 / (1 - p) times per job, within 2%, and is busy lambda / (1 - p) x E[S]."""
    plant = run_plant(loop(probability, to))
    expected = feedback_visits(probability)
    for station in ("a", "b") if to == "a" else ("b",):
        assert visits_per_job(plant, station) == pytest.approx(expected, rel=0.02)
    rep = run_replication(loop(probability, to), 0)
    assert rep.kpis["stations.b.utilization"] == pytest.approx(0.5 * expected * 0.5, rel=0.02)
    if to == "b":
        assert rep.kpis["stations.a.utilization"] == pytest.approx(0.25, rel=0.02)
    assert rep.kpis["reworked"] / rep.kpis["completed"] == pytest.approx(expected - 1, rel=0.05)


def test_operations_done_again_get_fresh_process_times() -> None:
    """A reworked job's second operation at a does not repeat its first one's time."""
    plant = run_plant(loop(0.5, "a", horizon=2000))
    durations: dict[int, list[float]] = {}
    started: dict[int, float] = {}
    for t, job, _ in sorted(job_records(plant, JobEvent.START, "a") + job_records(plant, JobEvent.FINISH, "a")):
        if job in started:
            durations.setdefault(job, []).append(t - started.pop(job))
        else:
            started[job] = t
    repeated = [times for times in durations.values() if len(times) > 1]
    assert len(repeated) > 100
    assert all(len(set(times)) == len(times) for times in repeated)


def test_first_pass_times_keep_their_common_random_numbers() -> None:
    """Adding rework at b leaves the first operation of every job at a as it was."""
    plain = run_plant(
        loop(0.3, "a", horizon=500).model_copy(
            update={
                "stations": {
                    **loop(0.3, "a").stations,
                    "b": loop(0.3, "a").stations["b"].model_copy(update={"rework": None}),
                }
            }
        )
    )
    reworked = run_plant(loop(0.3, "a", horizon=500))

    def first_times(plant: Any) -> dict[int, float]:
        first: dict[int, float] = {}
        starts = {}
        for t, job, _ in job_records(plant, JobEvent.START, "a"):
            starts.setdefault(job, t)
        for t, job, _ in job_records(plant, JobEvent.FINISH, "a"):
            first.setdefault(job, t - starts[job])
        return first

    before, after = first_times(plain), first_times(reworked)
    shared = sorted(set(before) & set(after))
    assert len(shared) > 100
    np.testing.assert_allclose([after[j] for j in shared], [before[j] for j in shared], rtol=1e-12)


def test_a_reworked_job_goes_back_at_once() -> None:
    """REWORK at b, then ENTER at a at the same instant, then the route from a again."""
    plant = run_plant(loop(0.3, "a", horizon=500))
    enters = {(job, t) for t, job, _ in job_records(plant, JobEvent.ENTER, "a")}
    reworks = job_records(plant, JobEvent.REWORK, "b")
    assert reworks
    assert all((job, t) in enters for t, job, _ in reworks)


@pytest.mark.slow
def test_scrap_and_rework_are_exclusive_shares_of_the_finished_jobs() -> None:
    """Scrap 0.1 and rework 0.2 at b: of b's finished jobs, 10% scrapped, 20% reworked."""
    plant = run_plant(loop(0.2, "a", horizon=20_000, scrap=0.1))
    finished = len(job_records(plant, JobEvent.FINISH, "b"))
    assert len(job_records(plant, JobEvent.SCRAP, "b")) / finished == pytest.approx(0.1, abs=0.01)
    assert len(job_records(plant, JobEvent.REWORK, "b")) / finished == pytest.approx(0.2, abs=0.01)
    rep = run_replication(loop(0.2, "a", horizon=20_000, scrap=0.1), 0)
    # OEE's quality counts neither scrapped nor reworked jobs as good.
    assert rep.kpis["stations.b.oee"] == pytest.approx(rep.kpis["stations.b.utilization"] * 0.7, rel=0.03)
