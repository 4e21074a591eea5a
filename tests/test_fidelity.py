"""Fidelity against queueing theory: the KPIs of each scenario in ``scenarios/validation``
match the exact answer computed (in ``tests/queueing.py``) from the scenario's own numbers.

Each check asks three things of a KPI: its 95% confidence interval is narrow (half-width
within the tolerance, so the test can tell a wrong model from noise), its mean lies within
the tolerance of the exact value, and the exact value lies inside its 99% interval. The
runs use fixed seeds, so the outcome is deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import twin
from tests.queueing import (
    availability,
    completion_time_moments,
    mm1_wait,
    mmc_wait,
    pk_wait,
    second_moment,
    setup_wait,
    two_machine_line,
)
from twin.scenario import Failures

VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"

WAIT_TOL = 0.05
"""Relative, for waits: at 80% load successive waits are strongly correlated."""
TIME_TOL = 0.04
"""Relative, for lead times and WIP."""
RATE_TOL = 0.02
"""Relative, for throughputs."""
FRACTION_TOL = 0.01
"""Absolute, for fractions of time in a machine state."""


class Measured:
    """The KPIs of one simulated validation scenario, with the checks against theory."""

    def __init__(self, file: str, *overrides: str) -> None:
        self.scenario = twin.load_scenario(VALIDATION / file, overrides=overrides)
        result = twin.simulate(self.scenario, keep_events=False)
        self.kpis = result.kpis
        self.ci95 = result.summary_dict(0.95)
        self.ci99 = result.summary_dict(0.99)

    def check(self, kpi: str, expected: float, rel_tol: float = 0.0, abs_tol: float = 0.0) -> None:
        """Assert that the 95% CI half-width of ``kpi`` and its mean's distance from ``expected``
        are both within ``max(rel_tol * |expected|, abs_tol)``, and that ``expected`` lies in
        the 99% CI."""
        allowed = max(rel_tol * abs(expected), abs_tol)
        mean, low, high = (self.ci95[kpi][key] for key in ("mean", "ci_low", "ci_high"))
        low99, high99 = self.ci99[kpi]["ci_low"], self.ci99[kpi]["ci_high"]
        shown = f"{kpi}: measured {mean:.4f} (95% CI {low:.4f}..{high:.4f}), exact {expected:.4f}"
        assert (high - low) / 2 <= allowed, f"{shown}: CI wider than the tolerance {allowed:.4f}"
        assert abs(mean - expected) <= allowed, f"{shown}: off by more than {allowed:.4f}"
        assert low99 <= expected <= high99, f"{shown}: outside the 99% CI {low99:.4f}..{high99:.4f}"

    def never(self, kpi: str) -> None:
        """Assert that ``kpi`` (a state fraction) is 0 in every replication."""
        assert self.kpis[kpi].max() == 0.0, f"{kpi}: {self.kpis[kpi].tolist()}"

    def arrival_rate(self) -> float:
        """Jobs per time unit of the open stream of product ``job``."""
        arrival = self.scenario.products["job"].arrival
        assert arrival is not None, "validation scenario needs an arrival stream"
        return 1 / arrival.mean

    def failures(self, station: str) -> Failures:
        """The failure spec of ``station``."""
        failures = self.scenario.stations[station].failures
        assert failures is not None, f"station {station!r} needs failures"
        return failures

    def check_open_station(
        self, station: str, arrival_rate: float, wait: float, on_machine: float, utilization: float
    ) -> None:
        """A lone station fed at ``arrival_rate``: wait Wq, lead time W = Wq + time on the
        machine, WIP L = lambda W (Little), utilization, and throughput = lambda."""
        lead_time = wait + on_machine
        self.check(f"stations.{station}.wait_mean", wait, rel_tol=WAIT_TOL)
        self.check("lead_time_mean", lead_time, rel_tol=TIME_TOL)
        self.check("wip_mean", arrival_rate * lead_time, rel_tol=TIME_TOL)
        self.check(f"stations.{station}.utilization", utilization, abs_tol=FRACTION_TOL)
        self.check("throughput", arrival_rate, rel_tol=RATE_TOL)


@pytest.mark.slow
def test_mm1_matches_rho_over_mu_minus_lambda() -> None:
    run = Measured("mm1.yaml")
    lam, mu = run.arrival_rate(), 1 / run.scenario.process_time("job", 0).mean
    run.check_open_station("server", lam, mm1_wait(lam, mu), 1 / mu, lam / mu)


@pytest.mark.slow
def test_mmc_matches_erlang_c() -> None:
    run = Measured("mmc.yaml")
    lam, mu = run.arrival_rate(), 1 / run.scenario.process_time("job", 0).mean
    servers = run.scenario.stations["cell"].machines
    run.check_open_station("cell", lam, mmc_wait(lam, mu, servers), 1 / mu, lam / (servers * mu))


@pytest.mark.slow
def test_md1_matches_pollaczek_khinchine() -> None:
    run = Measured("md1.yaml")
    lam, service = run.arrival_rate(), run.scenario.process_time("job", 0)
    wait = pk_wait(lam, service.mean, second_moment(service))
    run.check_open_station("server", lam, wait, service.mean, lam * service.mean)


@pytest.mark.slow
def test_jackson_tandem_is_a_product_of_mm1_queues() -> None:
    run = Measured("jackson_tandem.yaml")
    lam = run.arrival_rate()
    lead_time = 0.0
    for step, operation in enumerate(run.scenario.products["job"].route):
        mu = 1 / run.scenario.process_time("job", step).mean
        run.check(f"stations.{operation.station}.wait_mean", mm1_wait(lam, mu), rel_tol=WAIT_TOL)
        run.check(f"stations.{operation.station}.utilization", lam / mu, abs_tol=FRACTION_TOL)
        lead_time += 1 / (mu - lam)
    run.check("lead_time_mean", lead_time, rel_tol=TIME_TOL)
    run.check("wip_mean", lam * lead_time, rel_tol=TIME_TOL)
    run.check("throughput", lam, rel_tol=RATE_TOL)


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [(), ("stations.m2.buffer=0",)], ids=["buffer-2", "buffer-0"])
def test_two_machine_line_matches_birth_death_chain(overrides: tuple[str, ...]) -> None:
    run = Measured("two_machine_buffer.yaml", *overrides)
    mu1, mu2 = (1 / run.scenario.process_time("job", step).mean for step in (0, 1))
    buffer = run.scenario.stations["m2"].buffer
    assert buffer is not None
    pi = two_machine_line(mu1, mu2, buffer)
    throughput = mu2 * (1 - pi[0])
    assert math.isclose(throughput, mu1 * (1 - pi[-1]))
    in_buffer = sum(min(max(n - 1, 0), buffer) * p for n, p in enumerate(pi))
    run.never("stations.m1.starved")  # the release saturates M1 up to the horizon
    run.check("throughput", throughput, rel_tol=RATE_TOL)
    run.check("stations.m1.blocked", pi[-1], abs_tol=FRACTION_TOL)
    run.check("stations.m1.utilization", 1 - pi[-1], abs_tol=FRACTION_TOL)
    run.check("stations.m2.starved", pi[0], abs_tol=FRACTION_TOL)
    run.check("stations.m2.utilization", 1 - pi[0], abs_tol=FRACTION_TOL)
    run.check("stations.m2.wait_mean", in_buffer / throughput, rel_tol=WAIT_TOL)


@pytest.mark.slow
@pytest.mark.parametrize("basis", ["busy", "calendar"])
def test_saturated_failing_machine_runs_at_its_availability(basis: str) -> None:
    run = Measured("failing_machine.yaml", f"stations.press.failures.basis={basis}")
    failures = run.failures("press")
    up = availability(failures.ttf.mean, failures.ttr.mean)
    run.never("stations.press.starved")  # the release saturates the press up to the horizon
    run.check("throughput", up / run.scenario.process_time("job", 0).mean, rel_tol=RATE_TOL)
    run.check("stations.press.utilization", up, abs_tol=FRACTION_TOL)
    run.check("stations.press.down", 1 - up, abs_tol=FRACTION_TOL)


@pytest.mark.slow
@pytest.mark.parametrize("basis", ["busy", "calendar"])
def test_breakdowns_match_completion_time_queue(basis: str) -> None:
    run = Measured("breakdowns_mg1.yaml", f"stations.mill.failures.basis={basis}")
    lam, service = run.arrival_rate(), run.scenario.process_time("job", 0)
    failures = run.failures("mill")
    failure_rate, repair = 1 / failures.ttf.mean, failures.ttr
    on_machine, second = completion_time_moments(
        service.mean, second_moment(service), failure_rate, repair.mean, second_moment(repair)
    )
    wait = pk_wait(lam, on_machine, second)
    utilization = lam * service.mean
    if basis == "busy":
        down = utilization * repair.mean / failures.ttf.mean
    else:
        # An idle machine fails too: the first job of a busy period finds it down with
        # probability q and then waits for the rest of the repair (exponential, memoryless).
        q = failure_rate / (failure_rate + lam + 1 / repair.mean)
        wait += setup_wait(lam, q * repair.mean, q * second_moment(repair))
        down = 1 - availability(failures.ttf.mean, repair.mean)
    run.check_open_station("mill", lam, wait, on_machine, utilization)
    run.check("stations.mill.down", down, abs_tol=FRACTION_TOL)
