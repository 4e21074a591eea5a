"""``twin mirror``: the twin following the floor live over MQTT (docs/architecture.md, "Live mirror").

:class:`Mirror` subscribes to the events topic with a persistent session at QoS 1, so a
broker restart loses nothing: paho-mqtt reconnects with a doubling backoff
(:data:`~twin.sync.mirror_broker.RECONNECT_MIN_S` to ``MIRROR_RECONNECT_MAX_S``), the broker kept
the subscription and the messages that came meanwhile, and the mirror subscribes again
anyway. Messages go from paho's network thread through a queue to the mirror's loop, which
feeds them to :class:`~twin.sync.mirror_ingest.Ingest` (dedupe, reorder, apply to the plant
state). After every pass that changed the state, ``state_out`` is replaced in one rename;
every ``forecast_every`` wall seconds, on a message on ``PUBLISH/request`` and when
stopping, the mirror publishes on ``PUBLISH`` (retained, QoS 1)::

    {"time": T, "state": {...as twin state}, "forecast": {...} | null, "health": {...}}

``health`` is :meth:`~twin.sync.mirror_ingest.Health.to_json` with the machines silent for
longer than expected (:mod:`twin.sync.mirror_silence`).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.scenario import Scenario
from twin.sync.mirror_broker import MIRROR_RECONNECT_MAX_S, BrokerURL, make_client
from twin.sync.mirror_ingest import Ingest
from twin.sync.mirror_silence import silent_machines

__all__ = ["POLL_S", "Mirror", "MirrorConfig", "default_publish_topic", "request_topic"]

POLL_S = 0.05
"""Longest wall wait for a message before the loop looks at its clocks again (seconds)."""

MAX_PER_PASS = 10_000
"""Messages taken in one pass of the loop at most, so a flood still sees the clocks."""

Forecaster = Callable[[dict[str, Any]], dict[str, Any] | None]
"""Turns a plant state (JSON) into the forecast part of the message (None: no forecast)."""


def default_publish_topic(topic: str) -> str:
    """Where the mirror publishes when not told: ``plant/events`` -> ``plant/forecast``; a
    filter keeps its levels before the first wildcard (``site/+/events`` -> ``site/forecast``)."""
    levels: list[str] = []
    for level in topic.strip("/").split("/"):
        if "+" in level or "#" in level:
            break
        levels.append(level)
    if levels and levels[-1] == "events":
        levels.pop()
    return "/".join([*levels, "forecast"]) if levels else "twin/forecast"


def request_topic(publish: str) -> str:
    """The topic on which any message asks the mirror to publish now."""
    return f"{publish}/request"


@dataclass(frozen=True)
class MirrorConfig:
    """How the mirror runs: topics, cadence and output."""

    topic: str
    """Topic (filter) the events come on."""
    publish: str
    """Topic of the retained state-and-forecast message."""
    forecast_every: float = 5.0
    """Wall seconds between published messages."""
    state_out: Path | None = None
    """File replaced with the plant state after every pass that changed it."""
    client_id: str = "twin-mirror"
    """MQTT client id: the broker keeps the session of this id across restarts."""


class Mirror:
    """The live loop over one broker (module docstring); :meth:`run` until ``stop`` is set."""

    def __init__(
        self,
        url: BrokerURL,
        config: MirrorConfig,
        ingest: Ingest,
        scenario: Scenario | None = None,
        forecaster: Forecaster | None = None,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.url = url
        self.config = config
        self.ingest = ingest
        self.scenario = scenario
        self.forecaster = forecaster
        self.log = log
        self.forecast_error: str | None = None
        self.connected = threading.Event()
        self._forecast: tuple[int, dict[str, Any] | None] = (-1, None)
        self._inbox: queue.SimpleQueue[tuple[str, bytes, bool, float]] = queue.SimpleQueue()
        self._written = -1

    def state_json(self) -> dict[str, Any]:
        """The plant state now, as ``twin state`` writes it."""
        document: dict[str, Any] = self.ingest.builder.state().to_json()
        return document

    def message(self, now: float) -> dict[str, Any]:
        """The document the mirror publishes, with the health at wall time ``now``."""
        self.ingest.tick(now)
        state = self.state_json()
        health = self.ingest.health
        if self.scenario is not None:
            health.silent = silent_machines(self.scenario, state)
        document = health.to_json()
        forecast = self._forecast_of(state)
        if self.forecast_error is not None:
            document["forecast_error"] = self.forecast_error
        return {"time": state["time"], "state": state, "forecast": forecast, "health": document}

    def _forecast_of(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """The forecast of ``state``, run again only when events changed it (a forecast is a
        pure function of the state and the seed); a forecast that fails is logged once and
        published as null, with its reason in ``health.forecast_error``."""
        if self.forecaster is None:
            return None
        applied = self.ingest.health.applied
        if self._forecast[0] != applied:
            try:
                self._forecast = (applied, self.forecaster(state))
                self.forecast_error = None
            except Exception as error:  # a state the model cannot start from (ScenarioError), or a bug: never a crash
                if str(error) != self.forecast_error:
                    self.log(f"mirror: no forecast: {error}")
                self.forecast_error = str(error)
                self._forecast = (applied, None)
        return self._forecast[1]

    def write_state(self) -> None:
        """Replace ``state_out`` with the state, if it changed since the last write."""
        from twin.studies.store import write_json_atomic

        applied = self.ingest.health.applied
        if self.config.state_out is not None and applied != self._written:
            write_json_atomic(self.config.state_out, self.state_json())
            self._written = applied

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.log(f"mirror: {self.url} refused the connection ({reason})")
            return
        client.subscribe([(self.config.topic, 1), (request_topic(self.config.publish), 1)])
        resumed = " (session resumed)" if flags.session_present else ""
        self.log(f"mirror: connected to {self.url}, following {self.config.topic}{resumed}")
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        self.log(f"mirror: lost {self.url} ({reason}); reconnecting")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self._inbox.put((message.topic, message.payload, bool(message.dup), time.monotonic()))

    def _drain(self, wait: float) -> bool:
        """Take the messages waiting, up to :data:`MAX_PER_PASS` (waiting up to ``wait`` s for
        the first); True when one asked to publish."""
        requested = False
        asks = request_topic(self.config.publish)
        for count in range(MAX_PER_PASS):
            try:
                item = self._inbox.get(timeout=wait) if count == 0 and wait > 0 else self._inbox.get_nowait()
            except queue.Empty:
                break
            topic, payload, dup, arrived = item
            if topic == asks:
                requested = True
            elif topic != self.config.publish:  # a wildcard filter may also match our own message
                self.ingest.receive(payload, time.monotonic(), redelivery=dup, arrived=arrived)
        return requested

    def _publish(self, client: Any) -> Any:
        document = self.message(time.monotonic())
        try:
            text = json.dumps(document, allow_nan=False)
        except ValueError as error:  # a forecast with a NaN in it: publish the rest
            self.forecast_error = f"forecast not valid JSON: {error}"
            text = json.dumps({**document, "forecast": None}, allow_nan=False)
        return client.publish(self.config.publish, text, qos=1, retain=True)

    def run(self, stop: threading.Event) -> None:
        """Follow the broker until ``stop`` is set, then apply what is held, write and publish
        a last time."""
        client = make_client(self.url, self.config.client_id, persistent=True, reconnect_max_s=MIRROR_RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.connect_async(self.url.host, self.url.port, keepalive=30)
        client.loop_start()
        try:
            next_publish = time.monotonic() + self.config.forecast_every
            while not stop.is_set():
                requested = self._drain(min(POLL_S, max(0.0, next_publish - time.monotonic())))
                now = time.monotonic()
                self.ingest.tick(now)
                self.write_state()
                if requested or now >= next_publish:
                    self._publish(client)
                    next_publish = now + self.config.forecast_every
            self._drain(0)
            self.ingest.flush(time.monotonic())
            self.write_state()
            last = self._publish(client)
            if self.connected.is_set():
                last.wait_for_publish(timeout=5)
        finally:
            client.disconnect()
            client.loop_stop()
