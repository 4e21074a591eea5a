"""``twin calibrate``: a scenario inferred from a plant's event log, with the evidence for each value.

:func:`calibrate_log` reads (or takes) a log, repairs it (:mod:`twin.sync.hygiene`), infers the
plant (:mod:`twin.sync.infer`) and writes it as ordinary scenario data, valid for ``twin run``:

- stations in route order with the machines seen, the buffer capacity where blocking shows
  it (else unlimited), the fitted process time (or one per product), failures with their
  basis, the scrap rate, setups where the log has ``setup`` rows;
- products with their route, inter-arrival distribution and due-date slack;
- ``horizon`` = the log's length, ``warmup`` = a twentieth of it (at least ten mean lead
  times, at most half), 5 replications, seed 0.

With a base scenario (``--base``) the user's file is kept as written (names, rules, operators,
design section, run settings, products released as orders) and only what the log shows is
filled in or replaced; values the log does not show (a buffer never full, failures that did
not happen in the window) stay as the base has them, and the report says so.

The YAML text carries, on the line of every fitted value, its sample size, family and KS
statistic; :meth:`Calibration.report` gives the same and more as data (``--report``, ``--json``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import Problem, ScenarioError
from twin.scenario import Scenario, parse_scenario
from twin.scenario.yaml_safe import YamlError, read_yaml_file
from twin.sync.annotated import annotated_yaml
from twin.sync.eventlog import read_log, time_unit_factor
from twin.sync.fitting import fit_distribution
from twin.sync.history import History, build_history
from twin.sync.hygiene import HygieneReport, repair_log
from twin.sync.infer import (
    Fitted,
    Structure,
    arrivals,
    buffers,
    failures,
    process_times,
    scrap_rates,
    setups,
    structure,
    time_of_day,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Calibration", "calibrate", "calibrate_log"]

REPLICATIONS = 5
"""Replications a calibrated scenario asks for when no base says otherwise."""

WARMUP_SHARE = 0.05
"""Warm-up as a share of the horizon (at least ten mean lead times, at most half)."""

Keys = tuple[str, ...]
"""A place in scenario data as its keys, e.g. ("stations", "cut", "buffer")."""


@dataclass
class Calibration:
    """The outcome of :func:`calibrate_log`: the scenario, its annotated text and the evidence."""

    scenario: Scenario
    data: dict[str, Any]
    comments: dict[Keys, str]
    fitted: list[Fitted]
    hygiene: HygieneReport
    history: History = field(repr=False)
    source: str
    events: int
    details: dict[str, Any]
    findings: list[str]

    def yaml(self) -> str:
        """The scenario file: YAML with a comment on every fitted value."""
        h = self.history
        header = [
            f"Calibrated by `twin calibrate` from {self.source}: {self.events} events over "
            f"[{h.start:g}, {h.end:g}] {self.scenario.time_unit}.",
            "Each fitted value's comment: sample size, censored values, family (least AIC), KS statistic.",
        ]
        header += [f"log: {line}" for line in self.hygiene.lines()]
        header += [f"note: {line}" for line in self.findings]
        return annotated_yaml(self.data, self.comments, header)

    def report(self) -> dict[str, Any]:
        """Everything as data: window, hygiene counts, structure, every fit (the ``--report``
        and ``--json`` document); undefined numbers are None."""
        h = self.history
        document: dict[str, Any] = _json_safe(
            {
                "log": self.source,
                "events": self.events,
                "window": [h.start, h.end],
                "time_unit": self.scenario.time_unit,
                "scenario": self.scenario.name,
                "hygiene": self.hygiene.to_json(),
                **self.details,
                "fits": [f.to_json() for f in self.fitted],
                "findings": self.findings,
            }
        )
        return document


def _json_safe(value: Any) -> Any:
    """Plain JSON data: NaN and infinities become None, numpy numbers Python ones."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _put(data: dict[str, Any], path: Keys, value: Any) -> None:
    node = data
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def _get(data: dict[str, Any], path: Keys) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _split(path: str, stations: list[str], products: list[str]) -> Keys:
    """A fitted value's dotted path as keys, with station and product names kept whole."""
    head, rest = path.split(".", 1)
    names = stations if head == "stations" else products
    for name in sorted(names, key=len, reverse=True):
        if rest == name or rest.startswith(name + "."):
            tail = rest[len(name) + 1 :]
            if head == "products" and tail.startswith("process_time."):
                return (head, name, "process_time", tail[len("process_time.") :])
            return (head, name, *tail.split(".")) if tail else (head, name)
    raise ValueError(f"no station or product in {path!r}")


def _base_data(base: str | Path | Scenario | None) -> tuple[dict[str, Any], Scenario | None]:
    if base is None:
        return {}, None
    if isinstance(base, Scenario):
        return base.to_dict(), base
    path = Path(base)
    try:
        raw = read_yaml_file(path)
    except YamlError as error:
        raise ScenarioError([Problem(str(path), str(error))]) from None
    from twin.scenario import load_scenario

    scenario = load_scenario(path)
    return (raw if isinstance(raw, dict) else {}), scenario


def _clock(frame: pd.DataFrame, day: float) -> float:
    """Time of day at time 0, in the log's unit (0 for numeric logs: taken to start at midnight)."""
    origin = frame.attrs.get("origin")
    if not origin:
        return 0.0
    stamp = datetime.fromisoformat(origin)
    seconds = stamp.hour * 3600 + stamp.minute * 60 + stamp.second + stamp.microsecond / 1e6
    return seconds / 86400 * day


@dataclass
class _Builder:
    """Collects scenario values, their comments and the report as inference goes."""

    data: dict[str, Any]
    base: Scenario | None
    stations: list[str]
    products: list[str]
    comments: dict[Keys, str] = field(default_factory=dict)
    fitted: list[Fitted] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def set(self, path: Keys, value: Any, comment: str = "") -> None:
        _put(self.data, path, value)
        if comment:
            self.comments[path] = comment

    def fit(self, item: Fitted) -> None:
        path = _split(item.path, self.stations, self.products)
        self.set(path, item.fit.spec, item.comment())
        self.fitted.append(item)


def _structure(b: _Builder, s: Structure, details: dict[str, Any]) -> None:
    for station in s.stations:
        ids = s.machines.get(station, [])
        if ids:
            b.set(
                ("stations", station, "machines"),
                len(ids),
                f"seen: {', '.join(ids[:8])}{' ...' if len(ids) > 8 else ''}",
            )
        elif _get(b.data, ("stations", station)) is None:
            b.set(("stations", station), {})
    for product, route in s.routes.items():
        share = s.route_share[product]
        note = f"{share:.0%} of the complete jobs" if share else "no complete job: the longest route seen"
        b.set(("products", product, "route"), route, note)
        if share and share < 0.95:
            b.findings.append(f"products.{product}.route: {1 - share:.0%} of its jobs took other routes")
    if b.base is not None:
        for kind, names in (("stations", s.stations), ("products", list(s.routes))):
            unseen = [n for n in getattr(b.base, kind) if n not in names]
            if unseen:
                b.findings.append(f"{kind} {', '.join(unseen)}: not in the log; kept as the base has them")
    details["stations"] = {st: {"machines": s.machines.get(st, [])} for st in s.stations}
    details["products"] = {
        p: {"route": r, "route_share": s.route_share[p], "jobs": s.jobs.get(p, 0)} for p, r in s.routes.items()
    }


def _arrivals(b: _Builder, history: History, frame: pd.DataFrame, unit: str, details: dict[str, Any]) -> None:
    day = 86400 / time_unit_factor(unit) if _known_unit(unit) else math.nan
    clock = _clock(frame, day) if math.isfinite(day) else 0.0
    for product, (gaps, censored) in arrivals(history).items():
        if product not in b.products:
            continue
        spec = b.base.products.get(product) if b.base is not None else None
        profile = None
        if math.isfinite(day):
            times = np.sort(
                history.jobs.loc[(history.jobs["product"] == product) & ~history.jobs["cut"], "arrive"].to_numpy(float)
            )
            profile = time_of_day(times, history.start, history.end, day, clock)
        details["products"][product]["time_of_day"] = profile
        if profile is not None and profile["varies"]:
            b.findings.append(
                f"products.{product}.arrival: the rate varies with the time of day (busiest hour "
                f"{profile['peak_hour']:02d}:00, quietest {profile['quiet_hour']:02d}:00, chi-square "
                f"p={profile['p_value']:.2g}); the scenario keeps one rate"
            )
        if len(gaps) == 0:
            b.findings.append(f"products.{product}.arrival: one arrival only, nothing to fit")
            continue
        item = Fitted(f"products.{product}.arrival", fit_distribution(gaps, censored), gaps)
        if spec is not None and spec.release is not None:
            b.fitted.append(item)
            b.findings.append(
                f"products.{product}: released as orders in the base; "
                "the fitted inter-arrival time is in the report only"
            )
            continue
        b.fit(item)
        _due(b, history, product)


def _known_unit(unit: str) -> bool:
    try:
        time_unit_factor(unit)
    except ValueError:
        return False
    return True


def _due(b: _Builder, history: History, product: str) -> None:
    jobs = history.jobs[(history.jobs["product"] == product) & ~history.jobs["cut"]]
    slack = (jobs["due"] - jobs["arrive"]).to_numpy(float)
    slack = slack[np.isfinite(slack)]
    if len(slack) == 0:
        return
    value = float(np.median(slack))
    spread = float(np.std(slack))
    note = f"median of {len(slack)} due dates"
    if spread > 0.01 * max(abs(value), 1e-12):
        note += f" (sd {spread:.3g}: the scenario gives every job the same slack)"
    b.set(("products", product, "due_date"), {"slack": float(f"{max(value, 0.0):.6g}")}, note)


def _stations(b: _Builder, history: History, s: Structure, details: dict[str, Any]) -> None:
    fitted, decisions = process_times(history, s.routes)
    for station, decision in decisions.items():
        details["stations"][station]["process_time"] = decision
    for product in s.routes:
        old = _get(b.data, ("products", product, "process_time"))
        if isinstance(old, dict):
            for station in list(old):
                if station in s.stations:
                    del old[station]
            if not old:
                del b.data["products"][product]["process_time"]
    for item in fitted:
        b.fit(item)
    for station, found in failures(history).items():
        b.fit(found.ttf)
        b.fit(found.ttr)
        b.set(("stations", station, "failures", "basis"), found.basis, found.reason)
        details["stations"][station]["failures"] = {"basis": found.basis, "aic": found.aic, "reason": found.reason}
    if b.base is not None:
        for station in s.stations:
            spec = b.base.stations.get(station)
            if (
                spec is not None
                and spec.failures is not None
                and ("stations", station, "failures", "basis") not in b.comments
            ):
                b.findings.append(f"stations.{station}.failures: no failure in the log; the base's failures are kept")
    for station, (rate, scrapped, finished) in scrap_rates(history).items():
        if scrapped or (b.base is not None and station in b.base.stations and b.base.stations[station].scrap):
            b.set(("stations", station, "scrap"), float(f"{rate:.6g}"), f"{scrapped} of {finished} finished operations")
        details["stations"].setdefault(station, {})["scrap"] = {
            "rate": rate,
            "scrapped": scrapped,
            "finished": finished,
        }
    family = {p: (b.base.family(p) if b.base is not None and p in b.base.products else p) for p in s.routes}
    for items in setups(history, family).values():
        for item in items:
            b.fit(item)
    for station, held in buffers(history).items():
        details["stations"].setdefault(station, {})["buffer"] = {
            "capacity": held.capacity,
            "blocked": held.blocked,
            "max_queue": held.max_queue,
            "level_at_blocking": {str(k): v for k, v in sorted(held.level_at_blocking.items())},
        }
        if held.capacity is not None:
            b.set(
                ("stations", station, "buffer"),
                held.capacity,
                f"{held.blocked} jobs held for room; largest queue seen",
            )
        elif b.base is not None and station in b.base.stations and b.base.stations[station].buffer is not None:
            b.findings.append(f"stations.{station}.buffer: never full in the log; the base's capacity is kept")


def _run_settings(b: _Builder, history: History, name: str, unit: str) -> None:
    if b.base is not None:
        return
    horizon = float(f"{history.length:.6g}")
    jobs = history.jobs
    lead = (jobs["exit"] - jobs["arrive"]).to_numpy(float)
    lead = lead[np.isfinite(lead)]
    ten_leads = 10 * float(lead.mean()) if len(lead) else 0.0
    warmup = min(max(WARMUP_SHARE * horizon, ten_leads), horizon / 2)
    head = {
        "name": name,
        "description": f"calibrated from the event log {name}",
        "time_unit": unit,
        "horizon": horizon,
        "warmup": float(f"{warmup:.6g}"),
        "replications": REPLICATIONS,
        "seed": 0,
    }
    rest = dict(b.data)
    b.data.clear()
    b.data.update(head)
    b.data.update({k: rest[k] for k in ("products", "stations") if k in rest})
    b.comments[("horizon",)] = "the log's length"
    b.comments[("warmup",)] = "a twentieth of the horizon, at least ten mean lead times"


def calibrate_log(
    log: str | Path | pd.DataFrame,
    base: str | Path | Scenario | None = None,
    *,
    time_unit: str | None = None,
    name: str | None = None,
) -> Calibration:
    """Infer a scenario from an event log (see the module doc).

    Args:
        log: a log file (CSV or Parquet) or a canonical frame (:func:`twin.read_log`).
        base: a scenario whose file is kept and filled in with what the log shows.
        time_unit: unit for a log with timestamps (default: the base's, else ``min``).
        name: the scenario's name (default: the log file's stem).

    Raises:
        LogError: the log cannot be read.
        ScenarioError: the base is invalid, or the log shows no job going through a station.
    """
    base_data, base_scenario = _base_data(base)
    unit = time_unit or (base_scenario.time_unit if base_scenario is not None else "min")
    frame = log if not isinstance(log, str | Path) else read_log(log, time_unit=unit)
    source = str(log) if isinstance(log, str | Path) else str(frame.attrs.get("source", "a log frame"))
    declared = {s: st.machines for s, st in base_scenario.stations.items()} if base_scenario is not None else None
    repaired, hygiene = repair_log(frame, declared)
    history = build_history(repaired)
    found = structure(history)
    if not found.routes:
        raise ScenarioError([Problem(source, "no job goes through a station: nothing to calibrate")])
    b = _Builder(base_data, base_scenario, found.stations, list(found.routes))
    details: dict[str, Any] = {}
    _structure(b, found, details)
    _arrivals(b, history, frame, unit, details)
    _stations(b, history, found, details)
    stem = name or (Path(source).name.split(".")[0] if isinstance(log, str | Path) else "calibrated")
    _run_settings(b, history, stem, unit)
    try:
        scenario = parse_scenario(b.data)
    except ScenarioError as error:
        raise ScenarioError(
            [Problem(source, f"the calibrated scenario is not valid: {p}") for p in error.problems]
        ) from None
    return Calibration(
        scenario, b.data, b.comments, b.fitted, hygiene, history, source, len(frame), details, b.findings
    )


def calibrate(log: str | Path | pd.DataFrame, base: str | Path | Scenario | None = None) -> Scenario:
    """The scenario a plant's event log shows (``twin calibrate LOG [--base SCENARIO]``);
    :func:`calibrate_log` gives the evidence too.

    Raises:
        LogError: the log cannot be read.
        ScenarioError: the base is invalid, or the log shows no job going through a station.
    """
    return calibrate_log(log, base).scenario
