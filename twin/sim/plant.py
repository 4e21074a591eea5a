"""The plant: builds stations, operator pools and job sources from a scenario and runs them.

It also attaches the optional features a scenario declares (maintenance, batching, assembly
kits, rework, transport legs and the vehicle fleet), each with its own named random streams;
stations without them run the plain hot path. One :class:`Plant` is one replication.
Building and running it does no I/O and reads no clock: it only appends to its
:class:`~twin.sim.log.EventLog`, or, when the log is not asked for, adds to a
:class:`~twin.sim.tally.KpiTally` of the KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from itertools import repeat
from typing import TYPE_CHECKING

from simpy import Environment, Event, Timeout

from twin.dispatching import Rule, RuleContext, make_rule
from twin.errors import SimulationStalled
from twin.scenario import Order, Product, Scenario, shortest_paths
from twin.scenario import Station as StationSpec
from twin.scenario.distributions import BLOCK, Sampler, row_sampler
from twin.scenario.flows import moves, rework_step
from twin.scenario.routes import route_times, station_means
from twin.sim import warmstart
from twin.sim.alarm import Alarm
from twin.sim.assembly import AssemblyKits
from twin.sim.batching import Batching, BatchMachine
from twin.sim.job import Job, Step
from twin.sim.lean import LeanStation, lean_station
from twin.sim.log import EventLog, Recorder
from twin.sim.maintenance import Upkeep
from twin.sim.operators import OperatorPool
from twin.sim.rework import Rework
from twin.sim.station import Dispatcher, FailureModel, Station
from twin.sim.streams import RandomStreams
from twin.sim.tally import KpiTally
from twin.sim.transport import Fleet, Leg, TimedLeg, VehicleLeg

if TYPE_CHECKING:
    from twin.scenario.state import PlantState

__all__ = ["Plant", "SimulationStalled"]

_ONE_AT_ZERO = Order(at=0.0)
"""The release of a product without arrivals or orders: one job at time 0 (validated once)."""


class Plant:
    """One replication of a scenario, ready to :meth:`run`.

    Args:
        scenario: the validated scenario.
        seed: base seed (the scenario's own when None).
        replication: which replication; selects independent random streams.
        dispatchers: per-station dispatchers replacing the scenario's rules (e.g. an agent).
        on_decision: called with the station when a dispatcher defers its choice.
        state: start from this plant state (:mod:`twin.sim.warmstart`) instead of from empty:
            the clock starts at its time and the horizon counts from there.
        events: record the full event log (``log``); when False, a run with a horizon and
            no vehicle fleet keeps only the KPI sums (``tally``), in a fraction of the time
            and memory (a run without a horizon, or with vehicles, records the log anyway).
        kpi_start: where the tally's window starts (default: the scenario's warm-up after
            the start, none from a ``state``); it ends at the horizon.

    Raises:
        ValueError: ``state`` contradicts the scenario or needs a feature a warm start does
            not support.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        replication: int = 0,
        dispatchers: Mapping[str, Dispatcher] | None = None,
        on_decision: Callable[[Station], None] | None = None,
        state: PlantState | None = None,
        events: bool = True,
        kpi_start: float | None = None,
    ) -> None:
        self.scenario = scenario
        self.env = Environment(initial_time=state.time if state is not None else 0.0)
        self.start = self.env.now
        """When the run starts: 0, or the time of the state it starts from."""
        self.warm_ids: dict[int, str] = {}
        """The state's job ids by model job id, for the jobs placed from a state."""
        if kpi_start is None:
            kpi_start = self.start + (0.0 if state is not None else scenario.warmup)
        self.tally = None if events else self._tally(kpi_start)
        self._log: EventLog | None = None
        self.recorder: Recorder
        if self.tally is None:
            self.recorder = self._log = EventLog()
        else:
            self.recorder = self.tally
        self.streams = RandomStreams(scenario.seed if seed is None else seed, replication)
        self.on_decision = on_decision
        self.in_system = 0
        self.arrived = 0
        self.left = 0
        self.to_release = 0
        """Jobs still to arrive from finite sources; the run of a closed scenario ends when
        this and ``in_system`` reach 0."""
        self.all_done: Event = self.env.event()
        self.pools = {name: OperatorPool(self.env, spec) for name, spec in scenario.operators.items()}
        self.stations: dict[str, Station] = {}
        next_machine = 0
        for index, (name, spec) in enumerate(scenario.stations.items()):
            dispatcher: Dispatcher = (dispatchers or {}).get(name) or self.rule_for(name, spec.dispatching)
            station = self._build_station(index, name, spec, dispatcher, next_machine)
            self.stations[name] = station
            next_machine += spec.machines
        self.plans = {name: self._plan(name, product) for name, product in scenario.products.items()}
        self._redraws: dict[tuple[int, int], Sampler] = {}
        self.fleet: Fleet | None = None
        self._equip()
        if state is not None:
            self.warm_ids = warmstart.place(self, state)
        self._start_sources()

    def _tally(self, start: float) -> KpiTally | None:
        """A KPI tally over ``[start, horizon]``, where one can stand in for the log."""
        s = self.scenario
        if s.horizon is None or (s.transport is not None and s.transport.vehicles is not None):
            return None
        batches = {i for i, spec in enumerate(s.stations.values()) if spec.batch is not None}
        machines = sum(spec.machines for spec in s.stations.values())
        end = self.start + s.horizon
        return KpiTally(min(start, end), machines, len(s.stations), len(s.products), batches)

    @property
    def log(self) -> EventLog:
        """The event log of the run.

        Raises:
            RuntimeError: the plant keeps a KPI tally instead (built with ``events=False``).
        """
        if self._log is None:
            raise RuntimeError("this plant keeps a KPI tally, not the event log (build it with events=True)")
        return self._log

    def rule_for(self, station: str, name: str) -> Rule:
        """The dispatching rule ``name`` as it runs at ``station`` (with the station's mean
        process time and its own random stream, as rule factories need): the scenario's rules
        and an env's rule actions are made here alike, so both pick the same jobs."""
        means = station_means(self.scenario).get(station, ())
        streams = self.streams
        context = RuleContext(
            station,
            sum(means) / len(means) if means else 1.0,
            lambda: streams.generator(f"dispatch:{station}"),
        )
        return make_rule(name, context)

    def _build_station(
        self, index: int, name: str, spec: StationSpec, dispatcher: Dispatcher, first_machine: int
    ) -> Station:
        streams = self.streams
        failures = None
        if spec.failures is not None:
            f = spec.failures

            def failures(machine: int) -> FailureModel:
                return FailureModel(
                    f.ttf.sampler(streams.generator(f"ttf:{name}:{machine}"), advancing=True),
                    f.ttr.sampler(streams.generator(f"ttr:{name}:{machine}")),
                    busy=f.basis == "busy",
                )

        scrap = None
        if spec.scrap > 0:
            scrap = (spec.scrap, streams.generator(f"scrap:{name}").random)
        pool = self.pools[spec.operator] if spec.operator is not None else None
        placed = (self.env, self.recorder, self, index, name, spec.buffer, dispatcher, first_machine, spec.machines)
        station: Station
        if lean_station(self.scenario, spec):
            busy_failures = spec.failures is not None and spec.failures.basis == "busy"
            station = LeanStation(*placed, failures, busy_failures=busy_failures)
        else:
            station = Station(
                *placed,
                failures=failures,
                setup_time=self._setup_times(name, spec) if spec.setup is not None else None,
                scrap=scrap,
                pool=pool,
                machine_type=BatchMachine if spec.batch is not None else None,
            )
        if pool is not None:
            pool.stations.append(station)
        if spec.maintenance is not None:
            for machine in station.machines:
                duration = spec.maintenance.duration.sampler(streams.generator(f"maintenance:{name}:{machine.index}"))
                Upkeep(machine, spec.maintenance, duration)
        return station

    def _equip(self) -> None:
        """Attach the station features that need the whole plant: assembly kits, batching,
        rework, transport legs."""
        s = self.scenario
        legs = self._legs()
        products = {name: i for i, name in enumerate(s.products)}
        for name, spec in s.stations.items():
            if not (spec.assemble or spec.batch or spec.rework or name in legs):
                continue
            station = self.stations[name]
            kits = None
            if spec.assemble is not None:
                needs = {products[p]: quantity for p, quantity in spec.assemble.items()}
                kits = AssemblyKits(station, self.recorder, needs, remember=self._reworked_through(name))
            batching = Batching(station, spec.batch.size, spec.batch.max_wait) if spec.batch is not None else None
            rework = None
            if spec.rework is not None:
                chance = spec.rework.probability / (1.0 - spec.scrap)
                draw = self.streams.generator(f"rework:{name}").random
                rework = Rework(self.recorder, station.index, spec.rework.to, chance, draw, self._redraw)
            station.equip(kits=kits, batching=batching, rework=rework, legs=legs.get(name))

    def _reworked_through(self, station: str) -> bool:
        """Whether rework can bring a job back to ``station`` after it was processed there."""
        for product in self.scenario.products.values():
            route = [op.station for op in product.route]
            for step, name in enumerate(route):
                rework = self.scenario.stations[name].rework
                if rework is None:
                    continue
                target = rework_step(route, step, rework.to)
                if target is not None and station in route[target : step + 1]:
                    return True
        return False

    def _redraw(self, product: int, step: int) -> float:
        """A fresh process time for a route step done again after rework."""
        sampler = self._redraws.get((product, step))
        if sampler is None:
            name = list(self.scenario.products)[product]
            dist = self.scenario.process_time(name, step)
            sampler = self._redraws[(product, step)] = dist.sampler(self.streams.generator(f"rework:{name}:{step}"))
        return sampler()

    def _legs(self) -> dict[str, dict[int, Leg]]:
        """Transport legs by destination station, then origin station index."""
        transport = self.scenario.transport
        if transport is None:
            return {}
        if transport.vehicles is not None:
            self.fleet = self._fleet()
        legs: dict[str, dict[int, Leg]] = {}
        for _, _, origin, destination, _ in moves(self.scenario):
            into = legs.setdefault(destination, {})
            source = self.stations[origin]
            if source.index in into:
                continue
            leg: Leg
            time = transport.fixed_time(origin, destination)
            if time is not None:
                sampler = time.sampler(self.streams.generator(f"transport:{origin}:{destination}"))
                leg = TimedLeg(self.env, self.recorder, source, self.stations[destination], sampler)
            elif self.fleet is not None and transport.by_vehicle(origin, destination):
                leg = VehicleLeg(self.env, self.recorder, source, self.stations[destination], self.fleet)
            else:
                continue
            into[source.index] = leg
        return {name: into for name, into in legs.items() if into}

    def _fleet(self) -> Fleet:
        transport = self.scenario.transport
        assert transport is not None and transport.vehicles is not None
        vehicles = transport.vehicles
        paths = shortest_paths(transport.distances)
        names = list(self.stations)
        travel = [[paths.get(a, {}).get(b, 0.0 if a == b else math.inf) / vehicles.speed for b in names] for a in names]
        return Fleet(
            self.env,
            self.recorder,
            vehicles.count,
            names.index(transport.home()),
            travel,
            vehicles.load.sampler(self.streams.generator("transport:load")),
            vehicles.unload.sampler(self.streams.generator("transport:unload")),
            nearest=vehicles.dispatching == "nearest",
        )

    def _setup_times(self, name: str, spec: StationSpec) -> Callable[[str, str], float]:
        assert spec.setup is not None
        matrix = {
            (source, target): dist.sampler(self.streams.generator(f"setup:{name}:{source}:{target}"))
            for source, row in spec.setup.matrix.items()
            for target, dist in row.items()
        }
        default = spec.setup.default.sampler(self.streams.generator(f"setup:{name}:*"))

        def setup_time(previous: str, family: str) -> float:
            sampler = matrix.get((previous, family))
            if sampler is not None:
                return sampler()
            return 0.0 if previous == family else default()

        return setup_time

    def _plan(self, product: str, spec: Product) -> tuple[tuple[Step, ...], Callable[[], list[float]]]:
        """The product's route resolved against the plant, and what draws a job's process
        times: one value per step, each step from its own stream, in one call. A route of
        constant times (a job shop) copies one row rather than drawing blocks of rows; a
        product released in a few jobs draws its first block for those jobs only (the same
        numbers, see :func:`row_sampler`)."""
        times = route_times(self.scenario)[product]
        # tuple.__new__ makes each Step in C; Step(...) is a Python call per step (ft10: 20 us a reset).
        resolved = zip(map(self.stations.__getitem__, times.stations), times.means, times.remaining, strict=True)
        steps: tuple[Step, ...] = tuple(map(tuple.__new__, repeat(Step), resolved))
        if times.constant is not None:
            return steps, list(times.constant).copy
        stream = self.streams.generator
        sources = [dist.block_source(partial(stream, f"process:{product}:{i}")) for i, dist in enumerate(times.dists)]
        if spec.arrival is not None or not all(dist.sequential for dist in times.dists):
            return steps, row_sampler(sources)
        jobs = sum(order.quantity for order in spec.release) if spec.release is not None else 1
        return steps, row_sampler(sources, min(jobs, BLOCK))

    def _start_sources(self) -> None:
        for index, (name, product) in enumerate(self.scenario.products.items()):
            enter = self._entrance(index, name)
            if product.arrival is not None:
                self._start_stream(name, product, enter)
            else:
                orders = product.release if product.release is not None else [_ONE_AT_ZERO]
                for order in orders:
                    if order.at < self.start:
                        continue  # released before a warm start: its jobs are in the state, or gone
                    self.to_release += order.quantity
                    Timeout(self.env, order.at - self.start).callbacks.append(self._releaser(enter, order))

    def _releaser(self, enter: Callable[[float | None], None], order: Order) -> Callable[[object], None]:
        def release(_: object) -> None:
            for _job in range(order.quantity):
                enter(order.due)

        return release

    def _start_stream(self, name: str, product: Product, enter: Callable[[float | None], None]) -> None:
        """Jobs enter at the product's inter-arrival times, the next arrival set as one enters."""
        assert product.arrival is not None
        gap = product.arrival.sampler(self.streams.generator(f"arrival:{name}"), advancing=True)

        def arrive(_: object) -> None:
            enter(None)
            alarm.set(gap())

        alarm = Alarm(self.env, arrive)
        alarm.set(gap())

    def _entrance(self, index: int, name: str) -> Callable[[float | None], None]:
        """What lets a job of product ``name`` (number ``index``) into the plant, due at the
        given time or, given None, after the product's slack (no due date: never): its process
        times are drawn, its arrival recorded, and it heads for its first station. What the
        product fixes is looked up once here, not per job."""
        product = self.scenario.products[name]
        steps, draw_times = self.plans[name]
        family = product.family or name
        slack = product.due_date.slack if product.due_date is not None else None
        released = product.arrival is None
        first = steps[0].station
        env, arrive = self.env, self.recorder.on_arrive

        def enter(due: float | None) -> None:
            now = env.now
            if due is None:
                due = now + slack if slack is not None else math.inf
            job = Job(arrive(now, index, due), index, family, steps, draw_times(), now, due)
            self.arrived += 1
            self.in_system += 1
            if released:
                self.to_release -= 1
            first.offer(job, None)

        return enter

    def job_left(self, job: Job) -> None:
        """A job left the plant; a closed scenario ends with its last job."""
        self.in_system -= 1
        self.left += 1
        if self.in_system == 0 and self.to_release == 0 and not self.all_done.triggered:
            self.all_done.succeed()

    def decision_needed(self, station: Station) -> None:
        """A deferred dispatcher at ``station`` waits for :meth:`Station.assign`."""
        if self.on_decision is None:
            raise RuntimeError(f"station {station.name!r} deferred a decision but nobody takes decisions")
        self.on_decision(station)

    def run(self) -> float:
        """Run to the horizon (counted from :attr:`start`), or until every job is done when the
        scenario has none; returns the end time."""
        horizon = self.scenario.horizon
        if horizon is not None:
            self.env.run(until=self.start + horizon)
            if self.tally is not None:
                self.tally.close(self.env.now)
        elif self.to_release or self.in_system:
            self._watch_for_stalls()
            self.env.run(until=self.all_done)
        return self.env.now

    def snapshot(self) -> PlantState:
        """The plant state now (:func:`twin.sim.warmstart.snapshot`): run to ``T`` with
        ``plant.env.run(until=T)``, then a later plant can start from it."""
        return warmstart.snapshot(self)

    def _watch_for_stalls(self) -> None:
        """Without a horizon, shift calendars and calendar failures schedule events forever, so a
        plant whose jobs can no longer move (a blocking deadlock) would run forever: check that
        some job moved within every interval longer than any legitimate pause."""
        s = self.scenario
        pauses = [1.0]
        pauses += [pool.shifts.period for pool in s.operators.values() if pool.shifts is not None]
        pauses += [order.at for p in s.products.values() for order in p.release or []]
        pauses += [sum(s.process_time(name, i).mean for i in range(len(p.route))) for name, p in s.products.items()]
        pauses += [st.failures.ttf.mean + st.failures.ttr.mean for st in s.stations.values() if st.failures]
        pauses += [
            d.mean for st in s.stations.values() if st.setup for row in st.setup.matrix.values() for d in row.values()
        ]
        pauses += [st.batch.max_wait or 0.0 for st in s.stations.values() if st.batch]
        pauses += [st.maintenance.every + st.maintenance.duration.mean for st in s.stations.values() if st.maintenance]
        if s.transport is not None:
            pauses += [d.mean for row in s.transport.times.values() for d in row.values()]
            vehicles = s.transport.vehicles
            if self.fleet is not None and vehicles is not None:
                longest = max(t for row in self.fleet.travel for t in row if t < math.inf)
                pauses.append(2 * longest + vehicles.load.mean + vehicles.unload.mean)
        interval = 10 * max(pauses)
        seen = [-1]

        def check(_: object) -> None:
            if self.all_done.triggered:
                return
            if len(self.log.job_time) == seen[0]:
                raise SimulationStalled(
                    f"no job moved between t={self.env.now - interval:g} and t={self.env.now:g} with "
                    f"{self.in_system} jobs in the plant: blocking deadlock (full buffers waiting on each other)?"
                )
            seen[0] = len(self.log.job_time)
            Timeout(self.env, interval).callbacks.append(check)

        Timeout(self.env, interval).callbacks.append(check)
