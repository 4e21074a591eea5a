"""What the Live floor page shows, without Streamlit: where a plant state comes from (a
mirror's retained message, a mirror's state file, or a stored run played back through the
plant-state builder) and the tables the picture is drawn from.

Every source gives the same :class:`Snapshot`: a plant state as ``twin state`` writes it
(docs/architecture.md, "Plant state"), with the mirror's forecast and health when a mirror
sent it, so one picture serves the live floor and a run's playback.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from twin.scenario import Scenario

__all__ = [
    "RETAINED_WAIT_S",
    "Snapshot",
    "buffer_table",
    "fan_table",
    "job_table",
    "machine_table",
    "playback",
    "read_retained",
    "read_state_file",
    "run_log",
    "station_order",
]

RETAINED_WAIT_S = 3.0
"""Wall seconds to wait for a broker's retained message before saying there is none."""


@dataclass(frozen=True)
class Snapshot:
    """A plant state and, from a mirror, its forecast and health (else None and {})."""

    state: dict[str, Any]
    forecast: dict[str, Any] | None = None
    health: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def read_retained(url_text: str, topic: str, wait: float = RETAINED_WAIT_S) -> Snapshot | None:
    """The mirror's retained message on ``topic`` (None when none comes within ``wait`` s).

    Raises:
        ValueError: a bad broker URL, or a message that is not the mirror's document.
    """
    from twin.sync.mirror_broker import make_client, parse_broker_url

    url = parse_broker_url(url_text)
    got: list[bytes] = []
    arrived = threading.Event()

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        got.append(message.payload)
        arrived.set()

    client = make_client(url, "", persistent=False)
    client.on_connect = lambda c, u, f, reason, p: c.subscribe(topic, 1)
    client.on_message = on_message
    try:
        client.connect(url.host, url.port, keepalive=10)
    except OSError as error:
        raise ValueError(f"cannot reach the broker {url}: {error}") from None
    client.loop_start()
    try:
        arrived.wait(wait)
    finally:
        client.disconnect()
        client.loop_stop()
    if not got:
        return None
    document = json.loads(got[0])
    if not isinstance(document, dict) or not isinstance(document.get("state"), dict):
        raise ValueError(f"the message on {topic} is not a mirror's (no state)")
    return Snapshot(document["state"], document.get("forecast"), document.get("health") or {}, f"{url} {topic}")


def read_state_file(path: Path) -> Snapshot:
    """A mirror's ``--state-out`` file (or any ``twin state`` output).

    Raises:
        ValueError: the file is missing or is not a plant state.
    """
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the state file {path}: {error}") from None
    if not isinstance(state, dict) or "machines" not in state or "jobs" not in state:
        raise ValueError(f"{path} is not a plant state (no jobs and machines)")
    return Snapshot(state, source=str(path))


def run_log(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """A run's events (``events.parquet`` of one replication) as a plant's event log."""
    from twin.sync.eventlog import events_to_log

    replication = int(events["replication"].iloc[0]) if len(events) else 0
    return events_to_log(events, scenario, replication)


def playback(log: pd.DataFrame, at: float) -> Snapshot:
    """The state at ``at`` of a stored run's log, cut by the same builder the mirror uses."""
    from twin.sync.state import state_from_frame

    cut = state_from_frame(log, at)
    health = {"applied": cut.applied, "rejected": sum(cut.rejected.values())}
    return Snapshot(cut.state.to_json(), None, health, "playback")


def station_order(scenario: Scenario) -> list[str]:
    """Stations in route order: by the earliest step at which any route visits them, ties
    in the order the routes name them (a rework loop does not move a station back; a
    station no route visits comes last)."""
    first: dict[str, int] = {}
    for product in scenario.products.values():
        for step, operation in enumerate(product.route):
            first[operation.station] = min(first.get(operation.station, step), step)
    named = list(dict.fromkeys([*first, *scenario.stations]))
    return sorted(named, key=lambda s: (first.get(s, len(named)), named.index(s)))


def machine_table(scenario: Scenario, state: dict[str, Any]) -> pd.DataFrame:
    """One row per machine: ``station``, ``position`` (route order), ``machine``, ``state``,
    ``since``, ``job`` (on it, or "")."""
    order = {s: i for i, s in enumerate(station_order(scenario))}
    on = {(j.get("station"), j.get("machine")): j["id"] for j in state["jobs"] if j.get("where") == "machine"}
    rows = [
        {
            "station": m["station"],
            "position": order.get(m["station"], len(order)),
            "machine": str(m["machine"]),
            "state": m["state"],
            "since": m["since"],
            "job": on.get((m["station"], m["machine"]), ""),
        }
        for m in state["machines"]
    ]
    columns = ["station", "position", "machine", "state", "since", "job"]
    return pd.DataFrame(rows, columns=columns).sort_values(["position", "machine"], kind="stable")


def buffer_table(scenario: Scenario, state: dict[str, Any]) -> pd.DataFrame:
    """One row per station in route order: ``station``, ``waiting`` (jobs in its buffer),
    ``capacity`` (None: unlimited), ``fill`` (share of the capacity, None when unlimited)."""
    waiting = pd.Series([j.get("station") for j in state["jobs"] if j.get("where") == "buffer"]).value_counts()
    rows = []
    for station in station_order(scenario):
        capacity = scenario.stations[station].buffer
        count = int(waiting.get(station, 0))
        fill = None if capacity is None else (count / capacity if capacity else float(count > 0))
        rows.append({"station": station, "waiting": count, "capacity": capacity, "fill": fill})
    return pd.DataFrame(rows, columns=["station", "waiting", "capacity", "fill"])


def _remaining_work(scenario: Scenario, job: dict[str, Any]) -> float:
    """Mean process time left on the job's route (scenario time unit), from its step on."""
    product = job.get("product")
    if product not in scenario.products:
        return 0.0
    step = int(job.get("step", 0))
    left = sum(scenario.process_time(product, s).mean for s in range(step, len(scenario.products[product].route)))
    return max(0.0, left - float(job.get("elapsed") or 0.0))


def _late_probabilities(forecast: dict[str, Any] | None) -> dict[str, float]:
    jobs = (forecast or {}).get("jobs") or []
    return {str(j.get("id")): float(j["p_late"]) for j in jobs if isinstance(j, dict) and j.get("p_late") is not None}


def job_table(scenario: Scenario, state: dict[str, Any], forecast: dict[str, Any] | None = None) -> pd.DataFrame:
    """The jobs with a due date: ``job``, ``product``, ``where``, ``station``, ``due``,
    ``slack`` (due minus now), ``p_late`` (the forecast's, when there is one) and ``flag``:
    ``late`` (past due), ``at risk`` (a forecast gives it a 50% chance or more of being late;
    without a forecast, its mean remaining work exceeds its slack) or ``on time``."""
    now = float(state["time"])
    late = _late_probabilities(forecast)
    rows = []
    for job in state["jobs"]:
        due = job.get("due")
        if due is None or (isinstance(due, float) and math.isnan(due)):
            continue
        slack = float(due) - now
        p_late = late.get(str(job["id"]))
        risky = p_late >= 0.5 if p_late is not None else _remaining_work(scenario, job) > slack
        flag = "late" if slack < 0 else ("at risk" if risky else "on time")
        rows.append(
            {
                "job": job["id"], "product": job.get("product"), "where": job.get("where"),
                "station": job.get("station") or "", "due": float(due), "slack": slack, "p_late": p_late,
                "flag": flag,
            }
        )  # fmt: skip
    columns = ["job", "product", "where", "station", "due", "slack", "p_late", "flag"]
    table = pd.DataFrame(rows, columns=columns)
    rank = table["flag"].map({"late": 0, "at risk": 1, "on time": 2})
    return table.assign(_rank=rank).sort_values(["_rank", "slack"], kind="stable").drop(columns="_rank")


def fan_table(forecast: dict[str, Any] | None) -> pd.DataFrame:
    """The forecast's completions per bin of the horizon as a fan: columns ``start``,
    ``end``, ``p10``, ``p50``, ``p90`` (the forecast document of ``twin.sync.forecast``);
    empty without a forecast."""
    completions = (forecast or {}).get("completions") or {}
    starts = completions.get("start") or []
    width = float(completions.get("bin") or 0.0)
    columns = ["start", "end", "p10", "p50", "p90"]
    if not starts or not all(len(completions.get(k) or []) == len(starts) for k in ("p10", "p50", "p90")):
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame({key: completions[key] for key in ("p10", "p50", "p90")}, dtype=float)
    table.insert(0, "start", [float(s) for s in starts])
    table.insert(1, "end", table["start"] + width)
    return table[columns]
