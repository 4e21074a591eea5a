"""Property tests on small random lines: what must hold for every scenario and seed.

Lines have 1-4 stations with random machines, buffers, rules and process times, optionally
failures, scrap and a shared operator pool with shifts; products follow random routes (a
station may repeat). Each run is short, so Hypothesis can try many of them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.dispatching import rule_names
from twin.measure.kpi import STATE_KPIS, compute_kpis
from twin.scenario import Scenario, parse_scenario
from twin.sim.log import JobEvent, MachineState
from twin.sim.operators import shift_changes
from twin.sim.plant import Plant

POSITIVE_TIMES = st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])


@st.composite
def distributions(draw: st.DrawFn, means: st.SearchStrategy[float] = POSITIVE_TIMES) -> Any:
    """A constant (often, so that events tie) or a random time around a mean."""
    mean = draw(means)
    kind = draw(st.sampled_from(["constant", "constant", "exponential", "uniform", "normal"]))
    if kind == "constant" or mean == 0:
        return mean
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "uniform":
        return {"dist": "uniform", "low": mean / 2, "high": mean * 1.5}
    return {"dist": "normal", "mean": mean, "sd": mean / 3}


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    """Plain scenario data of a small random line."""
    names = [f"s{i}" for i in range(draw(st.integers(1, 4)))]
    crew = draw(st.booleans())
    stations: dict[str, Any] = {}
    for name in names:
        spec: dict[str, Any] = {
            "machines": draw(st.integers(1, 3)),
            "process_time": draw(distributions(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]))),
            "dispatching": draw(st.sampled_from(rule_names())),
        }
        buffer = draw(st.none() | st.integers(0, 3))
        if buffer is not None:
            spec["buffer"] = buffer
        if draw(st.booleans()):
            spec["failures"] = {
                "ttf": draw(distributions(st.sampled_from([3.0, 10.0, 30.0]))),
                "ttr": draw(distributions()),
                "basis": draw(st.sampled_from(["busy", "calendar"])),
            }
        if draw(st.booleans()):
            spec["scrap"] = draw(st.sampled_from([0.1, 0.3]))
        if draw(st.booleans()):
            spec["setup"] = {"default": draw(distributions())}
        if crew and draw(st.booleans()):
            spec["operator"] = "crew"
        stations[name] = spec
    products: dict[str, Any] = {}
    for p in range(draw(st.integers(1, 2))):
        product: dict[str, Any] = {"route": draw(st.lists(st.sampled_from(names), min_size=1, max_size=4))}
        if draw(st.booleans()):
            product["arrival"] = draw(distributions(st.sampled_from([0.5, 1.0, 2.0])))
        else:
            product["release"] = [
                {"at": float(t), "quantity": q, "due": 30.0}
                for t, q in draw(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 5)), min_size=1, max_size=3))
            ]
        if draw(st.booleans()):
            product["due_date" if "arrival" in product else "family"] = {"slack": 10.0} if "arrival" in product else "F"
        products[f"p{p}"] = product
    data: dict[str, Any] = {
        "name": "random",
        "horizon": draw(st.sampled_from([30.0, 60.0, 120.0])),
        "products": products,
        "stations": stations,
        "seed": draw(st.integers(0, 2**16)),
    }
    if crew:
        pool: dict[str, Any] = {"count": draw(st.integers(1, 2))}
        if draw(st.booleans()):
            pool["shifts"] = {
                "period": 20.0,
                "shifts": [{"start": 0.0, "end": draw(st.sampled_from([5.0, 10.0, 15.0]))}],
            }
        data["operators"] = {"crew": pool}
    return data


def run(data: dict[str, Any]) -> tuple[Scenario, Plant, dict[str, np.ndarray]]:
    s = parse_scenario(data)
    plant = Plant(s)
    plant.run()
    return s, plant, plant.log.columns()


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(lines())
def test_jobs_in_equal_jobs_out_plus_wip(data: dict[str, Any]) -> None:
    """ARRIVE records = EXIT + SCRAP records + jobs inside at the end; the plant's counters
    agree with its log."""
    _, plant, cols = run(data)
    kind = cols["job_kind"]
    arrived = int(np.sum(kind == JobEvent.ARRIVE))
    left = int(np.sum(kind == JobEvent.EXIT) + np.sum(kind == JobEvent.SCRAP))
    assert arrived == plant.arrived == len(cols["job_product"])
    assert left == plant.left
    assert plant.arrived == plant.left + plant.in_system


@SETTINGS
@given(lines())
def test_event_times_never_decrease(data: dict[str, Any]) -> None:
    """Both record streams are in time order and inside [0, end]."""
    _, plant, cols = run(data)
    for column in ("job_time", "state_time"):
        times = cols[column]
        assert np.all(np.diff(times) >= 0), column
        assert np.all((times >= 0) & (times <= plant.env.now)), column


@SETTINGS
@given(lines())
def test_state_fractions_sum_to_one(data: dict[str, Any]) -> None:
    """Per station, utilisation + starved + blocked + down + setup + off_shift = 1, each in
    [0, 1], over the whole run and over a window after a warm-up."""
    s, plant, _ = run(data)
    end = plant.env.now
    for start in (0.0, end / 3):
        kpis = compute_kpis(plant.log, s, start, end)
        for name in s.stations:
            fractions = [kpis[f"stations.{name}.{kpi}"] for kpi in STATE_KPIS.values()]
            assert all(0.0 <= f <= 1.0 + 1e-12 for f in fractions), (name, fractions)
            assert abs(sum(fractions) - 1.0) < 1e-9, (name, fractions)


@SETTINGS
@given(lines())
def test_every_job_follows_its_route(data: dict[str, Any]) -> None:
    """Each job's records read ARRIVE, then at each route station in order ENTER, (SETUP,)
    START, FINISH, then EXIT after the last (or SCRAP right after some FINISH), or stop where
    the run ended."""
    s, _, cols = run(data)
    routes = [[list(s.stations).index(op.station) for op in product.route] for product in s.products.values()]
    history: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for job, kind, station in zip(cols["job_id"], cols["job_kind"], cols["job_station"], strict=True):
        if kind != JobEvent.SETUP:  # optional: checked to sit between ENTER and START below
            history[int(job)].append((int(kind), int(station)))
        else:
            assert history[int(job)][-1] == (JobEvent.ENTER, int(station))
    for job, records in history.items():
        route = routes[cols["job_product"][job]]
        assert records[0] == (JobEvent.ARRIVE, -1)
        expected = [(int(k), station) for station in route for k in (JobEvent.ENTER, JobEvent.START, JobEvent.FINISH)]
        body = records[1:]
        if body and body[-1][0] == JobEvent.EXIT:
            assert body[:-1] == expected
        elif body and body[-1][0] == JobEvent.SCRAP:
            assert body[-2][0] == JobEvent.FINISH and body[-1][1] == body[-2][1]
            assert body[:-1] == expected[: len(body) - 1]
        else:
            assert body == expected[: len(body)]


@SETTINGS
@given(lines())
def test_machines_hold_one_job_and_buffers_hold_their_capacity(data: dict[str, Any]) -> None:
    """Per machine START and FINISH alternate; the jobs waiting before a station, counted once
    every record at an instant is in, never exceed its buffer, also while its machines wait
    for an operator."""
    s, _, cols = run(data)
    kind, station, machine, time = cols["job_kind"], cols["job_station"], cols["job_machine"], cols["job_time"]
    last: dict[tuple[int, int], int] = {}
    for k, st_, m in zip(kind, station, machine, strict=True):
        if k in (JobEvent.START, JobEvent.FINISH):
            key = (int(st_), int(m))
            assert last.get(key, JobEvent.FINISH) != k, key
            last[key] = int(k)
    job = cols["job_id"]
    for index, spec in enumerate(s.stations.values()):
        if spec.buffer is None:
            continue
        # A job leaves the buffer at its SETUP record, or at START when there is no setup.
        waiting: set[int] = set()
        here = np.flatnonzero(station == index)
        for n, i in enumerate(here):
            if kind[i] == JobEvent.ENTER:
                waiting.add(int(job[i]))
            elif kind[i] in (JobEvent.SETUP, JobEvent.START):
                waiting.discard(int(job[i]))
            if n + 1 == len(here) or time[here[n + 1]] != time[i]:  # the instant is complete
                assert len(waiting) <= spec.buffer, (index, float(time[i]), len(waiting), spec.buffer)


@SETTINGS
@given(lines())
def test_operators_are_never_overcommitted(data: dict[str, Any]) -> None:
    """Machines in setup or busy at the pool's stations never outnumber its operators, and no
    operation starts outside a shift."""
    s, plant, cols = run(data)
    if not s.operators:
        return
    spec = s.operators["crew"]
    crewed = [i for i, st_ in enumerate(s.stations.values()) if st_.operator == "crew"]
    gids = {m.gid for i, st_ in enumerate(plant.stations.values()) if i in crewed for m in st_.machines}
    state: dict[int, int] = {}
    times, machines, codes = cols["state_time"], cols["state_machine"], cols["state_code"]
    for i, (t, m, c) in enumerate(zip(times, machines, codes, strict=True)):
        if int(m) in gids:
            state[int(m)] = int(c)
        if i + 1 == len(times) or times[i + 1] != t:
            working = sum(1 for c_ in state.values() if c_ in (MachineState.BUSY, MachineState.SETUP))
            assert working <= spec.count
    if spec.shifts is None:
        return
    changes = shift_changes(spec)
    # A START after a setup may fall off shift (the operator finishes what was begun), so only
    # stations without setups have START records that begin the operator's work. Setups begin
    # at their SETUP job event; a SETUP state record after a repair resumes one begun on shift.
    plain = [i for i in crewed if list(s.stations.values())[i].setup is None]
    kind, station = cols["job_kind"], cols["job_station"]
    starts = cols["job_time"][(kind == JobEvent.START) & np.isin(station, plain)]
    setups = cols["job_time"][(kind == JobEvent.SETUP) & np.isin(station, crewed)]
    for t in np.concatenate([starts, setups]):
        phase = float(t) % spec.shifts.period
        present = [count for at, count in changes if at <= phase][-1]  # changes are sorted
        # The instant a shift ends still counts: events due then may run before the change.
        on_at_end = any(phase == at and count == 0 for at, count in changes)
        assert present > 0 or on_at_end, (t, phase, changes)
