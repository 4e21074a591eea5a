"""KPIs, machine states and numbers as people read them: the one place the CLI tables, the
JSON documents, the plots and the dashboard take their words, colours and formats from."""

from __future__ import annotations

import math
from typing import TypeGuard

from twin.sim.log import MachineState

__all__ = [
    "STATE_COLORS",
    "count_of",
    "finite",
    "format_estimate",
    "format_interval",
    "format_number",
    "json_number",
    "kpi_label",
    "kpi_noun",
    "kpi_unit",
]

STATE_COLORS = {
    MachineState.BUSY: "#2ca02c",
    MachineState.IDLE: "#c7c7c7",
    MachineState.SETUP: "#1f77b4",
    MachineState.BLOCKED: "#ff7f0e",
    MachineState.DOWN: "#d62728",
    MachineState.OFF_SHIFT: "#7f7f7f",
    MachineState.MAINTENANCE: "#9467bd",
}
"""One colour per machine state, everywhere."""

_PLANT = {
    "throughput": "Throughput (jobs/{u})",
    "completed": "Jobs completed",
    "wip_mean": "Work in process (jobs)",
    "lead_time_mean": "Lead time ({u})",
    "tardiness_mean": "Tardiness ({u})",
    "scrapped": "Jobs scrapped",
    "reworked": "Jobs sent back for rework",
    "energy": "Energy (kWh/{u})",
    "energy_per_job": "Energy per job completed (kWh)",
    "transport.utilization": "Vehicles: busy share",
    "transport.empty_share": "Vehicles: share driving empty",
    "transport.wait_mean": "Vehicles: wait for a vehicle ({u})",
}
_STATION = {
    "utilization": "utilisation (busy share)",
    "wait_mean": "wait in buffer ({u})",
    "blocked": "blocked share",
    "starved": "starved share",
    "down": "down share",
    "oee": "OEE",
    "setup": "setup share",
    "off_shift": "off-shift share",
    "maintenance": "maintenance share",
    "batch_mean": "jobs per batch",
    "energy": "energy (kWh/{u})",
    "availability": "OEE availability",
    "performance": "OEE performance",
    "quality": "OEE quality",
}


def kpi_label(name: str, time_unit: str) -> str:
    """A KPI name in words with its unit, e.g. ``Throughput (jobs/min)``."""
    if name in _PLANT:
        return _PLANT[name].format(u=time_unit)
    prefix, _, kpi = name.rpartition(".")
    if prefix.startswith("stations.") and kpi in _STATION:
        return f"{prefix.removeprefix('stations.')}: {_STATION[kpi].format(u=time_unit)}"
    return name


_NOUNS = {
    "throughput": "throughput",
    "completed": "jobs completed",
    "wip_mean": "work in process",
    "lead_time_mean": "lead time",
    "tardiness_mean": "tardiness",
    "scrapped": "scrap",
}


def kpi_noun(name: str) -> str:
    """A KPI as a noun in a sentence, without its unit: ``lead time``, ``cut's OEE``."""
    if name in _NOUNS:
        return _NOUNS[name]
    label = kpi_label(name, "")
    if label == name:
        return name
    station, _, what = label.partition(": ")
    return f"{station}'s {what.replace(' ()', '')}"


def kpi_unit(name: str, time_unit: str) -> str:
    """The unit of a KPI (``jobs/min``, ``min``, ``jobs``), empty for shares and OEE."""
    label = kpi_label(name, time_unit)
    if label.endswith(")") and "(" in label:
        unit = label[label.rindex("(") + 1 : -1]
        return "" if unit == "busy share" else unit
    return ""


def count_of(count: int, noun: str) -> str:
    """``1 replication``, ``3 replications``: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def finite(value: float | None) -> TypeGuard[float]:
    """Whether ``value`` is a number that is neither NaN nor infinite."""
    return value is not None and not (math.isnan(value) or math.isinf(value))


def json_number(value: float | None) -> float | None:
    """``value`` as JSON can hold it: NaN and infinities (undefined statistics) become null."""
    return float(value) if finite(value) else None


def format_number(value: float | None, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, large values with thousands
    separators instead of exponents (``13,800``, not ``1.38e+04``), ``n/a`` when undefined."""
    if not finite(value):
        return "n/a"
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def format_interval(low: float | None, high: float | None, digits: int = 3) -> str:
    """``[low, high]``, or an empty text when the interval is undefined (one replication)."""
    if finite(low) and finite(high):
        return f"[{format_number(low, digits)}, {format_number(high, digits)}]"
    return ""


def format_estimate(mean: float | None, low: float | None, high: float | None) -> str:
    """``mean ± half-width`` of a confidence interval, the mean alone without one, ``n/a``
    when undefined: the compact form of the CLI's tables."""
    if finite(mean) and finite(low) and finite(high):
        return f"{format_number(mean)} ± {format_number((high - low) / 2, 2)}"
    return format_number(mean)
