"""Job-shop instances: reading (and rejecting) files, perturbations, the generator, schedules
from the model, and `twin jobshop`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.dispatching import rule_names
from twin.jobshop.bounds import load_bounds
from twin.jobshop.instances import (
    InstanceError,
    JobShopInstance,
    generate_instance,
    instance_to_scenario,
    load_instance,
    parse_instance,
    read_instance,
)
from twin.jobshop.schedules import ScheduledOperation, check_schedule, run_rule
from twin.sim.plant import Plant

ROOT = Path(__file__).resolve().parents[1]
JOBSHOP = ROOT / "scenarios" / "jobshop"
FT06 = JOBSHOP / "ft06.txt"


def test_the_shipped_instances_and_bounds() -> None:
    """Every instance named in bounds.json is shipped, parses, and has the advertised size."""
    bounds = load_bounds(JOBSHOP / "bounds.json")
    for family in ("ft06", "ft10", "ft20", "la01", "la40", "ta01", "ta10", "abz5", "orb01"):
        assert family in bounds
    for name, entry in bounds.items():
        instance = load_instance(JOBSHOP / f"{name}.txt")
        assert (instance.n_jobs, instance.machines) == (entry["jobs"], entry["machines"])
        assert instance.lower_bound() <= entry["upper_bound"]


def test_the_held_out_instances_and_bounds() -> None:
    """ta11-ta80, swv01-20 and yn1-4 are shipped apart, each with a size-true entry whose best
    known makespan is no better than the instance's own machine-load bound."""
    folder = JOBSHOP / "heldout"
    bounds = load_bounds(folder / "bounds.json")
    expected = [f"ta{i:02d}" for i in range(11, 81)] + [f"swv{i:02d}" for i in range(1, 21)]
    assert sorted(bounds) == sorted([*expected, "yn1", "yn2", "yn3", "yn4"])
    assert sorted(p.stem for p in folder.glob("*.txt")) == sorted(bounds)
    groups = [(20, 15), (20, 20), (30, 15), (30, 20), (50, 15), (50, 20), (100, 20)]  # ta11-20, ta21-30, ...
    for name, entry in bounds.items():
        instance = load_instance(folder / f"{name}.txt")
        assert (instance.n_jobs, instance.machines) == (entry["jobs"], entry["machines"])
        assert entry["lower_bound"] <= entry["upper_bound"]
        assert instance.lower_bound() <= entry["upper_bound"]
        if name.startswith("ta"):
            group = (int(name[2:]) - 11) // 10
            assert (instance.n_jobs, instance.machines) == groups[group]


def test_read_instance_maps_jobs_and_machines() -> None:
    """Station m<k> is machine k, product j<i> job i, one job at 0, no horizon, constant times."""
    scenario = read_instance(FT06, "spt")
    assert list(scenario.stations) == [f"m{k}" for k in range(6)]
    assert list(scenario.products) == [f"j{i}" for i in range(6)]
    assert scenario.horizon is None
    job0 = scenario.products["j0"]
    assert job0.arrival is None and job0.release is None
    assert [op.station for op in job0.route] == ["m2", "m0", "m1", "m3", "m5", "m4"]
    assert [scenario.process_time("j0", i).mean for i in range(6)] == [1, 3, 6, 7, 3, 6]
    assert {s.dispatching for s in scenario.stations.values()} == {"spt"}
    assert all(s.buffer is None for s in scenario.stations.values())


@pytest.mark.parametrize("rule", rule_names())
def test_rules_give_feasible_schedules_with_their_true_makespan(rule: str) -> None:
    """Run through the model, every rule's schedule is feasible and its makespan is the last end."""
    for name in ("ft06", "la01"):
        instance = load_instance(JOBSHOP / f"{name}.txt")
        run = run_rule(instance_to_scenario(instance), rule)
        assert check_schedule(instance, run.schedule) == []
        assert run.makespan == max(op.end for op in run.schedule)
        assert run.makespan >= load_bounds(JOBSHOP / "bounds.json")[name]["lower_bound"]


def test_known_rule_results_on_ft06() -> None:
    """Non-delay dispatching through the model: hand-checkable reference values."""
    scenario = read_instance(FT06)
    assert run_rule(scenario, "fifo").makespan == 65
    assert run_rule(scenario, "mwkr").makespan == 61
    assert run_rule(scenario, "mopnr").makespan == 59


def test_check_schedule_finds_each_kind_of_problem() -> None:
    instance = JobShopInstance("tiny", 2, (((0, 3), (1, 2)), ((0, 2),)))
    good = [ScheduledOperation(0, 0, 0, 0, 3), ScheduledOperation(0, 1, 1, 3, 5), ScheduledOperation(1, 0, 0, 3, 5)]
    assert check_schedule(instance, good) == []
    cases = [
        # precedence: operation 1 starts before operation 0 ends
        ([good[0], good[1]._replace(start=2, end=4), good[2]], "before operation 0 ends"),
        # two jobs on machine 0 at once
        ([good[0], good[1], good[2]._replace(start=1, end=3)], "overlap"),
        # wrong duration
        ([good[0], good[1]._replace(end=6), good[2]], "lasts 3"),
        # wrong machine
        ([good[0], good[1]._replace(machine=0, start=5, end=7), good[2]], "on machine 0"),
        # an operation left out
        (good[:2], "job 1 operation 0: missing"),
    ]
    for schedule, problem in cases:
        assert any(problem in line for line in check_schedule(instance, schedule)), problem


BAD_FILES = [
    # (content, line, words in the message)
    ("", 0, "empty"),
    ("# only a comment\n\n", 0, "empty"),
    ("2\n0 1\n0 1\n", 1, "jobs machines"),
    ("2 x\n0 1\n0 1\n", 1, "whole numbers"),
    ("0 2\n", 1, ">= 1"),
    ("2 2\n0 3 1 4\n", 2, "expected 2 job lines"),
    ("2 2\n0 3 1 4\n1 2 0 x\n", 3, "whole numbers"),
    ("2 2\n0 3 1 4\n1 2 0\n", 3, "pairs"),
    ("2 2\n0 3 1 4\n1 2 2 5\n", 3, "machine 2 outside 0..1"),
    ("2 2\n0 3 1 -4\n1 2 0 5\n", 2, "negative duration"),
    ("1 2\n0 3 1 4\n1 2 0 5\n", 3, "unexpected line"),
    ("2 2\n\n0 3 1 4\n# comment\n1 2 0 1.5\n", 5, "whole numbers"),
]


@pytest.mark.parametrize(("content", "line", "words"), BAD_FILES)
def test_bad_instance_files_name_the_line(content: str, line: int, words: str) -> None:
    with pytest.raises(InstanceError) as caught:
        parse_instance(content, path="bad.txt")
    assert caught.value.line == line
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"bad.txt:{line}: ")


def test_text_round_trip_and_generator() -> None:
    """The generator is Taillard-style (each job visits each machine once), seeded, and writes
    files that read back."""
    instance = generate_instance(8, 5, low=1, high=20, seed=3)
    assert instance == generate_instance(8, 5, low=1, high=20, seed=3)
    assert instance != generate_instance(8, 5, low=1, high=20, seed=4)
    for ops in instance.jobs:
        assert sorted(m for m, _ in ops) == list(range(5))
        assert all(1 <= d <= 20 for _, d in ops)
    assert parse_instance(instance.to_text(), instance.name) == instance
    assert load_instance(FT06).to_text().split() == FT06.read_text().split()


def test_perturbations_make_a_stochastic_shop() -> None:
    base = load_instance(FT06)
    noisy = read_instance(FT06, cv=0.3, mtbf=50, mttr=5, arrival_mean=4, due_factor=1.5, seed=2)
    releases = [p.release[0].at for p in noisy.products.values() if p.release]
    assert len(releases) == 6 and releases == sorted(releases) and releases[0] > 0
    due = noisy.products["j1"].release[0].due  # type: ignore[index]
    assert due == pytest.approx(releases[1] + 1.5 * sum(d for _, d in base.jobs[1]))
    assert all(s.failures is not None for s in noisy.stations.values())
    first = run_rule(noisy, "spt", seed=2)
    assert first == run_rule(noisy, "spt", seed=2)  # a seed reproduces the run
    assert first.makespan != run_rule(noisy, "spt", seed=3).makespan
    assert check_schedule(base, first.schedule, exact_durations=False) == []
    durations = [op.end - op.start for op in first.schedule]
    assert durations != [d for ops in base.jobs for _, d in ops]


def test_bad_perturbations_are_rejected() -> None:
    for kwargs in ({"cv": -0.1}, {"mtbf": 10}, {"mtbf": 0, "mttr": 1}, {"arrival_mean": 0}):
        with pytest.raises(ValueError):
            read_instance(FT06, **kwargs)  # type: ignore[arg-type]


def test_a_scenario_file_can_be_a_job_shop(tmp_path: Path) -> None:
    """A scenario file written from an instance runs to the same makespan (Plant.run = makespan)."""
    from twin.scenario import load_scenario, scenario_to_yaml

    path = tmp_path / "ft06.yaml"
    path.write_text(scenario_to_yaml(read_instance(FT06, "mwkr")))
    assert Plant(load_scenario(path)).run() == 61


runner = CliRunner()


def test_cli_rule_json_matches_the_model() -> None:
    done = runner.invoke(app, ["jobshop", str(FT06), "--rule", "mwkr", "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert set(document) == {"instance", "method", "makespan", "optimal", "schedule"}
    assert document["instance"] == "ft06" and document["method"] == "rule:mwkr" and document["optimal"] is None
    assert document["makespan"] == run_rule(read_instance(FT06), "mwkr").makespan
    schedule = [ScheduledOperation(**op) for op in document["schedule"]]
    assert len(schedule) == 36 and check_schedule(load_instance(FT06), schedule) == []


def test_cli_cpsat_and_gantt(tmp_path: Path) -> None:
    png = tmp_path / "ft06.png"
    done = runner.invoke(app, ["jobshop", str(FT06), "--cpsat", "--time-limit", "20", "--json", "--gantt", str(png)])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert (document["method"], document["makespan"], document["optimal"]) == ("cpsat", 55, True)
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = runner.invoke(app, ["jobshop", str(FT06), "--rule", "spt"])
    assert "ft06: makespan 68 by rule:spt" in table.stdout and "best known 55" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "spt"], "bad.txt:3: job 1: machine 7 outside 0..1"),
        ([], "give exactly one of"),
        (["--rule", "spt", "--cpsat"], "give exactly one of"),
        (["--rule", "nope"], "--rule: unknown rule"),
        (["--cpsat", "--cv", "0.2"], "--cpsat: solves the deterministic instance"),
        (["--rule", "spt", "--mtbf", "5"], "need both mtbf and mttr"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("2 2\n0 3 1 4\n1 2 7 5\n")
    done = runner.invoke(app, ["jobshop", str(bad), *args])
    assert done.exit_code == 2, done.output
    assert message in done.stderr
    assert "Traceback" not in done.output and done.stdout == ""
