"""Words and colours for KPIs and machine states, shared by the CLI table, plots and dashboard."""

from __future__ import annotations

from twin.sim.log import MachineState

__all__ = ["STATE_COLORS", "kpi_label"]

STATE_COLORS = {
    MachineState.BUSY: "#2ca02c",
    MachineState.IDLE: "#c7c7c7",
    MachineState.SETUP: "#1f77b4",
    MachineState.BLOCKED: "#ff7f0e",
    MachineState.DOWN: "#d62728",
    MachineState.OFF_SHIFT: "#7f7f7f",
}
"""One colour per machine state, everywhere."""

_PLANT = {
    "throughput": "Throughput (jobs/{u})",
    "completed": "Jobs completed",
    "wip_mean": "Work in process (jobs)",
    "lead_time_mean": "Lead time ({u})",
    "tardiness_mean": "Tardiness ({u})",
    "scrapped": "Jobs scrapped",
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
}


def kpi_label(name: str, time_unit: str) -> str:
    """A KPI name in words with its unit, e.g. ``Throughput (jobs/min)``."""
    if name in _PLANT:
        return _PLANT[name].format(u=time_unit)
    prefix, _, kpi = name.rpartition(".")
    if prefix.startswith("stations.") and kpi in _STATION:
        return f"{prefix.removeprefix('stations.')}: {_STATION[kpi].format(u=time_unit)}"
    return name
