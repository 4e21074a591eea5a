"""Bad scenarios are refused by `validate` and `run` with exit 2, one line per problem naming
the field, no traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli import app

GOOD = """\
name: line
horizon: 100
products:
  widget:
    arrival: {dist: exponential, mean: 2}
    route: [cut, drill]
stations:
  cut: {process_time: 1}
  drill: {process_time: {dist: exponential, mean: 1}, buffer: 3}
"""

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
name: *h
"""

CASES = [
    # an empty file is no scenario
    ("", "file is empty"),
    # a YAML syntax error names the line
    ("name: [unclosed\n", "line 2"),
    # a list, not a mapping
    ("- a\n- b\n", "a scenario must be a mapping of keys"),
    # unknown key at the top
    (GOOD + "colour: red\n", "colour: unknown key"),
    # unknown key deep inside
    (GOOD.replace("cut: {process_time: 1}", "cut: {process_time: 1, speed: 2}"), "stations.cut.speed: unknown key"),
    # a route naming a station that does not exist
    (GOOD.replace("[cut, drill]", "[cut, paint]"), "products.widget.route[1]: no station of that name"),
    # zero machines
    (
        GOOD.replace("{process_time: 1}", "{process_time: 1, machines: 0}"),
        "stations.cut.machines: must be >= 1 (got 0)",
    ),
    # a negative buffer
    (GOOD.replace("buffer: 3", "buffer: -1"), "stations.drill.buffer: must be >= 0 (got -1)"),
    # a negative mean
    (GOOD.replace("mean: 2", "mean: -2"), "products.widget.arrival.mean: must be > 0 (got -2)"),
    # zero horizon
    (GOOD.replace("horizon: 100", "horizon: 0"), "horizon: must be > 0 (got 0)"),
    # an unknown distribution
    (
        GOOD.replace("dist: exponential, mean: 2", "dist: poisson, mean: 2"),
        "products.widget.arrival: unknown distribution",
    ),
    # a parameter of another distribution
    (GOOD.replace("dist: exponential, mean: 2", "dist: uniform, mean: 2"), "products.widget.arrival.low: required"),
    # text where a number belongs
    (
        GOOD.replace("{process_time: 1}", "{process_time: fast}"),
        "stations.cut.process_time: must be a number or a mapping",
    ),
    # an unknown dispatching rule
    (
        GOOD.replace("{process_time: 1}", "{process_time: 1, dispatching: magic}"),
        "stations.cut.dispatching: unknown rule",
    ),
    # an operator pool that is not declared
    (GOOD.replace("{process_time: 1}", "{process_time: 1, operator: crew}"), "stations.cut.operator: no operator pool"),
    # scrap is a probability below 1
    (GOOD.replace("{process_time: 1}", "{process_time: 1, scrap: 1.5}"), "stations.cut.scrap: must be < 1 (got 1.5)"),
    # open arrivals need a horizon
    (GOOD.replace("horizon: 100\n", ""), "horizon: required"),
    # warm-up past the horizon
    (GOOD + "warmup: 500\n", "warmup: must be < horizon 100"),
    # a YAML tag that would construct a Python object
    ('name: !!python/object/apply:os.system ["echo pwned"]\n', "is not allowed: plain data only"),
    # an alias bomb
    (BILLION_LAUGHS, "alias bomb"),
    # a recursive alias
    ("name: &a [*a]\n", "recursive"),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(("text", "expected"), CASES)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_scenario_is_refused(tmp_path: Path, runner: CliRunner, command: str, text: str, expected: str) -> None:
    """Exit 2, the problem on stderr, nothing on stdout, no traceback, nothing written."""
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "runs"
    extra = ["--out", str(out), "--plot", str(tmp_path / "plot.png")] if command == "run" else []
    result = runner.invoke(app, [command, str(scenario), *extra])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)
    assert not out.exists()
    assert not (tmp_path / "plot.png").exists()


def test_every_problem_is_listed_one_per_line(tmp_path: Path, runner: CliRunner) -> None:
    """Several problems give several lines, each naming its field."""
    text = GOOD.replace("{process_time: 1}", "{process_time: 1, machines: 0}").replace("buffer: 3", "buffer: -1")
    (tmp_path / "bad.yaml").write_text(text + "colour: red\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "bad.yaml")])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2
    assert sorted(line.split(":")[0] for line in lines) == ["colour", "stations.cut.machines", "stations.drill.buffer"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "stations.cut.machines=0"], "stations.cut.machines: must be >= 1 (got 0)"),  # override out of range
        (["--set", "stations.paint.machines=2"], "--set stations.paint.machines: no such place"),  # unknown parent
        (["--set", "horizon"], "--set: expected path=value"),  # no '='
        (["--set", "horizon=[1"], "--set horizon: value is not valid YAML"),  # unparsable value
        (["--events"], "--events: needs --out"),  # events without a store
    ],
)
def test_bad_options_are_refused(tmp_path: Path, runner: CliRunner, args: list[str], expected: str) -> None:
    """Bad overrides and option combinations exit 2 before anything runs."""
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["run", str(tmp_path / "good.yaml"), *args])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert result.stdout == ""


def test_missing_and_undecodable_files(tmp_path: Path, runner: CliRunner) -> None:
    """A missing file and a file that is not UTF-8 text are named, exit 2."""
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read file" in missing.stderr
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00name")
    binary = runner.invoke(app, ["validate", str(tmp_path / "binary.yaml")])
    assert binary.exit_code == 2 and "binary.yaml: cannot read file" in binary.stderr


def test_good_scenario_validates(tmp_path: Path, runner: CliRunner) -> None:
    """The baseline of the table above is itself valid."""
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "good.yaml")])
    assert result.exit_code == 0 and "ok (1 products, 2 stations)" in result.stdout
