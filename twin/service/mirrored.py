"""The plant state the live mirror keeps current, as the service reads it.

``twin mirror SCENARIO --state-out FILE`` replaces ``FILE`` in one rename after every change;
``twin serve --scenario SCENARIO --mirror-state FILE`` reads it when asked (``GET /v1/state``,
and decisions and forecasts that bring no state of their own), re-reading only when the file
changed, and checks it against the served scenario.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from twin.scenario import Scenario
from twin.scenario.state import PlantState, load_state, parse_state
from twin.service.scenarios import read_scenario

__all__ = ["MirroredState", "NoMirror", "plant_of"]


class NoMirror(LookupError):
    """No mirrored state to answer from; the message says why."""

    def __str__(self) -> str:
        return str(self.args[0])


class MirroredState:
    """The state file of a running mirror (or nothing, when the service follows none)."""

    def __init__(self, scenario: Scenario | None, path: Path | None) -> None:
        self.scenario, self.path = scenario, path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._state: PlantState | None = None

    def current(self) -> tuple[PlantState, float]:
        """The mirrored state and the seconds since the mirror last wrote it.

        Raises:
            NoMirror: the service follows no mirror, or the mirror has written no state yet.
            ScenarioError: the file holds no valid state of the served scenario.
        """
        if self.path is None or self.scenario is None:
            raise NoMirror("state: this service follows no mirror (twin serve --scenario S --mirror-state FILE)")
        try:
            status = self.path.stat()
        except FileNotFoundError:
            raise NoMirror(f"state: the mirror has written no state yet (no {self.path})") from None
        stamp = (status.st_mtime_ns, status.st_size)
        with self._lock:
            if stamp != self._stamp or self._state is None:
                self._state = load_state(self.path, self.scenario)
                self._stamp = stamp
            return self._state, max(0.0, time.time() - status.st_mtime)


def plant_of(
    mirror: MirroredState, scenario: dict[str, Any] | str | None, overrides: list[str], state: dict[str, Any] | None
) -> tuple[Scenario, PlantState]:
    """The scenario and plant state a request means: its own, or else the served scenario
    (with the request's overrides) and the mirror's current state.

    Raises:
        NoMirror: the request brings no scenario or state and the service follows none.
        ScenarioError: the scenario or the state is invalid (the state is checked against
            the scenario).
    """
    if scenario is None:
        if mirror.scenario is None:
            raise NoMirror("scenario: required (this service follows no plant: twin serve --scenario)")
        plant = read_scenario(mirror.scenario.to_dict(), overrides) if overrides else mirror.scenario
    else:
        plant = read_scenario(scenario, overrides)
    if state is None:
        state = mirror.current()[0].model_dump(mode="json")
    return plant, parse_state(state, plant)
