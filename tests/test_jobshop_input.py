"""`twin jobshop` refuses what used to crash or hang it (issue 12): non-finite perturbations,
durations past 2^53, headers past the size limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli import app

FT = "2 2\n0 3 1 2\n1 4 0 1\n"


@pytest.mark.parametrize(
    ("text", "extra", "expected"),
    [
        (FT, ["--cv", "nan"], "cv must be a finite number"),
        (FT, ["--cv", "inf"], "cv must be a finite number"),
        (FT, ["--mtbf", "inf", "--mttr", "1"], "mtbf must be a finite number"),
        ("1 1\n0 9223372036854775808\n", [], "is above 9007199254740992"),
        ("1 2000000\n0 1\n", [], "at most 100000 jobs and 10000 machines"),
    ],
)
def test_refused_cleanly(tmp_path: Path, text: str, extra: list[str], expected: str) -> None:
    file = tmp_path / "shop.txt"
    file.write_text(text)
    result = CliRunner().invoke(app, ["jobshop", str(file), "--rule", "spt", *extra])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and "Traceback" not in result.output


def test_an_instance_given_to_run_gets_a_hint(tmp_path: Path) -> None:
    file = tmp_path / "ft.txt"
    file.write_text(FT)
    result = CliRunner().invoke(app, ["run", str(file)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{file}: a scenario must be a mapping of keys")
    assert "twin jobshop FILE" in result.stderr and "<file>" not in result.stderr
