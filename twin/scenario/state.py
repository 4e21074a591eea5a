"""The plant state (docs/architecture.md, "Plant state", a contract): where everything is at one time.

A state is JSON: ``{"time", "jobs": [{"id", "product", "step", "where", "station", "machine",
"elapsed", "due", "arrival"}], "machines": [{"station", "machine", "state", "since"}]}``,
every time in the scenario's time unit. ``step`` counts route steps from 0; ``elapsed`` is
processing time already spent on the machine (time down not counted); ``arrival`` (an
addition to the contract, optional) is when the job entered the plant, for lead times.
``where`` is ``entrance`` (arrived, waiting for room at its first station), ``buffer``,
``machine``, or ``transit`` (an addition: handed to transport at ``station``, not yet
delivered). A machine may also give its ``age`` and ``worked`` (additions, optional):
calendar and processing time since its last repair, from which a warm start draws the time to
its next failure (without them it starts as good as new), and ``last_product`` (an addition,
optional): the product of its last job, whose family decides the next setup. Machines not
listed are idle since ``time``.

It lives in the scenario layer because the model (:mod:`twin.sim.warmstart`) starts from it;
the event-log tracker that cuts it from a floor's log is :mod:`twin.sync.state`.
:func:`check_state` validates a state against a scenario, one
``jobs[3].station: unknown station 'x'`` line per problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin.errors import Problem, ScenarioError, show
from twin.scenario.loading import problems_from
from twin.scenario.schema import Scenario

__all__ = [
    "MACHINE_STATES",
    "JobState",
    "MachineStatus",
    "PlantState",
    "Where",
    "check_state",
    "load_state",
    "machine_indices",
    "parse_state",
    "state_json_schema",
]

Where = Literal["entrance", "buffer", "machine", "transit"]
MachineStateName = Literal["idle", "busy", "setup", "blocked", "down", "off_shift", "maintenance"]
MACHINE_STATES: tuple[str, ...] = ("idle", "busy", "setup", "blocked", "down", "off_shift", "maintenance")
"""Machine states of a plant state (``maintenance`` is an addition to the contract's list)."""

_WITH_JOB = frozenset(("busy", "setup", "blocked"))
_WITHOUT_JOB = frozenset(("idle", "off_shift"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobState(_Model):
    """One job in the plant at the state's time."""

    id: str = Field(min_length=1, description="Job id (any text, unique in the state).")
    product: str = Field(min_length=1)
    step: int = Field(0, ge=0, description="Route step the job is at, counted from 0.")
    where: Where = Field(description="entrance, buffer, machine, or transit (handed to transport).")
    station: str | None = Field(None, description="Station of the buffer or machine (or left, in transit).")
    machine: str | None = Field(None, description="Machine id within the station, when on a machine.")
    elapsed: float = Field(0.0, ge=0, allow_inf_nan=False, description="Processing time already spent.")
    due: float | None = Field(None, allow_inf_nan=False, description="Due date (absolute time); none: no due date.")
    arrival: float | None = Field(None, allow_inf_nan=False, description="When the job entered the plant.")

    @model_validator(mode="after")
    def _placed(self) -> JobState:
        if self.where in ("buffer", "machine", "transit") and not self.station:
            raise ValueError(f"a job in '{self.where}' needs its station")
        if self.where == "machine" and not self.machine:
            raise ValueError("a job on a machine needs its machine")
        if self.where != "machine" and self.elapsed > 0:
            raise ValueError(f"only a job on a machine has processing time elapsed (where is '{self.where}')")
        return self


class MachineStatus(_Model):
    """One machine's state and since when it has been in it."""

    station: str = Field(min_length=1)
    machine: str = Field(min_length=1, description="Machine id within the station.")
    state: MachineStateName
    since: float = Field(allow_inf_nan=False, description="When the machine entered this state.")
    age: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Calendar time since its last repair (or since it is known)."
    )
    worked: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Processing time since its last repair (or since it is known)."
    )
    last_product: str | None = Field(
        None, description="Product of the last job it set up for or processed (its setup family)."
    )


class PlantState(_Model):
    """Where every job is and what every machine does at ``time`` (see the module doc)."""

    time: float = Field(allow_inf_nan=False, description="The time this state describes.")
    jobs: list[JobState] = Field(default_factory=list)
    machines: list[MachineStatus] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PlantState:
        seen: set[str] = set()
        for i, job in enumerate(self.jobs):
            if job.id in seen:
                raise ValueError(f"jobs[{i}].id: job '{job.id}' listed twice")
            seen.add(job.id)
            if job.arrival is not None and job.arrival > self.time:
                raise ValueError(f"jobs[{i}].arrival: after the state's time {self.time:g} (got {job.arrival:g})")
        places: set[tuple[str, str]] = set()
        for i, status in enumerate(self.machines):
            key = (status.station, status.machine)
            if key in places:
                raise ValueError(f"machines[{i}]: machine '{status.machine}' of '{status.station}' listed twice")
            places.add(key)
            if status.since > self.time:
                raise ValueError(f"machines[{i}].since: after the state's time {self.time:g} (got {status.since:g})")
        return self

    def to_json(self) -> dict[str, object]:
        """Plain JSON data (``None`` as null)."""
        return self.model_dump(mode="json")


def parse_state(data: Any, scenario: Scenario | None = None) -> PlantState:
    """Validate plain data (as read from JSON) into a :class:`PlantState`, and against
    ``scenario`` when given.

    Raises:
        ScenarioError: one problem per line, located as ``jobs[3].station: ...``.
    """
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", "a plant state must be a JSON object", show(data))])
    try:
        state = PlantState.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(problems_from(error, data)) from None
    problems = check_state(state, scenario) if scenario is not None else []
    if problems:
        raise ScenarioError(problems)
    return state


def load_state(path: str | Path, scenario: Scenario | None = None) -> PlantState:
    """Read a plant-state JSON file (see :func:`parse_state`).

    Raises:
        ScenarioError: the file cannot be read, is not JSON, or the state is invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(str(path), f"cannot read the state file: {error.__class__.__name__}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError([Problem(f"{path}:{error.lineno}", f"not JSON: {error.msg}")]) from None
    return parse_state(data, scenario)


def state_json_schema() -> str:
    """The JSON schema of plant-state files (published as ``state.schema.json``)."""
    schema = PlantState.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "factory-twin plant state"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def machine_indices(state: PlantState, scenario: Scenario) -> dict[tuple[str, str], int]:
    """Each (station, machine id) of ``state`` as the index of a machine of the scenario.

    Ids that are all whole numbers below the station's machine count are those indices (as a
    twin's own log writes them); other ids are numbered in natural order (``M2`` before
    ``M10``). Stations unknown to the scenario, and stations with more ids than machines,
    are left out (:func:`check_state` reports them).
    """
    ids: dict[str, set[str]] = {}
    for job in state.jobs:
        if job.station and job.machine:
            ids.setdefault(job.station, set()).add(job.machine)
    for status in state.machines:
        ids.setdefault(status.station, set()).add(status.machine)
    found: dict[tuple[str, str], int] = {}
    for station, names in ids.items():
        spec = scenario.stations.get(station)
        if spec is None or len(names) > spec.machines:
            continue
        if all(name.isdigit() and int(name) < spec.machines for name in names):
            found.update({(station, name): int(name) for name in names})
        else:
            found.update({(station, name): i for i, name in enumerate(sorted(names, key=_natural))})
    return found


def check_state(state: PlantState, scenario: Scenario) -> list[Problem]:
    """Every contradiction between ``state`` and ``scenario``, one problem each (empty: none)."""
    return [*_job_problems(state, scenario), *_machine_problems(state, scenario), *_capacity_problems(state, scenario)]


def _job_problems(state: PlantState, scenario: Scenario) -> Iterator[Problem]:
    for i, job in enumerate(state.jobs):
        where = f"jobs[{i}]"
        product = scenario.products.get(job.product)
        if product is None:
            yield Problem(f"{where}.product", f"unknown product '{job.product}'")
            continue
        if job.step >= len(product.route):
            yield Problem(
                f"{where}.step", f"beyond the route of '{job.product}' ({len(product.route)} steps)", str(job.step)
            )
            continue
        if job.station is None:
            continue
        if job.station not in scenario.stations:
            yield Problem(f"{where}.station", f"unknown station '{job.station}'")
            continue
        expected = product.route[job.step].station
        if job.station != expected:
            yield Problem(
                f"{where}.station", f"step {job.step} of '{job.product}' is at station '{expected}'", job.station
            )


def _machine_problems(state: PlantState, scenario: Scenario) -> Iterator[Problem]:
    indices = machine_indices(state, scenario)
    for station in sorted(_stations_named(state) - {key[0] for key in indices}):
        if station in scenario.stations:
            count = scenario.stations[station].machines
            yield Problem(f"stations.{station}", f"the state names more machines than the station has ({count})")
    for i, status in enumerate(state.machines):
        if status.station not in scenario.stations:
            yield Problem(f"machines[{i}].station", f"unknown station '{status.station}'")
        if status.last_product is not None and status.last_product not in scenario.products:
            yield Problem(f"machines[{i}].last_product", f"unknown product '{status.last_product}'")
    holders: dict[tuple[str, str], list[int]] = {}
    for i, job in enumerate(state.jobs):
        if job.where == "machine" and job.station is not None and job.machine is not None:
            holders.setdefault((job.station, job.machine), []).append(i)
    for (station, machine), jobs in holders.items():
        spec = scenario.stations.get(station)
        if spec is not None and spec.batch is None and len(jobs) > 1:
            yield Problem(f"jobs[{jobs[1]}].machine", f"machine '{machine}' of '{station}' already holds job {jobs[0]}")
    for i, status in enumerate(state.machines):
        held = holders.get((status.station, status.machine))
        if status.state in _WITH_JOB and not held:
            yield Problem(f"machines[{i}].state", f"'{status.state}' but no job is on the machine")
        if status.state in _WITHOUT_JOB and held:
            yield Problem(f"machines[{i}].state", f"'{status.state}' but job {held[0]} is on the machine")


def _stations_named(state: PlantState) -> set[str]:
    named = {job.station for job in state.jobs if job.station and job.machine}
    return named | {status.station for status in state.machines}


def _capacity_problems(state: PlantState, scenario: Scenario) -> Iterator[Problem]:
    queued: dict[str, list[int]] = {}
    for i, job in enumerate(state.jobs):
        if job.where == "buffer" and job.station is not None:
            queued.setdefault(job.station, []).append(i)
    for station, jobs in queued.items():
        spec = scenario.stations.get(station)
        if spec is None or spec.buffer is None or spec.assemble is not None or spec.batch is not None:
            continue  # kit stores and batches in the making hold more than the buffer
        if len(jobs) > spec.buffer:
            yield Problem(
                f"jobs[{jobs[spec.buffer]}].station",
                f"more jobs in the buffer of '{station}' than it holds ({spec.buffer})",
                str(len(jobs)),
            )
