"""``twin replay``: a stored event log sent to a broker as the floor would send it live.

One MQTT message per row (docs/architecture.md, "Live mirror"): a JSON object with the log's
columns (``time`` a number, empty cells ``""``) plus ``source`` and ``seq``. A log that has
both ``source`` and a complete ``seq`` column keeps them (so a log with injected duplicates
replays its duplicates); otherwise ``source`` is the log's (or ``""``) and ``seq`` counts from
1 per source. Rows go out in the file's order, which is the floor's order, disorder
included; ``speed`` times real time paces them by the newest time sent so far (``0``: as
fast as the broker takes them). Every message is QoS 1, and the replay ends only when the
broker has acknowledged all of them: a broker that restarts meanwhile gets the
unacknowledged ones again when it is back.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.sync.mirror_broker import BrokerURL, make_client

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ACK_TIMEOUT_S", "UNACKNOWLEDGED", "ReplayError", "ReplayResult", "log_messages", "replay_log"]

ACK_TIMEOUT_S = 60.0
"""Wall seconds without any acknowledgement from the broker after which the replay gives up."""


UNACKNOWLEDGED = 20
"""Messages sent and not yet acknowledged at most (paho's in-flight window). The replay waits
for the broker before sending more, so after a broker restart the messages paho sends again
go out before any new one: the replay itself never reorders the log."""


class ReplayError(RuntimeError):
    """The broker did not take every message (it stayed away too long)."""


@dataclass(frozen=True)
class ReplayResult:
    """What a replay sent: messages, sources, the log's time span and the wall time it took."""

    messages: int
    sources: int
    first: float
    last: float
    wall_s: float


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if hasattr(value, "item"):  # numpy and pandas scalars
        return _cell(value.item())
    if isinstance(value, str | int | bool):
        return value
    return str(value)


def log_messages(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """The messages of a canonical log frame (``twin.sync.eventlog.read_log``), in file order."""
    rows = frame.sort_index(kind="stable")
    keep_seq = "seq" in rows.columns and "source" in rows.columns and not rows["seq"].isna().any()
    counters: dict[str, int] = {}
    for record in rows.to_dict("records"):
        message = {str(key): _cell(value) for key, value in record.items()}
        message["time"] = float(record["time"])
        source = str(message.get("source", ""))
        message["source"] = source
        if keep_seq:
            message["seq"] = int(record["seq"])
        else:
            counters[source] = counters.get(source, 0) + 1
            message["seq"] = counters[source]
        yield message


def replay_log(
    frame: pd.DataFrame,
    url: BrokerURL,
    topic: str,
    speed: float,
    seconds_per_unit: float,
    log: Callable[[str], None] = lambda line: None,
    timeout: float = ACK_TIMEOUT_S,
) -> ReplayResult:
    """Publish ``frame``'s events on ``topic`` (module docstring); ``seconds_per_unit`` turns
    the log's time unit into wall seconds at ``speed`` 1.

    Raises:
        ReplayError: the broker refused the login, or acknowledged nothing for ``timeout``
            seconds while messages waited (a broker that stays away, or a TLS port spoken to
            in plain MQTT).
        ValueError: a negative ``speed``, a ``timeout`` not above 0.
    """
    if not speed >= 0:
        raise ValueError(f"--speed: must be >= 0 (got {speed})")
    if not timeout > 0:
        raise ValueError(f"--timeout: must be > 0 (got {timeout})")
    client = make_client(url, f"twin-replay-{os.getpid()}-{time.monotonic_ns() % 10**9}", persistent=True)
    client.max_queued_messages_set(0)
    refused: list[str] = []

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        else:
            log(f"replay: connected to {url}")

    acknowledged = [0]  # PUBACKs heard (message ids wrap at 65535, so they are counted, not kept)
    heard = threading.Condition()

    def on_publish(client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with heard:
            acknowledged[0] += 1
            heard.notify_all()

    def wait_for_broker(count: int) -> None:
        """Until ``count`` messages are acknowledged; fail when the broker refused the login
        or acknowledged nothing for ``timeout`` seconds."""
        with heard:
            last, since = acknowledged[0], time.monotonic()
            while acknowledged[0] < count:
                if refused:
                    raise ReplayError(f"{url} refused the connection: {refused[0]}")
                if acknowledged[0] != last:
                    last, since = acknowledged[0], time.monotonic()
                elif time.monotonic() - since > timeout:
                    raise ReplayError(
                        f"{sent - acknowledged[0]} of {sent} messages not acknowledged by {url} in {timeout:g} s"
                    )
                heard.wait(0.1)

    client.on_connect = on_connect
    client.on_publish = on_publish
    client.on_disconnect = lambda c, u, f, reason, p: log(f"replay: lost {url} ({reason}); reconnecting")
    client.connect_async(url.host, url.port, keepalive=30)
    client.loop_start()
    started = time.monotonic()
    sent = 0
    sources: set[str] = set()
    newest = -math.inf
    first = math.inf
    try:
        for message in log_messages(frame):
            if refused:
                raise ReplayError(f"{url} refused the connection: {refused[0]}")
            newest = max(newest, message["time"])
            first = min(first, message["time"])
            if speed > 0:
                wait = started + (newest - first) * seconds_per_unit / speed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            sources.add(message["source"])
            wait_for_broker(sent - UNACKNOWLEDGED + 1)  # see UNACKNOWLEDGED
            # published before the connection is up, a message waits in paho's queue (rc NO_CONN)
            client.publish(topic, json.dumps(message, allow_nan=False), qos=1)
            sent += 1
        wait_for_broker(sent)
    finally:
        client.disconnect()
        client.loop_stop()
    return ReplayResult(sent, len(sources), first if sent else 0.0, newest if sent else 0.0, time.monotonic() - started)
