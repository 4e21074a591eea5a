"""`twin dashboard` refuses bad input like every command: one line per problem, exit 2."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from twin.cli import app


def test_dashboard_rejects_a_file_as_run_store(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "runs.txt"
    not_a_folder.write_text("")
    result = CliRunner().invoke(app, ["dashboard", "--runs", str(not_a_folder)])
    assert result.exit_code == 2
    assert f"--runs: not a folder (got {not_a_folder})" in result.output
    assert "Traceback" not in result.output
