"""Values the loader used to accept or crash on (issue 12): each row is refused with the
field named and the value found, or (last tables) accepted meaning what the user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.errors import ScenarioError, SimulationStalled
from twin.scenario import load_scenario, load_warnings
from twin.scenario.limits import MAX_MACHINES, MAX_REPLICATIONS
from twin.sim.plant import Plant

MINI = """\
name: mini
horizon: 100
products:
  p:
    arrival: {dist: exponential, mean: 1}
    route: [a]
stations:
  a:
    process_time: {dist: exponential, mean: 0.5}
"""

REFUSED = [
    # zero-mean arrivals would never let time pass
    (["products.p.arrival=0"], "products.p.arrival: mean inter-arrival time must be > 0"),
    (["products.p.arrival={dist: uniform, low: 0, high: 0}"], "products.p.arrival: mean inter-arrival"),
    (["products.p.arrival={dist: empirical, values: [0]}"], "products.p.arrival: mean inter-arrival"),
    (["products.p.arrival={dist: gamma, shape: 1e-300, scale: 1e-300}"], "products.p.arrival: mean inter-arrival"),
    # zero-mean failures repeat at one instant
    (["stations.a.failures={ttf: 0, ttr: 0}"], "stations.a.failures.ttf: mean time to failure must be > 0"),
    # sizes past the documented limits
    (["stations.a.machines=1000000"], f"stations: more than {MAX_MACHINES} machines"),
    (["replications=1000000000000000000000000000000"], f"replications: must be <= {MAX_REPLICATIONS}"),
    (["products.p.arrival={dist: gamma, shape: 1e-300, scale: 1}"], "horizon: about 1e+302 jobs per replication"),
    (["products.p.arrival=null", "products.p.release=[{at: 0, quantity: 1000000000000000000000000000000}]"], "jobs"),
    (["stations.a.failures={ttf: 1e-9, ttr: 1}"], "stations.a.failures.ttf: about 1e+11 failures"),
    # a bare number's error names the user's path and the value given
    (["products.p.arrival=-2.0"], "products.p.arrival: must be >= 0 (got -2.0)"),
    # text and booleans are not numbers
    (["horizon='10560'"], "horizon: must be a number (got '10560')"),
    (["horizon=yes"], "horizon: must be a number (got True)"),
    (["stations.a.machines=yes"], "stations.a.machines: must be a whole number (got True)"),
    (["stations.a.buffer=no"], "stations.a.buffer: must be a whole number (got False)"),
    (["products.p.arrival={dist: exponential, mean: true}"], "products.p.arrival.mean: must be a number (got True)"),
    # a near miss says what was meant
    (["stations.a.proces_time=1"], "stations.a.proces_time: unknown key (did you mean process_time?)"),
    # distributions whose mean or draws overflow
    (["stations.a.process_time={dist: weibull, shape: 0.001, scale: 1}"], "parameters make the mean overflow"),
    (["stations.a.process_time={dist: lognormal, mean: 1, sd: 1e200}"], "sd must be <= 1e+06 times the mean"),
    (["stations.a.process_time={dist: empirical, values: [1, 2], weights: [1e308, 1e308]}"], "finite sum"),
    # infinite design bounds, costs and budgets (found by the fuzzer)
    (["design={budget: .inf, options: {stations.a.machines: {min: 1, max: 2}}}"], "design.budget: must be a finite"),
    (["design={budget: 1, options: {stations.a.machines: {min: 1, max: .inf}}}"], "max: must be a finite number"),
    # YAML that is not plain data
    (["products.p.route=!!set {a}"], "tag !!set is not allowed"),
    (["name=!!binary aGk="], "tag !!binary is not allowed"),
    (["name=a\x01b"], "character U+0001"),
    (["name=a\udcffb"], "lone surrogate"),
    # a digit of another script is not a list index
    (["stations.a\u00b2.machines=2"], "no such place in the scenario"),
]


@pytest.mark.parametrize(("overrides", "expected"), REFUSED)
def test_refused_with_the_field_named(tmp_path: Path, overrides: list[str], expected: str) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(MINI, encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_scenario(file, overrides)
    assert expected in str(error.value)


FILES = [
    # the last of two equal keys used to win silently
    (MINI + "    buffer: 3\n    buffer: 2\n", "line 11, column 5: key 'buffer' is given twice"),
    (MINI + "  a:\n    machines: 0\n", "key 'a' is given twice"),
    # nesting past the limit (with a --set, this was a RecursionError)
    (MINI + "description: " + "[" * 330 + "]" * 330 + "\n", "nests deeper than 64 levels"),
]


@pytest.mark.parametrize(("text", "expected"), FILES)
def test_files_refused(tmp_path: Path, text: str, expected: str) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(file, ["horizon=50"])


def test_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """/dev/zero used to be read until MemoryError, a FIFO blocked forever."""
    import os

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path, expected in (
        (Path("/dev/zero"), "not a regular file"),
        (fifo, "not a regular file"),
        (tmp_path, "folder"),
    ):
        with pytest.raises(ScenarioError, match=expected):
            load_scenario(path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (17 * 1024 * 1024))
    with pytest.raises(ScenarioError, match="larger than 16 MiB"):
        load_scenario(big)


def test_accepted_as_meant(tmp_path: Path) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(MINI.replace("horizon: 100", "horizon: 1e2"), encoding="utf-8")
    scenario = load_scenario(file, ["stations.a.dispatching=FIFO"])
    assert scenario.horizon == 100.0  # YAML 1.2 reads 1e2 as a number
    assert scenario.stations["a"].dispatching == "fifo"  # rule names in any case


def test_unvisited_station_warns(tmp_path: Path) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(MINI + "  idle_one: {process_time: 1}\n", encoding="utf-8")
    assert "stations.idle_one: no product's route visits it; it stays idle" in load_warnings(load_scenario(file))


def test_arrivals_that_never_let_time_pass_stop_the_run(tmp_path: Path) -> None:
    """Mean 1, but (almost) every draw underflows to 0: the run stops instead of filling memory."""
    file = tmp_path / "mini.yaml"
    file.write_text(MINI, encoding="utf-8")
    scenario = load_scenario(file, ["products.p.arrival={dist: gamma, shape: 1e-300, scale: 1e300}"])
    with pytest.raises(SimulationStalled, match="simulated time does not advance"):
        Plant(scenario).run()
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", str(file), "--set", "products.p.arrival={dist: gamma, shape: 1e-300, scale: 1e300}"]
    )
    assert result.exit_code == 2
    assert "simulated time does not advance" in result.stderr
