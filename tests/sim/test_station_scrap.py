"""Scrap: a finished job is scrapped with the station's probability and leaves the plant."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import job_records, run_plant, scenario
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent


def scrap_line(p: float, horizon: float = 20_000) -> object:
    """a (scrap ``p``) -> b, both 1.0, one arrival per 1.0: nothing waits."""
    return scenario(
        stations={"a": {"process_time": 1, "scrap": p}, "b": {"process_time": 1}},
        products={"w": {"arrival": 1, "route": ["a", "b"]}},
        horizon=horizon,
    )


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5])
def test_scrapped_fraction_matches_probability(p: float) -> None:
    """Scrapped / finished at a ~ p (20,000 trials: standard error <= 0.0036)."""
    plant = run_plant(scrap_line(p))
    finished = len(job_records(plant, JobEvent.FINISH, "a"))
    scrapped = len(job_records(plant, JobEvent.SCRAP, "a"))
    assert scrapped / finished == pytest.approx(p, abs=0.015)


def test_scrapped_jobs_leave_the_plant() -> None:
    """A job scrapped at a never enters b, never exits, and leaves the WIP."""
    plant = run_plant(scrap_line(0.3, horizon=500))
    scrapped = {job for _, job, _ in job_records(plant, JobEvent.SCRAP)}
    entered_b = {job for _, job, _ in job_records(plant, JobEvent.ENTER, "b")}
    exited = {job for _, job, _ in job_records(plant, JobEvent.EXIT)}
    assert scrapped
    assert not scrapped & entered_b
    assert not scrapped & exited
    arrived = len(job_records(plant, JobEvent.ARRIVE))
    assert len(exited) + len(scrapped) + plant.in_system == arrived == plant.arrived
    assert plant.left == len(exited) + len(scrapped)
    # Scrap is decided when the operation finishes: same time as the FINISH record.
    finishes = {job: t for t, job, _ in job_records(plant, JobEvent.FINISH, "a")}
    assert all(finishes[job] == t for t, job, _ in job_records(plant, JobEvent.SCRAP))


def test_scrap_kpis() -> None:
    """`scrapped` counts SCRAP records; OEE quality at a is the good share of its output."""
    s = scrap_line(0.3, horizon=500)
    rep = run_replication(s, 0, keep_log=True)
    assert rep.log is not None
    cols = rep.log.columns()
    scrapped = int(np.sum(cols["job_kind"] == JobEvent.SCRAP))
    finished_a = int(np.sum((cols["job_kind"] == JobEvent.FINISH) & (cols["job_station"] == 0)))
    assert rep.kpis["scrapped"] == scrapped
    # Ideal time 1.0 per operation: OEE = good output x 1.0 / planned time (the horizon).
    assert rep.kpis["stations.a.oee"] == pytest.approx((finished_a - scrapped) / 500, rel=1e-12)


def test_scrap_at_the_last_station_prevents_the_exit() -> None:
    """Scrap 0 at a and 0.999... at b: almost nobody completes, everybody finishes at b."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 1, "scrap": 0.999}},
        products={"w": {"release": [{"at": 0, "quantity": 50}], "route": ["a", "b"]}},
    )
    plant = run_plant(s)
    assert len(job_records(plant, JobEvent.FINISH, "b")) == 50
    assert len(job_records(plant, JobEvent.SCRAP, "b")) + len(job_records(plant, JobEvent.EXIT)) == 50
    assert len(job_records(plant, JobEvent.SCRAP, "b")) >= 45
    assert plant.in_system == 0
