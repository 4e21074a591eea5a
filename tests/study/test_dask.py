"""Dask: a real scheduler and two workers started as processes on loopback run a sweep and
give exactly the KPIs of the local executor."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

BIN = Path(sys.executable).parent
CLI = "import sys; from twin.cli import main; sys.argv = ['twin', *sys.argv[1:]]; main()"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """`dask scheduler` and two `dask worker`s on 127.0.0.1, stopped by their own PIDs."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    logs = [open(tmp_path / f"dask-{i}.log", "w") for i in range(3)]  # noqa: SIM115 - closed below
    processes = [
        subprocess.Popen(
            [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        )
    ]
    for i in (1, 2):
        processes.append(
            subprocess.Popen(
                [
                    BIN / "dask",
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                    "--local-directory",
                    str(tmp_path / f"w{i}"),
                ],
                stdout=logs[i],
                stderr=subprocess.STDOUT,
            )
        )
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


@pytest.mark.slow
def test_sweep_on_a_running_scheduler_matches_local(scheduler: str, line_file: Path) -> None:
    """`twin sweep --engine dask --address` equals the in-process sweep, KPI for KPI."""
    args = ["sweep", str(line_file), "--vary", "stations.m2.buffer=0,2", "--replications", "3", "--json"]
    remote = subprocess.run(
        [sys.executable, "-c", CLI, *args, "--engine", "dask", "--address", scheduler],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert remote.returncode == 0, remote.stderr
    local = subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_address_needs_the_dask_engine(line_file: Path) -> None:
    """--address with the local engine is bad input: exit 2, nothing run."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CLI,
            "sweep",
            str(line_file),
            "--vary",
            "stations.m2.buffer=0",
            "--address",
            "tcp://127.0.0.1:1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "--address: needs --engine dask" in done.stderr


@pytest.mark.slow
def test_local_cluster_matches_serial(two_machine_line: object) -> None:
    """`engine="dask"` without an address starts a LocalCluster on loopback; same KPIs."""
    import pandas as pd

    import twin

    serial = twin.simulate(two_machine_line, replications=3, keep_events=False)  # type: ignore[arg-type]
    dask = twin.simulate(two_machine_line, replications=3, keep_events=False, workers=2, engine="dask")  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(serial.kpis, dask.kpis)
