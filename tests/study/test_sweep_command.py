"""`twin sweep` as users run it: the JSON contract, the table, bad options."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from twin.cli import app


def test_sweep_json_contract(line_file: Path, tmp_path: Path) -> None:
    """--json prints a list with one {"overrides", "run_id", "kpis"} per point, KPIs in the run shape."""
    done = CliRunner().invoke(
        app,
        [
            "sweep",
            str(line_file),
            "--vary",
            "stations.m2.buffer=0,3",
            "--replications",
            "2",
            "--json",
            "--out",
            str(tmp_path / "runs"),
        ],
    )
    assert done.exit_code == 0, done.stderr
    points = json.loads(done.stdout)
    assert [p["overrides"] for p in points] == [{"stations.m2.buffer": 0}, {"stations.m2.buffer": 3}]
    for point in points:
        assert set(point) == {"overrides", "run_id", "kpis"}
        assert (next((tmp_path / "runs").iterdir()) / point["run_id"] / "kpis.parquet").is_file()
        assert set(point["kpis"]["throughput"]) == {"mean", "ci_low", "ci_high"}
    assert points[1]["kpis"]["throughput"]["mean"] > points[0]["kpis"]["throughput"]["mean"]


def test_sweep_table(line_file: Path) -> None:
    """Without --json: one row per point with the main KPIs in words."""
    done = CliRunner().invoke(app, ["sweep", str(line_file), "--vary", "stations.m2.buffer=0,1", "--replications", "2"])
    assert done.exit_code == 0, done.stderr
    assert "Throughput (jobs/min)" in done.stdout and "stations.m2.buffer" in done.stdout


def test_bad_sweeps_exit_2(line_file: Path, tmp_path: Path) -> None:
    """Bad plans and option combinations exit 2 with the problem, writing nothing."""
    runner = CliRunner()
    cases = [
        (["--vary", "stations.m2.buffer=-1"], "stations.m2.buffer: must be >= 0"),
        (["--vary", "stations.m2.buffer"], "--vary: expected path=v1,v2"),
        (["--vary", "stations.m2.buffer=1", "--resume"], "--resume: needs --out"),
        (["--vary", "stations.m2.buffer=1", "--engine", "ray"], "--engine: must be local or dask"),
    ]
    for args, expected in cases:
        done = runner.invoke(
            app,
            ["sweep", str(line_file), *args, "--out", str(tmp_path / "runs")]
            if "--resume" not in args
            else ["sweep", str(line_file), *args],
        )
        assert done.exit_code == 2, (args, done.stderr)
        assert expected in done.stderr, (args, done.stderr)
        assert done.stdout == ""
    assert not (tmp_path / "runs").exists()
