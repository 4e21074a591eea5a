"""Stations on deterministic lines: buffers, blocking after service, dispatching rules and
parallel machines, checked against timetables computed by hand."""

from __future__ import annotations

import pytest

from tests.helpers import job_records, run_plant, scenario, state_fractions, state_intervals
from twin.measure.experiment import run_replication
from twin.sim.log import JobEvent, MachineState

BUSY, IDLE, BLOCKED = MachineState.BUSY, MachineState.IDLE, MachineState.BLOCKED


def blocking_line(b_buffer: int, jobs: int = 5) -> dict[str, object]:
    """``jobs`` jobs released at 0 into a (1.0) -> b (2.0) with ``b_buffer`` places before b."""
    return {
        "stations": {"a": {"process_time": 1}, "b": {"process_time": 2, "buffer": b_buffer}},
        "products": {"w": {"release": [{"at": 0, "quantity": jobs}], "route": ["a", "b"]}},
    }


def test_blocking_after_service_timetable() -> None:
    """With no room before b, a holds each finished job (blocked) until b frees."""
    plant = run_plant(scenario(**blocking_line(b_buffer=0)))
    assert plant.env.now == 11.0  # 1 + 5 jobs x 2 on the bottleneck
    assert job_records(plant, JobEvent.START, "a") == [(0.0, 0, 0), (1.0, 1, 0), (3.0, 2, 0), (5.0, 3, 0), (7.0, 4, 0)]
    assert job_records(plant, JobEvent.FINISH, "a") == [(1.0, 0, 0), (2.0, 1, 0), (4.0, 2, 0), (6.0, 3, 0), (8.0, 4, 0)]
    # A held job enters b the moment b's machine frees, and starts at once.
    assert job_records(plant, JobEvent.ENTER, "b") == [
        (1.0, 0, -1),
        (3.0, 1, -1),
        (5.0, 2, -1),
        (7.0, 3, -1),
        (9.0, 4, -1),
    ]
    assert job_records(plant, JobEvent.START, "b") == [(1.0, 0, 0), (3.0, 1, 0), (5.0, 2, 0), (7.0, 3, 0), (9.0, 4, 0)]
    assert [t for t, _, _ in job_records(plant, JobEvent.EXIT)] == [3.0, 5.0, 7.0, 9.0, 11.0]
    assert state_intervals(plant, "a") == [
        (0.0, 2.0, BUSY),
        (2.0, 3.0, BLOCKED),
        (3.0, 4.0, BUSY),
        (4.0, 5.0, BLOCKED),
        (5.0, 6.0, BUSY),
        (6.0, 7.0, BLOCKED),
        (7.0, 8.0, BUSY),
        (8.0, 9.0, BLOCKED),
        (9.0, 11.0, IDLE),
    ]
    assert state_intervals(plant, "b") == [(0.0, 1.0, IDLE), (1.0, 11.0, BUSY)]
    assert state_fractions(plant, "a") == pytest.approx(
        {IDLE: 2 / 11, BUSY: 5 / 11, BLOCKED: 4 / 11}
        | {
            state: 0.0
            for state in (MachineState.SETUP, MachineState.DOWN, MachineState.OFF_SHIFT, MachineState.MAINTENANCE)
        }
    )


def test_buffer_place_delays_blocking() -> None:
    """One place before b lets a run one job further ahead before it blocks."""
    plant = run_plant(scenario(**blocking_line(b_buffer=1)))
    assert plant.env.now == 11.0
    assert job_records(plant, JobEvent.ENTER, "b") == [
        (1.0, 0, -1),
        (2.0, 1, -1),
        (3.0, 2, -1),
        (5.0, 3, -1),
        (7.0, 4, -1),
    ]
    assert job_records(plant, JobEvent.START, "b") == [(1.0, 0, 0), (3.0, 1, 0), (5.0, 2, 0), (7.0, 3, 0), (9.0, 4, 0)]
    assert state_intervals(plant, "a") == [
        (0.0, 4.0, BUSY),
        (4.0, 5.0, BLOCKED),
        (5.0, 6.0, BUSY),
        (6.0, 7.0, BLOCKED),
        (7.0, 11.0, IDLE),
    ]


def test_unlimited_buffer_never_blocks() -> None:
    """Without a buffer limit a runs its five jobs back to back."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 2}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["a", "b"]}},
    )
    plant = run_plant(s)
    assert state_intervals(plant, "a") == [(0.0, 5.0, BUSY), (5.0, 11.0, IDLE)]
    assert state_fractions(plant, "a")[BLOCKED] == 0.0


def test_open_line_throughput_is_one_over_bottleneck() -> None:
    """Arrivals every 0.5 overload a (1.0) -> b (2.0, no buffer): b sets the pace, a blocks half
    the time, and jobs pile up in a's unlimited buffer."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"process_time": 2, "buffer": 0}},
        products={"w": {"arrival": 0.5, "route": ["a", "b"]}},
        horizon=1000,
    )
    rep = run_replication(s, 0)
    # The first job arrives after one gap (0.5); job k leaves at 3.5 + 2k <= 1000, k = 0..498.
    assert rep.kpis["completed"] == 499
    assert rep.kpis["throughput"] == pytest.approx(0.499, abs=1e-12)
    # a: idle [0, 0.5], busy [0.5, 2.5], then blocked 1 and busy 1 per cycle of 2.
    assert rep.kpis["stations.a.starved"] == pytest.approx(0.0005, abs=1e-12)
    assert rep.kpis["stations.a.blocked"] == pytest.approx(0.499, abs=1e-12)
    assert rep.kpis["stations.a.utilization"] == pytest.approx(0.5005, abs=1e-12)
    assert rep.kpis["stations.b.utilization"] == pytest.approx(0.9985, abs=1e-12)
    assert rep.kpis["stations.b.blocked"] == 0.0
    assert (rep.arrived, rep.left, rep.in_system) == (1999, 499, 1500)


def test_blocked_at_the_entrance_waits_outside() -> None:
    """Jobs that find the first station full wait at the entrance: they count as arrived (WIP)
    but enter the buffer only when a place frees."""
    s = scenario(
        stations={"a": {"process_time": 3, "buffer": 1}},
        products={"w": {"release": [{"at": 0, "quantity": 4}], "route": ["a"]}},
    )
    plant = run_plant(s)
    assert [t for t, _, _ in job_records(plant, JobEvent.ARRIVE)] == [0.0, 0.0, 0.0, 0.0]
    # One on the machine, one in the single place; jobs 2 and 3 enter as places free.
    assert job_records(plant, JobEvent.ENTER, "a") == [(0.0, 0, -1), (0.0, 1, -1), (3.0, 2, -1), (6.0, 3, -1)]
    assert job_records(plant, JobEvent.START, "a") == [(0.0, 0, 0), (3.0, 1, 0), (6.0, 2, 0), (9.0, 3, 0)]
    assert plant.env.now == 12.0


# Dispatching: a "blocker" job (5.0) takes the machine at time 0; the four jobs behind it
# enter the buffer at 0 in the order a, b, c, d, and the rule orders them from time 5 on.
QUEUE = {
    "blocker": {"process_time": 5},
    "a": {"process_time": 3, "due": 40},
    "b": {"process_time": 1, "due": 50},
    "c": {"process_time": 4, "due": 20},
    "d": {"process_time": 2, "due": 30},
}


def queue_scenario(rule: str, queue: dict[str, dict[str, float]] = QUEUE) -> dict[str, object]:
    products = {
        name: {
            "release": [{"at": 0, "due": spec["due"]}] if "due" in spec else [{"at": 0}],
            "route": [{"station": "m", "process_time": spec["process_time"]}],
        }
        for name, spec in queue.items()
    }
    return {"stations": {"m": {"dispatching": rule}}, "products": products}


@pytest.mark.parametrize(
    ("rule", "order", "starts"),
    [
        ("fifo", ["a", "b", "c", "d"], [5, 8, 9, 13]),  # entry order
        ("lifo", ["d", "c", "b", "a"], [5, 7, 11, 12]),  # newest first, each time
        ("spt", ["b", "d", "a", "c"], [5, 6, 8, 11]),  # 1, 2, 3, 4
        ("lpt", ["c", "a", "d", "b"], [5, 9, 12, 14]),  # 4, 3, 2, 1
        ("edd", ["c", "d", "a", "b"], [5, 9, 11, 14]),  # due 20, 30, 40, 50
    ],
)
def test_rule_picks_the_right_job(rule: str, order: list[str], starts: list[float]) -> None:
    """Each rule orders a known queue as its definition says, with exact start times."""
    s = scenario(**queue_scenario(rule))
    plant = run_plant(s)
    names = list(s.products)
    started = job_records(plant, JobEvent.START, "m")
    assert started[0] == (0.0, 0, 0)  # the blocker: alone in the queue, so no choice
    assert [names[plant.log.job_product[job]] for _, job, _ in started[1:]] == order
    assert [t for t, _, _ in started[1:]] == starts
    assert plant.env.now == 15.0  # work is conserved whatever the order


@pytest.mark.parametrize("rule", ["spt", "lpt", "edd"])
def test_rule_ties_go_to_the_job_that_entered_first(rule: str) -> None:
    """Equal keys: the earlier entrant wins, so every rule is deterministic."""
    queue = {"blocker": {"process_time": 5}, "x": {"process_time": 2, "due": 9}, "y": {"process_time": 2, "due": 9}}
    plant = run_plant(scenario(**queue_scenario(rule, queue)))
    assert [job for _, job, _ in job_records(plant, JobEvent.START, "m")] == [0, 1, 2]


def test_edd_puts_jobs_without_due_date_last() -> None:
    """A job with no due date (inf) waits behind every job that has one."""
    queue = {"blocker": {"process_time": 5}, "free": {"process_time": 1}, "late": {"process_time": 1, "due": 1000}}
    plant = run_plant(scenario(**queue_scenario("edd", queue)))
    assert [job for _, job, _ in job_records(plant, JobEvent.START, "m")] == [0, 2, 1]


def test_spt_uses_the_route_steps_mean_process_time() -> None:
    """SPT reads the mean of the operation here, also when the time is random."""
    s = scenario(
        stations={"m": {"dispatching": "spt"}},
        products={
            "blocker": {"release": [{"at": 0}], "route": [{"station": "m", "process_time": 5}]},
            "long": {
                "release": [{"at": 0}],
                "route": [{"station": "m", "process_time": {"dist": "uniform", "low": 3, "high": 5}}],
            },
            "short": {
                "release": [{"at": 0}],
                "route": [{"station": "m", "process_time": {"dist": "exponential", "mean": 2}}],
            },
        },
    )
    plant = run_plant(s)
    assert [job for _, job, _ in job_records(plant, JobEvent.START, "m")] == [0, 2, 1]


def test_parallel_machines_share_one_buffer() -> None:
    """Two machines take five 4.0 jobs two at a time; the longest-idle machine goes first."""
    s = scenario(
        stations={"m": {"machines": 2, "process_time": 4}},
        products={"w": {"release": [{"at": 0, "quantity": 5}], "route": ["m"]}},
    )
    plant = run_plant(s)
    assert job_records(plant, JobEvent.START, "m") == [(0.0, 0, 0), (0.0, 1, 1), (4.0, 2, 0), (4.0, 3, 1), (8.0, 4, 0)]
    assert [t for t, _, _ in job_records(plant, JobEvent.EXIT)] == [4.0, 4.0, 8.0, 8.0, 12.0]
    assert plant.env.now == 12.0
    assert state_intervals(plant, "m", 1) == [(0.0, 8.0, BUSY), (8.0, 12.0, IDLE)]
    # Station fractions average over machines: 20 busy of 2 x 12 machine-time.
    assert state_fractions(plant, "m")[BUSY] == pytest.approx(20 / 24)


def test_parallel_machines_double_open_line_capacity() -> None:
    """Two 2.0 machines behind a 1.0 feeder keep pace with arrivals every 1.0: nothing blocks."""
    s = scenario(
        stations={"a": {"process_time": 1}, "b": {"machines": 2, "process_time": 2, "buffer": 0}},
        products={"w": {"arrival": 1, "route": ["a", "b"]}},
        horizon=100,
    )
    rep = run_replication(s, 0)
    # Job k arrives at k + 1 and leaves at k + 4; events at the horizon itself are not run, so
    # the last to leave is k = 95 at 99.
    assert rep.kpis["completed"] == 96
    assert rep.kpis["stations.a.blocked"] == 0.0
    assert rep.kpis["stations.a.wait_mean"] == 0.0
    # b's machines alternate: one busy from 2 on, the other from 3 on.
    assert rep.kpis["stations.b.utilization"] == pytest.approx((98 + 97) / 200, abs=1e-12)


@pytest.mark.parametrize(
    ("route_step", "product", "station", "expected"),
    [
        (7.0, 5.0, 3.0, 7.0),  # the route step's own time wins
        (None, 5.0, 3.0, 5.0),  # then the product's time for the station
        (None, None, 3.0, 3.0),  # then the station's default
    ],
)
def test_process_time_precedence(
    route_step: float | None, product: float | None, station: float, expected: float
) -> None:
    """Route step, then product, then station decides how long an operation takes."""
    step: dict[str, object] = {"station": "m"} if route_step is None else {"station": "m", "process_time": route_step}
    spec: dict[str, object] = {"route": [step]}
    if product is not None:
        spec["process_time"] = {"m": product}
    plant = run_plant(scenario(stations={"m": {"process_time": station}}, products={"w": spec}))
    assert plant.env.now == expected
