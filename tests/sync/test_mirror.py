"""The live mirror end to end, with a real mosquitto: `twin replay` of a log with injected
duplicates, reorderings and an impossible event, the broker restarted mid-stream, a
malformed message; the mirror's final state equals `twin state LOG --at T_end` exactly
and its health counts equal the injected faults. Also: `--state-in` continues a state,
`--state-out` is written atomically, the request topic, logins and bad options."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.broker import Broker, needs_mosquitto, running_broker
from twin.measure.experiment import simulate
from twin.scenario import parse_scenario
from twin.scenario.state import parse_state
from twin.sync.eventlog import events_to_log, read_log
from twin.sync.forecast import forecast
from twin.sync.mirror_broker import make_client, parse_broker_url
from twin.sync.state import state_from_frame

pytestmark = needs_mosquitto

TWIN = str(Path(sys.executable).with_name("twin"))

LINE = {
    "name": "mirror-line",
    "time_unit": "min",
    "horizon": 240,
    "replications": 1,
    "seed": 4,
    "products": {"part": {"arrival": {"dist": "exponential", "mean": 1.3}, "route": ["cut", "drill"],
                          "due_date": {"slack": 15}}},
    "stations": {
        "cut": {"machines": 2, "process_time": {"dist": "exponential", "mean": 2.0},
                "failures": {"ttf": {"dist": "exponential", "mean": 60}, "ttr": {"dist": "exponential", "mean": 4}}},
        "drill": {"buffer": 4, "process_time": {"dist": "triangular", "low": 0.5, "mode": 1.0, "high": 1.4}},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The scenario file and the twin's own log of it (about 1,200 events)."""
    folder = tmp_path_factory.mktemp("plant")
    path = folder / "line.yaml"
    path.write_text(yaml.safe_dump(LINE))
    scenario = parse_scenario(LINE)
    frame = events_to_log(simulate(scenario, replications=1, seed=4).events, scenario)
    return path, frame


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path / "broker") as running:
        yield running


class Listener:
    """A paho client holding the newest message on the mirror's topic."""

    def __init__(self, url: str, topic: str) -> None:
        self.url = parse_broker_url(url)
        self.topic = topic
        self.latest: dict[str, Any] | None = None
        self.client = make_client(self.url, "", persistent=False)
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe(topic, 1)
        self.client.on_message = self._keep
        self.client.connect(self.url.host, self.url.port)
        self.client.loop_start()

    def _keep(self, client: Any, userdata: Any, message: Any) -> None:
        self.latest = json.loads(message.payload)

    def ask(self) -> None:
        self.client.publish(f"{self.topic}/request", b"", qos=1)

    def wait_for(self, done: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while self.latest is None or not done(self.latest):
            assert time.monotonic() < deadline, f"no such message in {timeout} s; last: {self.latest}"
            self.ask()
            time.sleep(0.3)
        return self.latest

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def settled(message: dict[str, Any]) -> bool:
    """Nothing held in the reorder window: every message received was applied, dropped or rejected."""
    health = message["health"]
    return bool(health["received"] == health["applied"] + health["duplicates"] + health["rejected"])


FOLLOW_EVENTS = ("--topic", "plant/events", "--forecast-every", "0.5")


def start_mirror(scenario: Path, url: str, folder: Path, *options: str) -> tuple[subprocess.Popen[str], Path]:
    """The mirror, once it is subscribed: a replay started before that would publish to nobody
    (a first connection has no session for the broker to keep messages in)."""
    log = folder / "mirror.log"
    process = subprocess.Popen(
        [TWIN, "mirror", str(scenario), "--broker", url, *options],
        stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while "connected to" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the mirror did not connect in 30 s"
        time.sleep(0.1)
    return process, log


def stop(process: subprocess.Popen[str]) -> str:
    os.kill(process.pid, signal.SIGTERM)
    stdout, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    return stdout


def inject_faults(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, int]]:
    """The log as the floor might send it: rows numbered by ``seq``, then 6 rows sent twice,
    4 neighbouring pairs with different times swapped, and one impossible ``finish``."""
    rows = frame.reset_index(drop=True).assign(source="", seq=np.arange(1, len(frame) + 1))
    order = list(range(len(rows)))
    times = rows["time"].to_numpy()
    candidates = [i for i in range(50, len(rows) - 50) if 0 < times[i + 1] - times[i] < 0.9]
    swapped: list[int] = []
    for i in rng.permutation(candidates):
        if all(abs(int(i) - j) > 3 for j in swapped) and len(swapped) < 4:
            swapped.append(int(i))
    for i in swapped:
        order[i], order[i + 1] = order[i + 1], order[i]
    sent = rows.iloc[order].reset_index(drop=True)
    copies = sorted(int(i) for i in rng.choice(np.arange(20, len(sent) - 20), size=6, replace=False))
    pieces, start = [], 0
    for i in copies:
        pieces += [sent.iloc[start : i + 1], sent.iloc[i - 5 : i - 4]]  # a row from 5 back, sent again
        start = i + 1
    pieces.append(sent.iloc[start:])
    faulted = pd.concat(pieces, ignore_index=True)
    # the impossible event goes in order: between two rows in order, at a time between theirs
    sent_times = faulted["time"].to_numpy()
    at = next(
        i for i in range(len(faulted) // 2, len(faulted)) if sent_times[i - 1] < sent_times[i] < sent_times[i + 1]
    )
    ghost = faulted.iloc[[at]].assign(
        time=(sent_times[at] + sent_times[at + 1]) / 2, event="finish", job="ghost", station="drill", machine="0",
        source="probe", seq=1,
    )  # fmt: skip
    faulted = pd.concat([faulted.iloc[: at + 1], ghost, faulted.iloc[at + 1 :]], ignore_index=True)
    return faulted, {"duplicates": 6, "reordered": len(swapped), "impossible": 1}


@pytest.mark.slow
def test_mirror_follows_a_faulty_stream_through_a_broker_restart(
    plant: tuple[Path, pd.DataFrame], broker: Broker, tmp_path: Path
) -> None:
    scenario, frame = plant
    clean = tmp_path / "clean.csv"
    frame.to_csv(clean, index=False)
    faulted, faults = inject_faults(read_log(clean), np.random.default_rng(1))
    sent_log = tmp_path / "faulted.csv"
    faulted.to_csv(sent_log, index=False)
    state_out = tmp_path / "state.json"
    mirror, mirror_log = start_mirror(scenario, broker.url, tmp_path, *FOLLOW_EVENTS, "--state-out", str(state_out))
    listener = Listener(broker.url, "plant/forecast")
    try:

        def restart_mid_stream() -> None:
            listener.wait_for(lambda m: m["health"]["received"] >= 300)  # about a fifth of the stream
            broker.restart(down_s=0.8)

        restart = threading.Thread(target=restart_mid_stream)
        restart.start()
        replay = subprocess.run(
            [TWIN, "replay", str(sent_log), "--broker", broker.url, "--topic", "plant/events", "--speed", "4000"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        restart.join()
        assert replay.returncode == 0, replay.stderr
        assert replay.stderr.count("connected to") >= 2, "the replay should have lived through the restart"
        publisher = make_client(parse_broker_url(broker.url), "", persistent=False)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        publisher.publish("plant/events", b'{"time": "noon", "event": "start", "seq": 1}', qos=1).wait_for_publish(5)
        publisher.disconnect()
        publisher.loop_stop()
        expected = len(faulted) + 1
        done = listener.wait_for(lambda m: m["health"]["received"] == expected and settled(m))
    finally:
        listener.close()
        stop(mirror)
    text = mirror_log.read_text()
    assert text.count("connected to") >= 2 and "lost" in text, text
    health = done["health"]
    assert health["duplicates"] == faults["duplicates"]
    assert health["reordered"] == faults["reordered"]
    assert health["rejected"] == 2 and health["applied"] == len(frame)
    assert health["rejections"] == {
        "impossible: job 'ghost' is not processing on machine '0' of 'drill'": 1,
        "malformed: time: must be a number": 1,
    }
    end = float(frame["time"].max())
    expected_state = state_from_frame(read_log(clean), end).state.to_json()
    assert done["state"] == expected_state
    assert json.loads(state_out.read_text()) == expected_state
    cut = subprocess.run([TWIN, "state", str(clean), "--at", repr(end)], capture_output=True, text=True, check=True)
    assert json.loads(cut.stdout) == expected_state
    assert done["time"] == end
    # the forecast of the final state, as `twin forecast` would give it (8 hours, the scenario's replications)
    assert done["forecast"] == forecast(parse_scenario(LINE), parse_state(expected_state), 480.0, 1)


def test_state_in_continues_where_a_state_left_off(
    plant: tuple[Path, pd.DataFrame], broker: Broker, tmp_path: Path
) -> None:
    scenario, frame = plant
    log = tmp_path / "log.csv"
    frame.to_csv(log, index=False)
    rows = read_log(log)
    middle = float(rows["time"].iloc[len(rows) // 2])
    start = tmp_path / "start.json"
    start.write_text(json.dumps(state_from_frame(rows, middle).state.to_json()))
    rest = tmp_path / "rest.csv"
    rows[rows["time"] > middle].to_csv(rest, index=False)
    state_out = tmp_path / "out.json"
    mirror, _ = start_mirror(
        scenario, broker.url, tmp_path, *FOLLOW_EVENTS, "--state-in", str(start), "--state-out", str(state_out)
    )
    listener = Listener(broker.url, "plant/forecast")
    try:
        subprocess.run(
            [TWIN, "replay", str(rest), "--broker", broker.url, "--speed", "0"], check=True, capture_output=True
        )
        count = int((rows["time"] > middle).sum())
        done = listener.wait_for(lambda m: m["health"]["applied"] == count and settled(m))
    finally:
        listener.close()
        stop(mirror)
    end = float(rows["time"].max())
    whole = state_from_frame(rows, end).state.to_json()
    continued = json.loads(state_out.read_text())
    assert done["health"]["rejected"] == 0
    # the same state, up to rounding in the sums that span the cut (elapsed, age, worked)
    for key, sums in (("machines", ("age", "worked")), ("jobs", ("elapsed",))):
        assert [{k: v for k, v in x.items() if k not in sums} for x in continued[key]] == [
            {k: v for k, v in x.items() if k not in sums} for x in whole[key]
        ]
        for name in sums:
            assert [x[name] for x in continued[key]] == pytest.approx([x[name] for x in whole[key]], abs=1e-9)


def test_login_is_needed_and_the_password_never_shows(plant: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    scenario, frame = plant
    log = tmp_path / "log.csv"
    frame.iloc[:50].to_csv(log, index=False)
    with running_broker(tmp_path / "locked", users={"line7": "s3cret-pw"}) as locked:
        login = f"mqtt://line7:s3cret-pw@127.0.0.1:{locked.port}"
        mirror, mirror_log = start_mirror(scenario, login, tmp_path, "--forecast-every", "0.3")
        listener = Listener(login, "plant/forecast")
        try:
            subprocess.run(
                [TWIN, "replay", str(log), "--broker", login, "--speed", "0"], check=True, capture_output=True
            )
            listener.wait_for(lambda m: m["health"]["applied"] == 50)
        finally:
            listener.close()
            stop(mirror)
        errors = mirror_log.read_text()
        wrong = subprocess.run(
            [TWIN, "replay", str(log), "--broker", f"mqtt://line7:wrong-pw@127.0.0.1:{locked.port}", "--speed", "0"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert "line7:***@127.0.0.1" in errors and "s3cret" not in errors
    assert wrong.returncode == 1 and "wrong-pw" not in wrong.stderr
    assert "refused the connection: Not authorized" in wrong.stderr


def test_tls_with_a_login(plant: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    """mqtts:// to a broker with a self-signed certificate for 127.0.0.1, checked against it (?ca=)."""
    scenario, frame = plant
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    log = tmp_path / "log.csv"
    frame.iloc[:80].to_csv(log, index=False)
    with running_broker(tmp_path / "tls", users={"line7": "tls-pw"}, tls=(cert, key)) as secure:
        url = f"mqtts://line7:tls-pw@127.0.0.1:{secure.port}?ca={cert}"
        state_out = tmp_path / "state.json"
        mirror, mirror_log = start_mirror(scenario, url, tmp_path, "--no-forecast", "--state-out", str(state_out))
        try:
            replay = subprocess.run(
                [TWIN, "replay", str(log), "--broker", url, "--speed", "0"], capture_output=True, text=True
            )
            assert replay.returncode == 0, replay.stderr
            expected = state_from_frame(read_log(log), float(read_log(log)["time"].max())).state.to_json()
            deadline = time.monotonic() + 30
            while not (state_out.is_file() and json.loads(state_out.read_text()) == expected):
                assert time.monotonic() < deadline, (
                    f"the state did not reach the log's end over TLS: {mirror_log.read_text()}"
                )
                time.sleep(0.2)
        finally:
            stop(mirror)
        errors = mirror_log.read_text()
        plain_url = f"mqtt://line7:tls-pw@127.0.0.1:{secure.port}"  # TLS is required: plain MQTT fails
        plain = subprocess.run(
            [TWIN, "replay", str(log), "--broker", plain_url, "--timeout", "3", "--speed", "0"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert f"mqtts://line7:***@127.0.0.1:{secure.port}" in errors and "tls-pw" not in errors + replay.stderr
    assert plain.returncode == 1 and "not acknowledged" in plain.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--broker", "http://h"], "--broker: scheme must be mqtt:// or mqtts://"),
        (["--broker", "mqtt://h", "--publish", "plant/#"], "--publish: must be a plain topic"),
        (["--broker", "mqtt://h", "--forecast-every", "0"], "--forecast-every: must be > 0 (got 0.0)"),
        (["--broker", "mqtt://h", "--reorder-window", "-1"], "--reorder-window: must be >= 0 (got -1.0)"),
        (["--broker", "mqtt://h", "--state-out", "/no/such/dir/s.json"], "--state-out: folder does not exist"),
        (["--broker", "mqtt://h", "--state-in", "/no/such/state.json"], "--state-in: "),
    ],
)
def test_bad_mirror_options_exit_2(plant: tuple[Path, pd.DataFrame], arguments: list[str], message: str) -> None:
    scenario, _ = plant
    done = subprocess.run([TWIN, "mirror", str(scenario), *arguments], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_bad_replay_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,event,job,product,station,machine\nsoon,start,j1,,cut,1\n")
    done = subprocess.run(
        [TWIN, "replay", str(bad), "--broker", "mqtt://127.0.0.1:1", "--speed", "-2"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--speed: must be >= 0 (got -2.0)" in done.stderr
    done = subprocess.run([TWIN, "replay", str(bad), "--broker", "mqtt://127.0.0.1:1"], capture_output=True, text=True)
    assert done.returncode == 2 and "bad.csv:2: time" in done.stderr and "Traceback" not in done.stderr
