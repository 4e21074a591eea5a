"""Warm start: a plant placed as a plant state says, and the state of a running plant.

:func:`place` puts every job and machine of a :class:`~twin.scenario.state.PlantState` into a
freshly built :class:`~twin.sim.plant.Plant` whose clock starts at the state's time. What has
already run is taken into account (:func:`twin.scenario.residuals.residual`): a job processed
for 5 minutes has the rest of its operation drawn given that the operation exceeds 5; a
machine down for 40 minutes has the rest of its repair drawn given that it exceeds 40; the
time to the next failure of a machine of age ``a`` (calendar time or processing time since
its last repair, by the failure basis) is drawn given that it exceeds ``a``. Every placed job
is logged as far as the state tells (its ``ARRIVE`` at its arrival time; a job on a machine
``ENTER`` and ``START`` when its operation began, ``T - elapsed``; a job in a buffer ``ENTER``
at ``T``), so the KPIs of the window ``[T, T + H]`` count it like any other, except that the
waits of jobs already in a buffer count from ``T``.

:func:`snapshot` is the inverse: the state of a running plant, which a later run can start
from. :func:`warm_start_problems` refuses what the state cannot express: batches in the
making, kit stores, maintenance clocks, vehicles and jobs in transit. Operator pools join
their shift calendar where it is at the state's time, and each job in operation holds an
operator.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from twin.errors import Problem
from twin.scenario.residuals import residual
from twin.scenario.state import JobState, MachineStatus, PlantState, check_state, machine_indices
from twin.sim.job import Job
from twin.sim.log import JobEvent, MachineState

if TYPE_CHECKING:
    import numpy as np

    from twin.scenario import Scenario
    from twin.sim.plant import Plant
    from twin.sim.station import Machine

__all__ = ["place", "snapshot", "warm_start_problems"]

_ARRIVE, _ENTER, _START, _FINISH, _SETUP = (
    int(e) for e in (JobEvent.ARRIVE, JobEvent.ENTER, JobEvent.START, JobEvent.FINISH, JobEvent.SETUP)
)
_STATE_NAMES = {int(s): s.label for s in MachineState}


def warm_start_problems(scenario: Scenario, state: PlantState) -> list[Problem]:
    """Why ``scenario`` cannot start from ``state``: contradictions (:func:`check_state`) and
    features whose state a plant state does not hold (empty: it can)."""
    problems = check_state(state, scenario)
    unsupported = {
        "batch": "a batch station (batches in the making are not in a plant state)",
        "assemble": "an assembly station (kit stores of components are not in a plant state)",
        "maintenance": "preventive maintenance (maintenance clocks are not in a plant state)",
    }
    for name, spec in scenario.stations.items():
        for key, what in unsupported.items():
            if getattr(spec, key) is not None:
                problems.append(Problem(f"stations.{name}.{key}", f"warm start does not support {what}"))
    if scenario.transport is not None and scenario.transport.vehicles is not None:
        problems.append(
            Problem("transport.vehicles", "warm start does not support vehicles (their positions are not in a state)")
        )
    for i, job in enumerate(state.jobs):
        if job.where == "transit":
            problems.append(Problem(f"jobs[{i}].where", "warm start cannot place a job in transit", "transit"))
    return problems


def _generator(plant: Plant, name: str) -> np.random.Generator:
    return plant.streams.generator(f"warm:{name}")


def place(plant: Plant, state: PlantState) -> dict[int, str]:
    """Place ``state`` into ``plant`` (built with its clock at ``state.time``, nothing run yet);
    returns the state's job ids by the model's job ids.

    Raises:
        ValueError: the state contradicts the scenario, or needs a feature a warm start does
            not support (:func:`warm_start_problems`).
    """
    scenario = plant.scenario
    problems = warm_start_problems(scenario, state)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    indices = machine_indices(state, scenario)
    statuses = {(s.station, indices[(s.station, s.machine)]): s for s in state.machines}
    now = state.time
    times = _generator(plant, "process")
    ids: dict[int, str] = {}
    jobs = sorted(enumerate(state.jobs), key=lambda item: (_arrival(item[1], now), item[0]))
    made: dict[int, Job] = {}
    for order, spec in jobs:
        job = _make_job(plant, spec, now, times)
        made[order] = job
        ids[job.id] = spec.id
    for order, spec in enumerate(state.jobs):
        job = made[order]
        if spec.where == "buffer":
            plant.recorder.job(now, job.id, job.plan[job.step].station.index, -1, _ENTER)
            job.plan[job.step].station.queue.append(job)
    for station in plant.stations.values():
        for machine in station.machines:
            status = statuses.get((station.name, machine.index))
            _failure_clock(plant, machine, status)
            if status is not None and status.last_product is not None:
                machine.last_family = scenario.family(status.last_product)
    held: list[tuple[float, Job, Machine]] = []
    for order, spec in enumerate(state.jobs):
        if spec.where != "machine":
            continue
        assert spec.station is not None and spec.machine is not None
        index = indices[(spec.station, spec.machine)]
        machine = plant.stations[spec.station].machines[index]
        status = statuses.get((spec.station, index))
        if status is not None and status.state == "blocked":
            held.append((status.since, made[order], machine))
        else:
            _start(plant, made[order], machine, spec, status, now)
    for station in plant.stations.values():
        for machine in station.machines:
            _down(plant, machine, statuses.get((station.name, machine.index)), now)
    held.sort(key=lambda item: item[0])
    for since, job, machine in held:  # all taken first: a release below may dispatch
        _take(plant, job, machine, since)
    for _, job, machine in held:
        _hold(plant, job, machine, now)
    for order, spec in jobs:
        if spec.where == "entrance":
            job = made[order]
            job.plan[0].station.offer(job, None)
    for station in plant.stations.values():
        if station.free and station.queue:
            station.dispatch()
    return ids


def _arrival(spec: JobState, now: float) -> float:
    return now if spec.arrival is None else spec.arrival


def _make_job(plant: Plant, spec: JobState, now: float, rng: np.random.Generator) -> Job:
    """The model's job for ``spec``: process times of its remaining steps drawn (the current
    one given what has elapsed), its arrival logged."""
    scenario = plant.scenario
    index = list(scenario.products).index(spec.product)
    steps, _ = plant.plans[spec.product]
    due = math.inf if spec.due is None else spec.due
    times = [0.0] * len(steps)
    for step in range(spec.step, len(steps)):
        elapsed = spec.elapsed if step == spec.step else 0.0
        times[step] = residual(scenario.process_time(spec.product, step), elapsed, rng) + elapsed
    arrival = _arrival(spec, now)
    job_id = plant.recorder.new_job(index, due)
    job = Job(job_id, index, scenario.family(spec.product), steps, times, arrival, due)
    job.step = spec.step
    job.entered = now
    plant.recorder.job(arrival, job_id, -1, -1, _ARRIVE)
    plant.arrived += 1
    plant.in_system += 1
    return job


def _start(plant: Plant, job: Job, machine: Machine, spec: JobState, status: MachineStatus | None, now: float) -> None:
    """Put ``job`` on ``machine`` in the middle of its setup or operation (``spec.elapsed`` done)."""
    station = machine.station
    station.free.remove(machine)
    setup = None
    began = max(job.arrival, now - spec.elapsed)
    if status is not None and status.state == "setup" and station.setup_time is not None:
        spec_setup = plant.scenario.stations[station.name].setup
        assert spec_setup is not None
        began = status.since
        setup = residual(spec_setup.default, now - began, _generator(plant, f"setup:{station.name}"))
    # Logged when it began (as far as the state tells), so that the window from ``now`` counts
    # neither a wait nor a start that happened before it.
    plant.recorder.job(began, job.id, station.index, -1, _ENTER)
    plant.recorder.job(began, job.id, station.index, machine.index, _START if setup is None else _SETUP)
    if station.pool is not None:
        station.pool.take()  # its operator attends the setup or operation in hand
    machine.resume_from_state(job, job.times[job.step] - spec.elapsed, setup)


def _take(plant: Plant, job: Job, machine: Machine, since: float) -> None:
    """Put finished ``job`` on ``machine`` (no longer free); its records all before the window."""
    station = machine.station
    station.free.remove(machine)
    for kind in (_ENTER, _START, _FINISH):
        plant.recorder.job(since, job.id, station.index, -1 if kind == _ENTER else machine.index, kind)
    machine.job = job


def _hold(plant: Plant, job: Job, machine: Machine, now: float) -> None:
    """Send finished ``job`` on from ``machine``: to its next station if there is room, else
    it waits there, blocking the machine."""
    job.step += 1
    if job.step == len(job.plan):  # finished its route: nothing holds it back
        plant.recorder.job(now, job.id, -1, -1, int(JobEvent.EXIT))
        plant.job_left(job)
        machine.release()
        return
    if job.plan[job.step].station.offer(job, machine):
        machine.release()
    else:
        machine.hold()


def _failure_clock(plant: Plant, machine: Machine, status: MachineStatus | None) -> None:
    """A working machine of known age gets the rest of its time to failure given that age
    (processing time since its last repair for busy-basis failures, calendar time otherwise)."""
    failures = plant.scenario.stations[machine.station.name].failures
    if failures is None or status is None or status.state == "down":
        return
    age = status.worked if failures.basis == "busy" else status.age
    if age:
        rng = _generator(plant, f"ttf:{machine.station.name}:{machine.index}")
        machine.warm_failure_clock(residual(failures.ttf, age, rng))


def _down(plant: Plant, machine: Machine, status: MachineStatus | None, now: float) -> None:
    """A machine down in the state gets the rest of its repair given how long it has been down."""
    failures = plant.scenario.stations[machine.station.name].failures
    if status is None or status.state != "down":
        return
    if failures is None:
        raise ValueError(f"machine {status.machine} of '{status.station}' is down, but the station has no failures")
    rng = _generator(plant, f"ttr:{machine.station.name}:{machine.index}")
    machine.warm_down(residual(failures.ttr, now - status.since, rng))


def snapshot(plant: Plant) -> PlantState:
    """The state of ``plant`` now: jobs in buffers, on machines (processing time spent so
    far) and at the entrance, each machine's state, since when, and its age and processing
    time since its last repair (from its log).

    Raises:
        ValueError: a feature whose state a plant state does not hold holds jobs now (kit
            stores, batches, transport).
    """
    now = plant.env.now
    ids = plant.warm_ids
    taken = set(ids.values())
    scenario = plant.scenario
    families = {scenario.family(product): product for product in reversed(list(scenario.products))}
    history = _machine_history(plant)
    jobs: list[JobState] = []
    machines: list[MachineStatus] = []
    products = list(plant.scenario.products)

    def entry(job: Job, where: str, step: int, station: str | None, machine: str | None, elapsed: float) -> JobState:
        return JobState(
            id=ids.get(job.id) or _fresh_id(job.id, taken),
            product=products[job.product],
            step=step,
            where=where,
            station=station,
            machine=machine,
            elapsed=max(elapsed, 0.0),
            due=None if math.isinf(job.due) else job.due,
            arrival=job.arrival,
        )

    for station in plant.stations.values():
        if station.kits is not None or station.batching is not None or station.incoming:
            raise ValueError(f"station '{station.name}': kit stores, batches and transport are not in a plant state")
        jobs += [entry(job, "buffer", job.step, station.name, None, 0.0) for job in station.queue]
        for machine in station.machines:
            state = _STATE_NAMES[machine.state]
            since, renewed, worked = history[machine.gid]
            last = None if machine.last_family is None else families.get(machine.last_family)
            machines.append(
                MachineStatus(
                    station=station.name,
                    machine=str(machine.index),
                    state=state,
                    since=since,
                    age=now - renewed,
                    worked=worked,
                    last_product=last,
                )
            )
            job = machine.job
            if job is None:
                continue
            if machine.in_operation():
                left = machine.time_left(now) if not machine.down else machine.left
                done = job.times[job.step] - left if machine.state != int(MachineState.SETUP) else 0.0
                jobs.append(entry(job, "machine", job.step, station.name, str(machine.index), done))
            else:
                jobs.append(entry(job, "machine", _held_step(job, machine), station.name, str(machine.index), 0.0))
        jobs += [entry(job, "entrance", 0, None, None, 0.0) for job, holder in station.waiting if holder is None]
    return PlantState(time=now, jobs=jobs, machines=machines)


def _fresh_id(job: int, taken: set[str]) -> str:
    """The id of a job that arrived after a warm start: its number, primed if a job of the
    state already has that id."""
    name = str(job)
    while name in taken:
        name += "'"
    return name


def _held_step(job: Job, machine: Machine) -> int:
    """The route step of a finished job still on ``machine``: the one before its next, or,
    when rework sent it back, the first step after that at this station."""
    if job.step > 0 and job.plan[job.step - 1].station is machine.station:
        return job.step - 1
    later = [k for k in range(job.step, len(job.plan)) if job.plan[k].station is machine.station]
    return later[0] if later else max(job.step - 1, 0)


def _machine_history(plant: Plant) -> list[tuple[float, float, float]]:
    """Per machine (plant-wide number): when it entered its current state, when it was last
    renewed (its last repair or maintenance ended, or the start), and the processing time
    since then, from the state records of its log."""
    columns = plant.log.columns()
    count = sum(len(station.machines) for station in plant.stations.values())
    since = [plant.start] * count
    renewed = [plant.start] * count
    worked = [0.0] * count
    state = [-1] * count
    busy, out = int(MachineState.BUSY), (int(MachineState.DOWN), int(MachineState.MAINTENANCE))
    records = zip(
        columns["state_machine"].tolist(), columns["state_time"].tolist(), columns["state_code"].tolist(), strict=True
    )
    for machine, time, code in records:
        if state[machine] == busy:
            worked[machine] += time - since[machine]
        if state[machine] in out and code not in out:
            renewed[machine], worked[machine] = time, 0.0
        since[machine], state[machine] = time, code
    now = plant.env.now
    return [(since[m], renewed[m], worked[m] + (now - since[m] if state[m] == busy else 0.0)) for m in range(count)]
