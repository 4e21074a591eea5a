"""The live mirror's ingest pipeline, without MQTT: messages in, plant-state updates out.

Every message goes through four steps (docs/architecture.md, "Live mirror"):

1. **parse**: a JSON object with the event log's columns (``time`` a number, a known
   ``event``, the ``job`` of a job event, empty cells ``""``), ``source`` (default ``""``)
   and ``seq`` (an integer from 1 per source); anything else is *rejected* as malformed,
   with the reason. What an event needs beyond that (a station, a product on ``arrive``)
   the plant-state builder judges.
2. **dedupe** by (``source``, ``seq``): a message seen before is a *duplicate*, dropped.
3. **reorder**: events wait in a heap ordered by ``time`` then ``seq`` until an event at least
   ``window`` time units newer has come, or until no new event has come for
   :data:`FLUSH_AFTER_S` seconds of wall time, so the last events are never stuck.
   *Reordered* counts the fewest events that would have to move to put the arrivals in
   order (one swap of neighbours is one; one event that jumps far ahead is one). An event
   older than what was already applied is too late to put in its place and is *rejected*.
4. **apply** to the plant-state builder, which rejects impossible events (a ``finish`` for a
   job not on that machine) with a reason: *rejected*, never a crash.

:class:`Health` holds the counts the mirror publishes. Wall-clock readings come in as
arguments (``now``, seconds), so the pipeline is a pure function of its inputs and tests can
drive its clock.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from twin.sync.eventlog import COLUMNS, EVENTS, JOB_EVENTS

__all__ = ["FLUSH_AFTER_S", "Event", "Health", "Ingest", "MalformedMessage", "StateBuilder", "parse_message"]

FLUSH_AFTER_S = 1.0
"""Wall seconds without a new event after which every held event is applied."""

_SETTLE_EVERY = 1024
"""Increasing-run tails kept before the settled ones are dropped (amortises the cut)."""

_TEXT = ("job", "product", "station", "machine", "source")


class MalformedMessage(ValueError):
    """A message that is not an event: the text says which field and what is wrong."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event as the mirror holds it: the log row (``row``, the contract's columns with
    ``due`` NaN when absent) and where it came from."""

    time: float
    source: str
    seq: int
    row: dict[str, Any]


class _StateDocument(Protocol):
    def to_json(self) -> dict[str, object]:
        """The plant state as the JSON document of ``twin state``."""


class StateBuilder(Protocol):
    """What the mirror needs of the plant-state builder (``twin.sync.state.StateTracker``)."""

    def apply(self, row: Mapping[str, Any]) -> str | None:
        """Apply one event-log row; return why it is impossible (then nothing changed), or None."""

    def state(self) -> _StateDocument:
        """The plant state now."""


def _number(message: Mapping[str, Any], key: str) -> float:
    value = message.get(key, "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedMessage(f"{key}: must be a number (got {json.dumps(value)[:40]})")
    if not math.isfinite(value):
        raise MalformedMessage(f"{key}: must be finite (got {value})")
    return float(value)


def _text(message: Mapping[str, Any], key: str) -> str:
    value = message.get(key, "")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedMessage(f"{key}: must be text (got {json.dumps(value)[:40]})")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_message(payload: bytes) -> Event:
    """One MQTT payload as an :class:`Event`.

    Raises:
        MalformedMessage: not UTF-8 JSON, not an object, or a field missing or of the wrong
            kind (``field: what is wrong (got X)``).
    """
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedMessage(f"not JSON ({error.__class__.__name__})") from None
    if not isinstance(message, dict):
        raise MalformedMessage(f"not a JSON object (got {type(message).__name__})")
    for key in ("time", "event", "seq"):
        if key not in message:
            raise MalformedMessage(f"{key}: missing")
    time = _number(message, "time")
    seq = message["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise MalformedMessage(f"seq: must be an integer from 1 (got {json.dumps(seq)[:40]})")
    event = message["event"]
    if event not in EVENTS:
        raise MalformedMessage(f"event: unknown (got {json.dumps(event)[:40]})")
    row: dict[str, Any] = {"time": time, "event": event}
    for key in _TEXT:
        row[key] = _text(message, key)
    due = message.get("due", "")
    row["due"] = math.nan if due in ("", None) else _number(message, "due")
    if event in JOB_EVENTS and not row["job"]:
        raise MalformedMessage(f"job: required on {event}")
    source = row.pop("source")
    return Event(time, source, seq, {key: row[key] for key in (*COLUMNS, "due")})


@dataclass
class Health:
    """The mirror's counts (contract: ``received``, ``applied``, ``duplicates``,
    ``reordered``, ``rejected``, ``lag_s``), the reasons of the rejections, and the
    machines silent for longer than expected.

    Every message received is, once nothing is held, exactly one of applied, duplicate or
    rejected: ``received == applied + duplicates + rejected + held``. ``lag_s`` is how far
    (wall seconds) the state trails the newest message: the wait of the oldest event still
    held, 0 when none is (each event's own wait goes to ``Ingest``'s ``on_applied``). ``redelivered`` counts
    the broker's own repeats (MQTT ``dup``), which are in none of the other counts.
    """

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    reordered: int = 0
    rejected: int = 0
    lag_s: float = 0.0
    redelivered: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    silent: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``health`` object of the mirror's message."""
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "reordered": self.reordered,
            "rejected": self.rejected,
            "lag_s": round(self.lag_s, 6),
            "redelivered": self.redelivered,
            "rejections": dict(sorted(self.reasons.items())),
            "silent": self.silent,
        }


class _Seen:
    """The (source, seq) pairs seen, in little memory: per source, the highest seq below
    which every seq was seen, and the seqs seen above it."""

    def __init__(self) -> None:
        self.floor: dict[str, int] = {}
        self.above: dict[str, set[int]] = {}

    def add(self, source: str, seq: int) -> bool:
        """Record (source, seq); False when it was seen already."""
        floor = self.floor.get(source, 0)
        above = self.above.setdefault(source, set())
        if seq <= floor or seq in above:
            return False
        above.add(seq)
        while floor + 1 in above:
            floor += 1
            above.remove(floor)
        self.floor[source] = floor
        return True


class _Disorder:
    """How many events arrived out of order: the fewest that would have to move to put the
    arrival sequence in (time, seq) order, ``count`` minus its longest increasing run
    (patience sorting, online). One swap of neighbours is 1, one event that jumps ahead
    or falls behind by many places is 1 too.

    ``tails[i]`` is the smallest key ending an increasing run of length ``settled + i + 1``.
    Keys older than the applied events can no longer be displaced (a later event that old is
    rejected), so :meth:`settle` drops them and counts them in ``settled``; memory stays
    within the reorder window.
    """

    def __init__(self) -> None:
        self.count = 0
        self.settled = 0
        self.tails: list[tuple[float, int, str]] = []

    @property
    def moved(self) -> int:
        return self.count - self.settled - len(self.tails)

    def add(self, key: tuple[float, int, str]) -> None:
        self.count += 1
        at = bisect.bisect_left(self.tails, key)
        if at == len(self.tails):
            self.tails.append(key)
        else:
            self.tails[at] = key

    def settle(self, applied: float) -> None:
        if len(self.tails) > _SETTLE_EVERY:
            cut = bisect.bisect_left(self.tails, (applied, -1, ""))
            self.settled += cut
            del self.tails[:cut]


def _reason_kind(reason: str) -> str:
    """The reason without the details that differ per event (after the first ``(``)."""
    return reason.split(" (", 1)[0].strip()


class Ingest:
    """Parse, dedupe, reorder and apply events to ``builder`` (module docstring).

    ``window`` is the reorder window in the log's time unit; ``on_applied(event, delay_s)``,
    when given, hears of every applied event and how long (wall seconds) it waited.
    """

    def __init__(
        self,
        builder: StateBuilder,
        window: float = 1.0,
        on_applied: Callable[[Event, float], None] | None = None,
    ) -> None:
        if not window >= 0:
            raise ValueError(f"--reorder-window: must be >= 0 (got {window})")
        self.builder = builder
        self.window = window
        self.health = Health()
        self._on_applied = on_applied
        self._seen = _Seen()
        self._held: list[tuple[float, int, int, Event, float]] = []
        self._count = 0
        self._newest = -math.inf
        self._order = _Disorder()
        self._applied_time = -math.inf
        self._last_new = -math.inf

    @property
    def held(self) -> int:
        """Events waiting in the reorder window."""
        return len(self._held)

    def _reject(self, reason: str) -> None:
        self.health.rejected += 1
        self.health.reasons[_reason_kind(reason)] += 1

    def receive(self, payload: bytes, now: float, redelivery: bool = False, arrived: float | None = None) -> None:
        """Take one message at wall time ``now`` (seconds) that arrived at ``arrived`` (default
        ``now``: a message may wait in the mirror's queue); apply what it releases.

        ``redelivery`` is the MQTT ``dup`` flag: the broker sends a QoS 1 message again when
        it did not hear the acknowledgement (a broker restart), and such a copy of a message
        already taken is counted as ``redelivered``, not as a received duplicate: it is the
        protocol's doing, not the floor's.
        """
        try:
            event = parse_message(payload)
        except MalformedMessage as error:
            self.health.received += 1
            self._reject(f"malformed: {error}")
            return
        if not self._seen.add(event.source, event.seq):
            if redelivery:
                self.health.redelivered += 1
            else:
                self.health.received += 1
                self.health.duplicates += 1
            return
        self.health.received += 1
        if event.time < self._applied_time:
            self._reject(f"too late: older than the events already applied (time {event.time:g})")
            return
        self._order.add((event.time, event.seq, event.source))
        self.health.reordered = self._order.moved
        self._newest = max(self._newest, event.time)
        came = now if arrived is None else arrived
        self._last_new = came
        self._count += 1
        heapq.heappush(self._held, (event.time, event.seq, self._count, event, came))
        self._release(self._newest - self.window, now)

    def tick(self, now: float) -> None:
        """Apply every held event when no new event has come for :data:`FLUSH_AFTER_S`; update the lag."""
        if self._held and now - self._last_new >= FLUSH_AFTER_S:
            self._release(math.inf, now)
        self.health.lag_s = now - self._held[0][4] if self._held else 0.0

    def flush(self, now: float) -> None:
        """Apply every held event now (the mirror is stopping)."""
        self._release(math.inf, now)
        self.tick(now)

    def _release(self, up_to: float, now: float) -> None:
        for event, arrived in self._pop(up_to):
            reason = self.builder.apply(event.row)
            if reason is not None:
                self._reject(f"impossible: {reason}")
                continue
            self.health.applied += 1
            self._applied_time = event.time
            self._order.settle(event.time)
            if self._on_applied is not None:
                self._on_applied(event, now - arrived)

    def _pop(self, up_to: float) -> Iterator[tuple[Event, float]]:
        while self._held and self._held[0][0] <= up_to:
            _, _, _, event, arrived = heapq.heappop(self._held)
            yield event, arrived
