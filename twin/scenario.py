"""Scenario files: the pydantic schema of a plant, loading, overrides and writing back.

Only this module reads scenario YAML. Everything past :func:`load_scenario` gets a validated,
frozen :class:`Scenario`; every problem found on the way is reported as one line
``path.to.field: what is wrong (got X)`` in a :class:`~twin.errors.ScenarioError`.
All times are in the scenario's ``time_unit``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from twin.dispatching import rule_names
from twin.distributions import Constant, Distribution
from twin.errors import Problem, ScenarioError, show
from twin.yaml_safe import YamlError, read_yaml_file, safe_load_text

__all__ = [
    "Design",
    "DesignOption",
    "DueDate",
    "Failures",
    "Operation",
    "OperatorPool",
    "Order",
    "Product",
    "Scenario",
    "Setup",
    "Shift",
    "Shifts",
    "Station",
    "apply_overrides",
    "json_schema",
    "load_scenario",
    "load_warnings",
    "parse_override",
    "parse_scenario",
    "scenario_to_yaml",
]

Time = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveTime = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    dispatching: str = Field("fifo", description="Rule that picks the next job from the buffer.")
    failures: Failures | None = None
    setup: Setup | None = None
    scrap: float = Field(0.0, ge=0, lt=1, description="Probability a finished job is scrapped here.")
    operator: str | None = Field(None, description="Operator pool whose member must attend setups and operations.")


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

    min: float
    max: float
    cost: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DesignOption:
        if self.max < self.min:
            raise ValueError(f"max must be >= min (got min={self.min}, max={self.max})")
        return self


class Design(_Model):
    """What a designer may change, and what it costs (see DESIGN.md, design space)."""

    objective: Literal["throughput", "profit"] = "throughput"
    margin: float | None = Field(None, ge=0, description="Per job, for the `profit` objective.")
    budget: float = Field(ge=0)
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
    design: Design | None = None

    def family(self, product: str) -> str:
        """Setup family of ``product``."""
        return self.products[product].family or product

    def process_time(self, product: str, step: int) -> Distribution:
        """Process time of ``product`` at route step ``step`` (validated to exist)."""
        operation = self.products[product].route[step]
        found = (
            operation.process_time
            or self.products[product].process_time.get(operation.station)
            or self.stations[operation.station].process_time
        )
        assert found is not None, "cross-reference check guarantees a process time"
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a scenario file would hold it (defaults included)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# Cross-reference checks: each one looks at a validated scenario and yields its problems.


def _routes_name_stations(s: Scenario) -> Iterable[Problem]:
    for pname, product in s.products.items():
        for i, op in enumerate(product.route):
            if op.station not in s.stations:
                yield Problem(
                    f"products.{pname}.route[{i}]",
                    f"no station of that name (stations: {', '.join(s.stations)})",
                    show(op.station),
                )


def _process_times_known(s: Scenario) -> Iterable[Problem]:
    for pname, product in s.products.items():
        for sname in product.process_time:
            if sname not in {op.station for op in product.route}:
                yield Problem(f"products.{pname}.process_time.{sname}", "station is not on the route")
        for i, op in enumerate(product.route):
            station = s.stations.get(op.station)
            if station is None:
                continue
            if op.process_time is None and op.station not in product.process_time and station.process_time is None:
                yield Problem(
                    f"products.{pname}.route[{i}]",
                    f"no process time for station '{op.station}': set stations.{op.station}.process_time "
                    f"or products.{pname}.process_time.{op.station}",
                )


def _rules_known(s: Scenario) -> Iterable[Problem]:
    for sname, station in s.stations.items():
        if station.dispatching not in rule_names():
            yield Problem(
                f"stations.{sname}.dispatching",
                f"unknown rule (expected one of: {', '.join(rule_names())})",
                show(station.dispatching),
            )


def _operators_known(s: Scenario) -> Iterable[Problem]:
    for sname, station in s.stations.items():
        if station.operator is not None and station.operator not in s.operators:
            known = ", ".join(s.operators) or "none declared"
            yield Problem(
                f"stations.{sname}.operator", f"no operator pool of that name ({known})", show(station.operator)
            )


def _setup_families_known(s: Scenario) -> Iterable[Problem]:
    families = {s.family(p) for p in s.products}
    for sname, station in s.stations.items():
        if station.setup is None:
            continue
        for source, row in station.setup.matrix.items():
            if source not in families:
                yield Problem(
                    f"stations.{sname}.setup.matrix.{source}",
                    f"unknown family (families: {', '.join(sorted(families))})",
                )
            for target in row:
                if target not in families:
                    yield Problem(
                        f"stations.{sname}.setup.matrix.{source}.{target}",
                        f"unknown family (families: {', '.join(sorted(families))})",
                    )


def _shifts_fit(s: Scenario) -> Iterable[Problem]:
    for pname, pool in s.operators.items():
        if pool.shifts is None:
            continue
        spans = sorted((shift.start, shift.end, i) for i, shift in enumerate(pool.shifts.shifts))
        for _, end, i in spans:
            if end > pool.shifts.period:
                yield Problem(
                    f"operators.{pname}.shifts.shifts[{i}].end", f"must be <= period {pool.shifts.period:g}", show(end)
                )
        for (_, end, _), (start, _, j) in pairwise(spans):
            if start < end:
                yield Problem(f"operators.{pname}.shifts.shifts[{j}].start", "overlaps the previous shift", show(start))
        for i, shift in enumerate(pool.shifts.shifts):
            if shift.count is not None and shift.count > pool.count:
                yield Problem(
                    f"operators.{pname}.shifts.shifts[{i}].count",
                    f"must be <= the pool's count {pool.count}",
                    show(shift.count),
                )


def _horizon_fits(s: Scenario) -> Iterable[Problem]:
    open_streams = [p for p, product in s.products.items() if product.arrival is not None]
    if s.horizon is None:
        if open_streams:
            yield Problem("horizon", f"required: products {', '.join(open_streams)} arrive without end")
        if s.warmup > 0:
            yield Problem("warmup", "needs a horizon", show(s.warmup))
    elif s.warmup >= s.horizon:
        yield Problem("warmup", f"must be < horizon {s.horizon:g}", show(s.warmup))


def _design_paths_exist(s: Scenario) -> Iterable[Problem]:
    if s.design is None:
        return
    data = s.to_dict()
    for path, option in s.design.options.items():
        where = f"design.options.{path}"
        try:
            value = _get_path(data, path)
        except KeyError as missing:
            yield Problem(where, f"no such scenario value ({missing.args[0]})")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield Problem(where, "must name a numeric scenario value", show(value))
        elif not option.min <= value <= option.max:
            yield Problem(
                where, f"current value must lie in [min, max] = [{option.min:g}, {option.max:g}]", show(value)
            )


CROSS_CHECKS = (
    _routes_name_stations,
    _process_times_known,
    _rules_known,
    _operators_known,
    _setup_families_known,
    _shifts_fit,
    _horizon_fits,
    _design_paths_exist,
)


# Loading


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "too_short": "must not be empty",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a text",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a number or a mapping with a `dist` key",
    "bool_type": "must be true or false",
    "union_tag_not_found": "needs a `dist` key",
}


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return (
            f"must be {bounds[kind]} {limit:g}" if isinstance(limit, int | float) else f"must be {bounds[kind]} {limit}"
        )
    if kind == "union_tag_invalid":
        return f"unknown distribution (expected one of: {ctx.get('expected_tags', '')})".replace("'", "")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    fallback = str(error["msg"])
    return _MESSAGES.get(kind, fallback[:1].lower() + fallback[1:])


_TAGS = frozenset(
    {"constant", "exponential", "normal", "lognormal", "uniform", "triangular", "gamma", "weibull", "empirical"}
)


def _is_internal(node: Any, key: Any) -> bool:
    """Whether a location part is pydantic's own (a union tag or validator name), not the user's."""
    if not isinstance(key, str):
        return True
    if key in _TAGS and isinstance(node, Mapping) and node.get("dist") == key:
        return True
    return "[" in key or key.startswith("function-")


def _location(data: Any, loc: tuple[Any, ...]) -> tuple[str, Any]:
    """The user's path for pydantic's location, and the value found there (None if absent)."""
    parts: list[str] = []
    node: Any = data
    for key in loc:
        if isinstance(node, Mapping) and key in node:
            parts.append(f".{key}")
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            parts.append(f"[{key}]")
            node = node[key]
        elif not _is_internal(node, key):
            parts.append(f".{key}")
            node = None
    return "".join(parts).lstrip("."), node


def _problems_from(error: ValidationError, data: Any) -> list[Problem]:
    problems = []
    for item in error.errors():
        path, value = _location(data, tuple(item["loc"]))
        got = None if item["type"] in {"missing", "extra_forbidden", "value_error"} else show(value)
        problems.append(Problem(path, _message(item), got))
    return problems


def parse_scenario(data: Any) -> Scenario:
    """Validate plain data (as read from YAML) into a :class:`Scenario`.

    Raises:
        ScenarioError: listing every problem, schema first, then cross-references.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem("", "a scenario must be a mapping of keys", show(data))])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_problems_from(error, data)) from None
    problems = [problem for check in CROSS_CHECKS for problem in check(scenario)]
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override (``"a.b=3"`` strings, see :func:`parse_override`) and validate a scenario file.

    Raises:
        ScenarioError: the file is missing, not YAML, unsafe, or invalid.
    """
    path = Path(path)
    try:
        data = read_yaml_file(path)
    except YamlError as error:
        raise ScenarioError([Problem(str(path), str(error))]) from None
    if data is None:
        raise ScenarioError([Problem(str(path), "file is empty")])
    if isinstance(data, Mapping) and overrides:
        data = apply_overrides(data, [parse_override(text) for text in overrides])
    return parse_scenario(data)


# Overrides


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"stations.cut.machines=2"`` into a path and a YAML-typed value.

    Raises:
        ScenarioError: no ``=``, an empty path, or a value that is not simple YAML.
    """
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise ScenarioError([Problem("--set", "expected path=value", show(text))])
    try:
        value = safe_load_text(raw)
    except YamlError as error:
        raise ScenarioError([Problem(f"--set {path}", f"value is not valid YAML: {error}", show(raw))]) from None
    return path.strip(), value


def _split(path: str) -> list[str | int]:
    keys: list[str | int] = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        keys.append(int(part) if part.isdigit() else part)
    return keys


def _get_path(data: Any, path: str) -> Any:
    node = data
    for key in _split(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"'{key}' not found") from None
    return node


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A deep copy of ``data`` with each ``(path, value)`` set; paths are dotted, list items by index.

    The parent of each path must exist; the leaf may be new (validation then judges it).

    Raises:
        ScenarioError: naming each override whose parent does not exist.
    """
    result: dict[str, Any] = yaml.safe_load(yaml.safe_dump(dict(data)))
    problems = []
    for path, value in overrides:
        *parents, leaf = _split(path)
        node: Any = result
        try:
            for key in parents:
                node = node[key]
            fits = isinstance(node, dict) or (isinstance(node, list) and isinstance(leaf, int) and leaf < len(node))
            if not fits:
                raise KeyError(leaf)
            cast(Any, node)[leaf] = value
        except (KeyError, IndexError, TypeError):
            problems.append(Problem(f"--set {path}", "no such place in the scenario"))
    if problems:
        raise ScenarioError(problems)
    return result


def json_schema() -> str:
    """The JSON schema of scenario files, for editors to validate and autocomplete YAML."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "factory-twin scenario"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML that :func:`load_scenario` reads back unchanged."""
    return yaml.safe_dump(scenario.to_dict(), sort_keys=False, allow_unicode=True)


def load_warnings(scenario: Scenario) -> list[str]:
    """Legal but suspicious settings: stations whose offered load reaches their capacity."""
    demand: dict[str, float] = dict.fromkeys(scenario.stations, 0.0)
    for pname, product in scenario.products.items():
        if product.arrival is None or product.arrival.mean <= 0:
            continue
        rate = 1.0 / product.arrival.mean
        for step, op in enumerate(product.route):
            demand[op.station] += rate * scenario.process_time(pname, step).mean
    warnings = []
    for sname, work in demand.items():
        station = scenario.stations[sname]
        availability = 1.0
        if station.failures is not None:
            ttf, ttr = station.failures.ttf.mean, station.failures.ttr.mean
            availability = ttf / (ttf + ttr) if ttf + ttr > 0 else 1.0
        load = work / (station.machines * availability) if availability > 0 else math.inf
        if load >= 1.0:
            warnings.append(f"stations.{sname}: offered load is {load:.0%} of capacity; its queue grows without bound")
    return warnings
