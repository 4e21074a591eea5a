"""`twin forecast --engine dask`: replications run on a real Dask scheduler and workers on
127.0.0.1 give the serial forecast bit for bit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.sync.test_forecast import LINE, _write
from twin.cli import app
from twin.scenario.state import PlantState
from twin.sim.plant import Plant
from twin.sync.forecast import forecast

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """A local scheduler with two single-threaded worker processes, bound to loopback."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield str(cluster.scheduler_address)


@pytest.fixture(scope="module")
def state() -> PlantState:
    plant = Plant(LINE, seed=4)
    plant.env.run(until=250.0)
    return plant.snapshot()


def _ran_on_the_cluster(address: str) -> int:
    """How many forecast replications the scheduler has seen run (its task prefixes outlive the tasks)."""
    from distributed import Client

    def count(dask_scheduler: Any) -> int:
        prefix = dask_scheduler.task_prefixes.get("forecast_replication")
        return 0 if prefix is None else int(sum(prefix.state_counts.values()))

    with Client(address, timeout=30) as client:
        return int(client.run_on_scheduler(count))


@pytest.mark.slow
def test_dask_forecast_equals_the_serial_one(address: str, state: PlantState, tmp_path: Path) -> None:
    """Same seed, same document: through the Python API and through `twin forecast --json`."""
    serial = forecast(LINE, state, 90.0, replications=6, seed=11)
    remote = forecast(LINE, state, 90.0, replications=6, seed=11, workers=2, engine="dask", address=address)
    assert json.dumps(remote) == json.dumps(serial)
    assert _ran_on_the_cluster(address) >= 6
    assert serial["jobs"] and serial["completions"]["total"]["mean"] > 0
    scenario, path = _write(tmp_path, state)
    args = ["forecast", str(scenario), "--state", str(path), "--horizon", "90", "--replications", "6", "--seed", "11"]
    runner = CliRunner()
    local = runner.invoke(app, [*args, "--json"])
    dask = runner.invoke(app, [*args, "--json", "--workers", "2", "--engine", "dask", "--address", address])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    assert dask.stdout == local.stdout
    assert json.loads(local.stdout)["replications"] == 6
