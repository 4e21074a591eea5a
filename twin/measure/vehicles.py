"""Transport KPIs as pure functions of the vehicle records and transport events of the log.

``transport.utilization`` is the share of vehicle time not idle (driving empty to a pickup,
loading, driving loaded, unloading); ``transport.empty_share`` the share of vehicle time
driving empty; ``transport.wait_mean`` the mean time from a job's hand-over to transport
(TRANSPORT_START) to the start of its loading, over the loadings that start in the window.
"""

from __future__ import annotations

import numpy as np

from twin.sim.log import EventLog, JobEvent, VehicleState

__all__ = ["TRANSPORT_KPIS", "transport_kpis", "vehicle_time"]

TRANSPORT_KPIS = ("transport.utilization", "transport.empty_share", "transport.wait_mean")
"""The KPIs of a plant with a vehicle fleet."""


def vehicle_time(log: EventLog, vehicles: int, start: float, end: float) -> np.ndarray:
    """Time each vehicle spent in each :class:`VehicleState` within ``[start, end]``."""
    cols = log.columns()
    states = len(VehicleState)
    vehicle, times, code = cols["vehicle_id"], cols["vehicle_time"], cols["vehicle_state"]
    order = np.argsort(vehicle, kind="stable")
    vehicle, times, code = vehicle[order].astype(np.int64), times[order], code[order].astype(np.int64)
    following = np.empty_like(times)
    following[:-1] = times[1:]
    following[-1:] = end
    following[:-1][vehicle[1:] != vehicle[:-1]] = end
    spent = np.clip(following, start, end) - np.clip(times, start, end)
    totals = np.bincount(vehicle * states + code, weights=spent, minlength=vehicles * states)
    return totals.reshape(vehicles, states)


def _waits(log: EventLog, start: float, end: float) -> np.ndarray:
    """Hand-over to loading, for each loading that starts in the window."""
    cols = log.columns()
    handed = cols["job_kind"] == JobEvent.TRANSPORT_START
    loading = cols["vehicle_state"] == VehicleState.LOADING
    job = np.concatenate([cols["job_id"][handed], cols["vehicle_job"][loading]])
    time = np.concatenate([cols["job_time"][handed], cols["vehicle_time"][loading]])
    is_load = np.concatenate([np.zeros(int(handed.sum()), bool), np.ones(int(loading.sum()), bool)])
    # Per job in time order (a hand-over before a loading at the same instant), a loading
    # follows its own hand-over: a job waits for one vehicle at a time.
    order = np.lexsort((is_load, time, job))
    job, time, is_load = job[order], time[order], is_load[order]
    loads = np.flatnonzero(is_load)
    loads = loads[loads > 0]
    assert np.all(~is_load[loads - 1]) and np.all(job[loads - 1] == job[loads]), "a loading without its hand-over"
    inside = (time[loads] >= start) & (time[loads] <= end)
    waits: np.ndarray = time[loads][inside] - time[loads - 1][inside]
    return waits


def transport_kpis(log: EventLog, vehicles: int, start: float, end: float) -> dict[str, float]:
    """The :data:`TRANSPORT_KPIS` of one replication over ``[start, end]``."""
    spent = vehicle_time(log, vehicles, start, end).sum(axis=0)
    capacity = vehicles * (end - start)
    waits = _waits(log, start, end)
    if capacity <= 0:
        return dict.fromkeys(TRANSPORT_KPIS, float("nan"))
    return {
        "transport.utilization": float(1.0 - spent[VehicleState.IDLE] / capacity),
        "transport.empty_share": float(spent[VehicleState.EMPTY] / capacity),
        "transport.wait_mean": float(waits.mean()) if len(waits) else float("nan"),
    }
