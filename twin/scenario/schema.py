"""The scenario language: pydantic models of a plant, validated on construction.

A :class:`Scenario` is the root of a scenario file (docs/architecture.md, "Scenario file").
Models are frozen and refuse unknown keys; cross-references between them (a route naming a
station, a pool naming operators) are checked in :mod:`twin.scenario.checks`. All times are
in the scenario's ``time_unit``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_serializer, model_validator

from twin.scenario.distributions import Constant, Distribution
from twin.scenario.transport import Transport

__all__ = [
    "Batch",
    "Design",
    "DesignOption",
    "DueDate",
    "Energy",
    "Failures",
    "Maintenance",
    "Operation",
    "OperatorPool",
    "Order",
    "Product",
    "Rework",
    "Scenario",
    "Setup",
    "Shift",
    "Shifts",
    "Station",
]

Time = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveTime = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Failures(_Model):
    """Breakdowns of each machine of a station: time to failure, then time to repair."""

    ttf: Distribution = Field(description="Time to failure, counted per `basis`.")
    ttr: Distribution = Field(description="Time to repair; the interrupted operation then resumes.")
    basis: Literal["busy", "calendar"] = Field(
        "busy", description="`busy`: ttf counts processing time only; `calendar`: all time."
    )


class Setup(_Model):
    """Sequence-dependent setup times by product family, per machine."""

    matrix: dict[str, dict[str, Distribution]] = Field(
        default_factory=dict, description="from family -> to family -> setup time"
    )
    default: Distribution = Field(
        default_factory=lambda: Constant(value=0.0),
        description="Setup time for a change of family not in the matrix.",
    )


class Maintenance(_Model):
    """Preventive maintenance of each machine of a station: it restores the machine to as good
    as new (its time to failure is drawn afresh)."""

    every: PositiveTime = Field(description="Interval between maintenances, counted per `basis`.")
    basis: Literal["busy", "calendar", "age"] = Field(
        "busy",
        description="`busy`: processing time since the last maintenance; `calendar`: all time since "
        "the last maintenance; `age`: all time since the last maintenance or repair (age replacement).",
    )
    duration: Distribution = Field(description="Time the machine is in maintenance.")
    interrupt: bool = Field(
        True,
        description="true: an operation in hand stops when maintenance is due and resumes after it, "
        "like a breakdown; false: maintenance waits for the operation in hand to end.",
    )


class Batch(_Model):
    """Batch processing: a machine processes up to ``size`` jobs together (an oven, a washer);
    the batch takes as long as the longest process time of its jobs."""

    size: int = Field(ge=1, description="Jobs processed together; a batch starts when this many wait.")
    max_wait: Time | None = Field(
        None,
        description="A smaller batch starts once the first job of the batch has waited this long; "
        "absent: only full batches start.",
    )


class Energy(_Model):
    """Electric power drawn by each machine of a station, in kW, by machine state; a state not
    listed draws nothing. Energy KPIs are in kWh, so `time_unit` must be a unit of time (s,
    min, h or d)."""

    busy: float = Field(0.0, ge=0, allow_inf_nan=False)
    idle: float = Field(0.0, ge=0, allow_inf_nan=False)
    setup: float = Field(0.0, ge=0, allow_inf_nan=False)
    blocked: float = Field(0.0, ge=0, allow_inf_nan=False)
    down: float = Field(0.0, ge=0, allow_inf_nan=False)
    off_shift: float = Field(0.0, ge=0, allow_inf_nan=False)
    maintenance: float = Field(0.0, ge=0, allow_inf_nan=False)


class Rework(_Model):
    """A share of the jobs finished at a station goes back to an earlier station of its route
    (the station itself included) and does every operation from there again, with new
    process times."""

    probability: float = Field(gt=0, lt=1, description="Probability a finished job is reworked.")
    to: str = Field(description="Station the job goes back to: its last visit at or before this one.")


def _lower_case(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class Station(_Model):
    """A pool of identical parallel machines with one input buffer."""

    description: str | None = None
    machines: int = Field(1, ge=1, description="Identical parallel machines.")
    buffer: int | None = Field(
        None,
        ge=0,
        description="Jobs that can wait in front of the station, not counting those on its "
        "machines; absent means unlimited. A finished job upstream stays on its machine "
        "(blocked) until there is room.",
    )
    process_time: Distribution | None = Field(
        None, description="Time per operation, unless the product or route step says otherwise."
    )
    dispatching: Annotated[str, BeforeValidator(_lower_case)] = Field(
        "fifo", description="Rule that picks the next job from the buffer (any case: `FIFO` is `fifo`)."
    )
    failures: Failures | None = None
    setup: Setup | None = None
    scrap: float = Field(0.0, ge=0, lt=1, description="Probability a finished job is scrapped here.")
    operator: str | None = Field(None, description="Operator pool whose member must attend setups and operations.")
    batch: Batch | None = None
    energy: Energy | None = None
    maintenance: Maintenance | None = None
    rework: Rework | None = None
    assemble: dict[str, Annotated[int, Field(ge=1)]] | None = Field(
        None,
        min_length=1,
        description="component product -> quantity: a job of any other product starts here only "
        "with these components, which it consumes. A component is a product whose route ends here.",
    )


class Operation(_Model):
    """One step of a route; written as a bare station name when it has no own process time."""

    station: str
    process_time: Distribution | None = None

    @model_serializer(mode="wrap")
    def _compact(self, handler: Any) -> Any:
        return self.station if self.process_time is None else handler(self)


def _station_name_is_operation(value: Any) -> Any:
    return {"station": value} if isinstance(value, str) else value


RouteStep = Annotated[Operation, BeforeValidator(_station_name_is_operation, json_schema_input_type=str | Operation)]


class DueDate(_Model):
    """Due date of each job: its arrival time plus ``slack``."""

    slack: Time


class Order(_Model):
    """Jobs released at a given time (a production order)."""

    at: Time
    quantity: int = Field(1, ge=1)
    due: Time | None = Field(None, description="Absolute due date of the order's jobs.")


class Product(_Model):
    """A kind of job: how it arrives, where it goes, how long it takes there."""

    description: str | None = None
    arrival: Distribution | None = Field(None, description="Inter-arrival time of an open stream.")
    release: list[Order] | None = Field(
        None,
        description="Orders released at given times. With neither `arrival` nor `release`, "
        "one job is released at time 0 (a static job shop).",
    )
    route: list[RouteStep] = Field(min_length=1, description="Stations visited, in order.")
    process_time: dict[str, Distribution] = Field(
        default_factory=dict, description="Process time of this product per station name."
    )
    due_date: DueDate | None = None
    family: str | None = Field(None, description="Setup family; defaults to the product name.")

    @model_validator(mode="after")
    def _one_arrival_kind(self) -> Product:
        if self.arrival is not None and self.release is not None:
            raise ValueError("give either `arrival` or `release`, not both")
        return self


class Shift(_Model):
    """An interval of the shift period during which ``count`` operators are present."""

    start: Time
    end: PositiveTime
    count: int | None = Field(None, ge=0, description="Operators on this shift; default the pool's count.")

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError(f"end must be > start (got start={self.start}, end={self.end})")
        return self


class Shifts(_Model):
    """A repeating shift calendar: outside every shift no operator is present."""

    period: PositiveTime = Field(description="Length of the repeating calendar, e.g. 1440 min.")
    shifts: list[Shift] = Field(min_length=1)


class OperatorPool(_Model):
    """Operators shared by stations. An operator who is busy at the end of a shift finishes
    the operation in hand before leaving."""

    count: int = Field(ge=1)
    shifts: Shifts | None = Field(None, description="Absent: always present.")


class DesignOption(_Model):
    """A numeric scenario value a designer may change, and its cost per unit above ``min``."""

    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)
    cost: float = Field(0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> DesignOption:
        if self.max < self.min:
            raise ValueError(f"max must be >= min (got min={self.min}, max={self.max})")
        return self


class Design(_Model):
    """What a designer may change, and what it costs (docs/architecture.md: the `twin optimize` contract)."""

    objective: Literal["throughput", "profit"] = "throughput"
    margin: float | None = Field(None, ge=0, allow_inf_nan=False, description="Per job, for the `profit` objective.")
    budget: float = Field(ge=0, allow_inf_nan=False)
    options: dict[str, DesignOption] = Field(min_length=1)

    @model_validator(mode="after")
    def _profit_needs_margin(self) -> Design:
        if self.objective == "profit" and self.margin is None:
            raise ValueError("objective `profit` needs a `margin`")
        return self


class Scenario(_Model):
    """A plant and how to run it: the root of a scenario file."""

    name: str = Field(min_length=1)
    description: str | None = None
    time_unit: str = Field("min", description="Label of every time in the file.")
    horizon: PositiveTime | None = Field(
        None, description="Simulated time per replication; absent: run until every job is done."
    )
    warmup: Time = Field(0.0, description="Statistics ignore [0, warmup).")
    replications: int = Field(1, ge=1)
    seed: int = Field(0, ge=0)
    products: dict[str, Product] = Field(min_length=1)
    stations: dict[str, Station] = Field(min_length=1)
    operators: dict[str, OperatorPool] = Field(default_factory=dict)
    transport: Transport | None = Field(
        None, description="Transport between stations; absent: moves are instantaneous."
    )
    design: Design | None = None

    def family(self, product: str) -> str:
        """Setup family of ``product``."""
        return self.products[product].family or product

    def assembly_station(self, product: str) -> str | None:
        """The station that consumes ``product`` as a component (None if it is not one)."""
        for name, station in self.stations.items():
            if station.assemble is not None and product in station.assemble:
                return name
        return None

    def is_component_step(self, product: str, step: int) -> bool:
        """Whether route step ``step`` of ``product`` is its arrival as a component at the
        station that assembles it: it waits there to be consumed and is not processed."""
        route = self.products[product].route
        return step == len(route) - 1 and self.assembly_station(product) == route[step].station

    def process_time(self, product: str, step: int) -> Distribution:
        """Process time of ``product`` at route step ``step`` (validated to exist; 0 for a
        component's last step, where the job assembled from it is processed instead)."""
        if self.is_component_step(product, step):
            return Constant(value=0.0)
        operation = self.products[product].route[step]
        found = (
            operation.process_time
            or self.products[product].process_time.get(operation.station)
            or self.stations[operation.station].process_time
        )
        if found is None:  # only a scenario built without its cross-checks lacks one
            raise ValueError(f"products.{product}.route[{step}]: no process time for station '{operation.station}'")
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a scenario file would hold it (defaults included)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
