"""Time units a scenario's ``time_unit`` may name, for quantities that need real time (energy
in kWh from power in kW)."""

from __future__ import annotations

__all__ = ["HOURS_PER_UNIT", "hours_per_time_unit"]

HOURS_PER_UNIT = {
    "ms": 1 / 3_600_000,
    "s": 1 / 3600,
    "sec": 1 / 3600,
    "second": 1 / 3600,
    "seconds": 1 / 3600,
    "min": 1 / 60,
    "minute": 1 / 60,
    "minutes": 1 / 60,
    "h": 1.0,
    "hr": 1.0,
    "hour": 1.0,
    "hours": 1.0,
    "d": 24.0,
    "day": 24.0,
    "days": 24.0,
}
"""Hours in one time unit, by the names a scenario may give it."""


def hours_per_time_unit(time_unit: str) -> float | None:
    """Hours in one ``time_unit`` (case-insensitive), or None for a label that is no time unit."""
    return HOURS_PER_UNIT.get(time_unit.strip().lower())
