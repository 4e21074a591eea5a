"""Energy as a pure function of the machine-state log: time in each state times the power the
station's ``energy`` declares for that state.

Power is in kW and times in the scenario's ``time_unit``, so energy in kWh is ``sum over
states of time x power x hours per time unit``. The KPIs are rates, like throughput:
``stations.<s>.energy`` and ``energy`` in kWh per time unit, and ``energy_per_job`` in kWh per
job completed in the window.
"""

from __future__ import annotations

import numpy as np

from twin.scenario import Energy, Scenario, hours_per_time_unit
from twin.sim.log import MachineState

__all__ = ["power_by_state", "station_energy"]


def power_by_state(energy: Energy) -> np.ndarray:
    """Power (kW) of one machine in each :class:`MachineState`, indexed by state code."""
    return np.array([getattr(energy, state.label) for state in MachineState], dtype=float)


def station_energy(scenario: Scenario, per_station: np.ndarray) -> dict[str, float]:
    """kWh used in the window by each station that declares ``energy``, from the time its
    machines spent in each state there (``per_station``: stations x states, summed over their
    machines, in time units)."""
    hours = hours_per_time_unit(scenario.time_unit)
    used = {}
    for s, (name, station) in enumerate(scenario.stations.items()):
        if station.energy is not None:
            assert hours is not None, "the cross-checks require a unit of time with energy"
            used[name] = float(per_station[s] @ power_by_state(station.energy)) * hours
    return used
