"""Machines silent for longer than expected: busy, in setup or down for more than three
times the scenario's mean of that state; idle and blocked machines may wait for ever."""

from __future__ import annotations

from typing import Any

from twin.scenario import parse_scenario
from twin.sync.mirror_silence import SILENCE_FACTOR, silent_machines

LINE = parse_scenario(
    {
        "name": "quiet-line",
        "horizon": 100,
        "products": {"part": {"arrival": 5.0, "route": ["cut", "drill"]}},
        "stations": {
            "cut": {"process_time": {"dist": "exponential", "mean": 2.0}, "failures": {"ttf": 50, "ttr": 4.0}},
            "drill": {"process_time": 1.0},
        },
    }
)


def state(time: float, machines: list[dict[str, Any]], jobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"time": time, "machines": machines, "jobs": jobs or []}


def on(station: str, step: int) -> dict[str, Any]:
    return {"id": "j", "product": "part", "step": step, "where": "machine", "station": station, "machine": "0"}


def test_busy_and_down_machines_fall_silent_after_three_means() -> None:
    busy = {"station": "cut", "machine": "0", "state": "busy", "since": 10.0}
    assert SILENCE_FACTOR == 3.0
    assert silent_machines(LINE, state(15.9, [busy], [on("cut", 0)])) == []  # 5.9 < 3 x 2
    assert silent_machines(LINE, state(16.1, [busy], [on("cut", 0)])) == [
        {"station": "cut", "machine": "0", "state": "busy", "since": 10.0, "expected": 2.0}
    ]
    down = {"station": "cut", "machine": "0", "state": "down", "since": 10.0}
    assert silent_machines(LINE, state(21.0, [down])) == []  # 11 < 3 x 4
    assert [m["expected"] for m in silent_machines(LINE, state(22.5, [down]))] == [4.0]
    drill = {"station": "drill", "machine": "0", "state": "busy", "since": 0.0}
    assert [m["station"] for m in silent_machines(LINE, state(3.5, [drill], [on("drill", 1)]))] == ["drill"]


def test_waiting_machines_are_never_silent() -> None:
    machines = [
        {"station": "cut", "machine": "0", "state": "idle", "since": 0.0},
        {"station": "drill", "machine": "0", "state": "blocked", "since": 0.0},
        {"station": "drill", "machine": "1", "state": "down", "since": 0.0},  # drill has no failures declared
    ]
    assert silent_machines(LINE, state(1e6, machines)) == []
