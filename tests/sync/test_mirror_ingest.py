"""The mirror's ingest pipeline without a broker: parse, dedupe, reorder within the window,
flush after a second of quiet, reject the malformed, the late and the impossible; the
counts add up. The builder here records what it is given (the real one is tested with the
real mirror in test_mirror.py)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from typing import Any

import pytest

from twin.sync.mirror_ingest import FLUSH_AFTER_S, Ingest, MalformedMessage, parse_message


class Recorder:
    """A builder that applies everything except what ``refuse`` names (by job)."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.rows: list[dict[str, Any]] = []
        self.refuse = refuse

    def apply(self, row: Mapping[str, Any]) -> str | None:
        if row["job"] in self.refuse:
            return f"finish of a job not on the machine (job '{row['job']}')"
        self.rows.append(dict(row))
        return None

    def state(self) -> Any:
        return {"rows": list(self.rows)}


def message(time: float, seq: int, source: str = "", event: str = "start", job: str = "j1", **extra: Any) -> bytes:
    return json.dumps(
        {"time": time, "event": event, "job": job, "product": "", "station": "cut", "machine": "1",
         "source": source, "seq": seq, **extra}
    ).encode()  # fmt: skip


def test_a_message_becomes_a_log_row() -> None:
    event = parse_message(message(2.5, 7, source="plc-1", due=9))
    assert (event.time, event.source, event.seq) == (2.5, "plc-1", 7)
    assert event.row == {
        "time": 2.5, "event": "start", "job": "j1", "product": "", "station": "cut", "machine": "1", "due": 9.0,
    }  # fmt: skip
    assert math.isnan(parse_message(message(1, 1)).row["due"])
    assert (
        parse_message(b'{"time": 1, "event": "down", "station": "cut", "machine": 2, "seq": 1}').row["machine"] == "2"
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "not JSON"),  # binary garbage
        (b"{time: 1}", "not JSON"),  # JavaScript, not JSON
        (b"[1, 2]", "not a JSON object (got list)"),  # an array
        (b'{"event": "start", "job": "a", "seq": 1}', "time: missing"),  # no time
        (b'{"time": "10:00", "event": "start", "job": "a", "seq": 1}', 'time: must be a number (got "10:00")'),
        (b'{"time": NaN, "event": "start", "job": "a", "seq": 1}', "time: must be finite"),  # NaN time
        (b'{"time": 1, "event": "start", "job": "a"}', "seq: missing"),  # no counter
        (b'{"time": 1, "event": "start", "job": "a", "seq": 0}', "seq: must be an integer from 1 (got 0)"),
        (b'{"time": 1, "event": "start", "job": "a", "seq": 1.5}', "seq: must be an integer from 1"),
        (b'{"time": 1, "event": "start", "job": "a", "seq": true}', "seq: must be an integer from 1"),
        (b'{"time": 1, "event": "explode", "job": "a", "seq": 1}', 'event: unknown (got "explode")'),
        (b'{"time": 1, "event": "start", "seq": 1}', "job: required on start"),  # job event without job
        (b'{"time": 1, "event": "start", "job": ["a"], "seq": 1}', "job: must be text"),  # a list as job
        (b'{"time": 1, "event": "arrive", "job": "a", "due": "soon", "seq": 1}', "due: must be a number"),
    ],
)
def test_malformed_messages_say_why(payload: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage) as error:
        parse_message(payload)
    assert reason in str(error.value)


def test_duplicates_are_recognised_by_source_and_seq() -> None:
    recorder = Recorder()
    ingest = Ingest(recorder, window=0)
    for payload in (message(1, 1), message(1, 1), message(2, 1, source="plc-2"), message(2, 2), message(2, 2)):
        ingest.receive(payload, now=0.0)
    ingest.flush(0.0)
    health = ingest.health
    assert (health.received, health.applied, health.duplicates, health.rejected) == (5, 3, 2, 0)
    assert [r["time"] for r in recorder.rows] == [1, 2, 2]


def test_a_broker_redelivery_is_not_a_duplicate_of_the_floor() -> None:
    ingest = Ingest(Recorder(), window=0)
    ingest.receive(message(1, 1), now=0.0)
    ingest.receive(message(1, 1), now=0.1, redelivery=True)
    ingest.receive(message(1, 1), now=0.2)
    assert (ingest.health.received, ingest.health.duplicates, ingest.health.redelivered) == (2, 1, 1)


def test_events_are_put_in_time_order_within_the_window() -> None:
    recorder = Recorder()
    ingest = Ingest(recorder, window=1.0)
    arrivals = [(0.0, 1), (2.0, 3), (1.0, 2), (3.5, 5), (3.0, 4), (5.0, 6)]
    for time, seq in arrivals:
        ingest.receive(message(time, seq), now=0.0)
    assert [r["time"] for r in recorder.rows] == [0.0, 1.0, 2.0, 3.0, 3.5]  # 5.0 waits for an event at >= 6
    assert ingest.held == 1
    assert ingest.health.reordered == 2
    ingest.flush(0.0)
    assert [r["time"] for r in recorder.rows] == [0.0, 1.0, 2.0, 3.0, 3.5, 5.0]


@pytest.mark.parametrize(
    ("arrival", "moved"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8], 0),  # in order
        ([2, 1, 3, 4, 6, 5, 7, 8], 2),  # two swaps of neighbours
        ([1, 2, 7, 3, 4, 5, 6, 8], 1),  # one event jumped ahead of four
        ([1, 3, 4, 5, 6, 2, 7, 8], 1),  # one event fell behind four
        ([4, 3, 2, 1, 5, 6, 7, 8], 3),  # four backwards: three must move
    ],
)
def test_reordered_counts_the_fewest_events_to_move(arrival: list[int], moved: int) -> None:
    recorder = Recorder()
    ingest = Ingest(recorder, window=10.0)
    for seq in arrival:
        ingest.receive(message(float(seq), seq), now=0.0)
    ingest.flush(0.0)
    assert ingest.health.reordered == moved
    assert [r["time"] for r in recorder.rows] == sorted(float(s) for s in arrival)


def test_ties_go_by_seq() -> None:
    recorder = Recorder()
    ingest = Ingest(recorder, window=1.0)
    for seq, job in ((2, "b"), (1, "a"), (3, "c")):
        ingest.receive(message(4.0, seq, job=job), now=0.0)
    ingest.flush(0.0)
    assert [r["job"] for r in recorder.rows] == ["a", "b", "c"]
    assert ingest.health.reordered == 1


def test_held_events_are_applied_after_a_second_of_quiet() -> None:
    recorder = Recorder()
    ingest = Ingest(recorder, window=1.0)
    ingest.receive(message(1.0, 1), now=10.0)
    ingest.receive(message(1.2, 2), now=10.5)
    ingest.tick(10.5 + FLUSH_AFTER_S - 0.01)
    assert recorder.rows == [] and ingest.health.lag_s == pytest.approx(FLUSH_AFTER_S + 0.49)
    ingest.tick(10.5 + FLUSH_AFTER_S)
    assert [r["time"] for r in recorder.rows] == [1.0, 1.2]
    assert ingest.health.lag_s == 0.0


def test_the_wait_counts_from_arrival() -> None:
    waits: list[float] = []
    ingest = Ingest(Recorder(), window=0, on_applied=lambda event, wait: waits.append(wait))
    ingest.receive(message(1.0, 1), now=5.25, arrived=5.0)  # it waited a quarter second in the queue
    assert waits == [0.25]


def test_late_malformed_and_impossible_events_are_rejected_with_reasons() -> None:
    recorder = Recorder(refuse=frozenset({"ghost"}))
    ingest = Ingest(recorder, window=0.5)
    ingest.receive(message(1.0, 1), now=0.0)
    ingest.receive(message(5.0, 2), now=0.0)  # releases time 1
    ingest.receive(message(0.5, 3), now=0.0)  # older than what was applied
    ingest.receive(b"not json", now=0.0)
    ingest.receive(message(6.0, 4, event="finish", job="ghost"), now=0.0)
    ingest.flush(0.0)
    health = ingest.health
    assert (health.received, health.applied, health.rejected, health.duplicates) == (5, 2, 3, 0)
    assert health.to_json()["rejections"] == {
        "impossible: finish of a job not on the machine": 1,
        "malformed: not JSON": 1,
        "too late: older than the events already applied": 1,
    }


def test_counts_add_up_under_random_faults() -> None:
    rng = random.Random(7)
    recorder = Recorder()
    ingest = Ingest(recorder, window=2.0)
    events = [message(i * 0.5, i + 1) for i in range(400)]
    copied = rng.sample(range(400), 40)
    sent = events + [events[i] for i in copied]  # 40 duplicates, each some time after its original
    position = list(range(400)) + [i + rng.randrange(1, 50) for i in copied]
    # each event displaced by less than 3 places, 1.5 time units: within the window of 2
    order = sorted(range(len(sent)), key=lambda i: position[i] + rng.random() * 3)
    for index in order:
        ingest.receive(sent[index], now=0.0)
        if rng.random() < 0.05:
            ingest.receive(b"{", now=0.0)
    ingest.flush(0.0)
    health = ingest.health
    assert health.duplicates == 40 and health.applied == 400 and health.reordered > 0
    assert health.received == health.applied + health.duplicates + health.rejected
    assert [r["time"] for r in recorder.rows] == [i * 0.5 for i in range(400)]


def test_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match=r"--reorder-window: must be >= 0 \(got -1"):
        Ingest(Recorder(), window=-1)
