"""A real MQTT broker for the tests: Debian's mosquitto on 127.0.0.1 and a free port, with a
generated config, started and stopped by its own PID, restartable on the same port with its
persisted sessions (for the broker-restart tests), optionally with a password file or TLS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MOSQUITTO = Path("/usr/sbin/mosquitto")
PASSWD = Path("/usr/bin/mosquitto_passwd")

needs_mosquitto = pytest.mark.skipif(
    not MOSQUITTO.is_file(), reason="needs Debian's mosquitto (apt-get install mosquitto)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """One mosquitto, its config and persistence in ``folder``; :meth:`start`, :meth:`stop`,
    :meth:`restart` (same port, sessions and queued QoS 1 messages kept)."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None, tls: tuple[Path, Path] | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {folder}/",
            f"log_dest file {folder}/mosquitto.log",
            "log_type all",
            "max_queued_messages 0",
        ]
        if os.geteuid() == 0:  # as root, mosquitto would become user `mosquitto`, who cannot write here
            lines.append("user root")
        if users:
            passwords = folder / "passwd"
            passwords.write_text("")
            for user, password in users.items():
                subprocess.run([str(PASSWD), "-b", str(passwords), user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            cert, key = tls
            lines += [f"certfile {cert}", f"keyfile {key}"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    message = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"mosquitto exited: {message}") from None
                assert time.monotonic() < deadline, "mosquitto did not listen within 20 s"
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM by PID (mosquitto saves its sessions), then wait for it."""
        if self.process is None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def restart(self, down_s: float = 0.5) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


@contextmanager
def running_broker(folder: Path, **options: object) -> Iterator[Broker]:
    """A started :class:`Broker` in ``folder``, stopped by its PID at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    broker = Broker(folder, **options)  # type: ignore[arg-type]
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
