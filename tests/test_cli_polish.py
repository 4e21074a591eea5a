"""Help texts and small words of the command line (issue 12)."""

from __future__ import annotations

from importlib import metadata

from typer.testing import CliRunner

from twin.cli import app
from twin.measure.labels import count_of


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"factory-twin {metadata.version('factory-twin')}"


def test_help_shows_text_as_written() -> None:
    """`:100:` is no emoji, flags carry no `<bool>` tag, list options name what they take."""
    evaluate = CliRunner().invoke(app, ["evaluate", "--help"], terminal_width=200).stdout
    assert "10x10:100:1000" in evaluate and "💯" not in evaluate
    sweep = CliRunner().invoke(app, ["sweep", "--help"], terminal_width=200).stdout
    assert "<bool>" not in sweep and "<list[str]>" not in sweep
    assert "--vary PATH=V1,V2,..." in sweep and "--set PATH=VALUE" in sweep


def test_counts_have_their_noun_in_the_right_number() -> None:
    assert count_of(1, "replication") == "1 replication"
    assert count_of(3, "replication") == "3 replications"
