"""`twin optimize`: the --json contract, the run store, the plot, Optuna resuming, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.scenario import load_scenario
from twin.studies.design import DesignSpace
from twin.studies.store import find_runs, read_meta

runner = CliRunner()


def optimize(*args: str) -> object:
    return runner.invoke(app, ["optimize", *args])


def test_grid_json_follows_the_contract(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    done = optimize(str(small_file), "--method", "grid", "--out", str(out), "--json")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    document = json.loads(done.stdout)  # type: ignore[attr-defined]
    assert set(document) == {"method", "evaluations", "best", "designs"}
    assert document["method"] == "grid"
    space = DesignSpace.of(load_scenario(small_file))
    assert document["evaluations"] == len(document["designs"]) == sum(1 for _ in space.grid())
    assert set(document["best"]) == {"design", "objective", "kpis"}
    assert set(document["best"]["design"]) == set(space.paths)
    assert set(document["best"]["kpis"]["throughput"]) == {"mean", "ci_low", "ci_high"}
    for entry in document["designs"]:
        assert set(entry) == {"design", "cost", "objective"}
        assert entry["cost"] == space.cost(space.values_of(entry["design"])) <= space.budget
    assert document["best"]["objective"] == max(d["objective"] for d in document["designs"])
    # Every evaluated design is a run of the store, overrides = the design.
    runs = find_runs([out])
    assert len(runs) == document["evaluations"]
    assert sorted(json.dumps(read_meta(r)["overrides"], sort_keys=True) for r in runs) == sorted(
        json.dumps(d["design"], sort_keys=True) for d in document["designs"]
    )


def test_table_output_and_plot(small_file: Path, tmp_path: Path) -> None:
    plot = tmp_path / "front.png"
    done = optimize(str(small_file), "--method", "grid", "--maximal", "--out", str(tmp_path / "r"), "--plot", str(plot))
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert "best designs by throughput" in done.stdout and "Pareto front" in done.stdout  # type: ignore[attr-defined]
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_optuna_resumes_its_study(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    first = optimize(str(small_file), "--method", "optuna", "--trials", "5", "--out", str(out), "--json")
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    assert (out / "optuna.db").is_file()
    second = optimize(str(small_file), "--method", "optuna", "--trials", "8", "--out", str(out), "--json")
    assert second.exit_code == 0, second.output  # type: ignore[attr-defined]
    before, after = json.loads(first.stdout), json.loads(second.stdout)  # type: ignore[attr-defined]
    assert after["method"] == "optuna" and after["evaluations"] >= before["evaluations"]
    assert [d["design"] for d in before["designs"]] == [d["design"] for d in after["designs"]][: before["evaluations"]]


@pytest.mark.slow
def test_rl_method_trains_and_answers(small_file: Path, tmp_path: Path) -> None:
    done = optimize(str(small_file), "--method", "rl", "--timesteps", "256", "--out", str(tmp_path), "--json")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    document = json.loads(done.stdout)  # type: ignore[attr-defined]
    space = DesignSpace.of(load_scenario(small_file))
    assert document["method"] == "rl" and document["evaluations"] == len(document["designs"]) >= 1
    assert space.feasible(space.values_of(document["best"]["design"]))


NO_DESIGN = "name: x\nproducts: {p: {route: [a]}}\nstations: {a: {process_time: 1}}\n"


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        # no design section
        (lambda text: NO_DESIGN, [], "design: the scenario declares no design space"),
        # a budget that buys nothing
        (lambda text: text.replace("budget: 4", "budget: 0.5"), [], "design.budget: buys no unit of any option"),
        # an option range that makes an invalid scenario at its end
        (
            lambda text: text.replace("stations.c.machines: {min: 1", "stations.c.machines: {min: 0"),
            [],
            "stations.c.machines",
        ),
        # an unknown method
        (lambda text: text, ["--method", "annealing"], "--method: must be one of grid, optuna, rl"),
        # storage for a method without one
        (lambda text: text, ["--method", "grid", "--storage", "sqlite:///x.db"], "--storage: only for --method optuna"),
        # storage that is no URL
        (lambda text: text, ["--method", "optuna", "--storage", "x.db"], "--storage: expected a database URL"),
        # a plot into a missing folder
        (lambda text: text, ["--plot", "/no/such/dir/p.png"], "--plot: folder does not exist"),
    ],
    ids=["no-design", "budget-buys-nothing", "invalid-range", "method", "storage-method", "storage-url", "plot"],
)
def test_bad_input_exits_2_and_writes_nothing(
    small_text: str, tmp_path: Path, edit: object, args: list[str], message: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(edit(small_text))  # type: ignore[operator]
    out = tmp_path / "runs"
    method = [] if "--method" in args else ["--method", "grid"]
    done = optimize(str(path), *method, *args, "--out", str(out))
    assert done.exit_code == 2, done.output  # type: ignore[attr-defined]
    assert message in done.stderr and "Traceback" not in done.output  # type: ignore[attr-defined]
    assert not out.exists()
