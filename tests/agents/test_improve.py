"""Agent plus search: a rule's or a model's schedule as CP-SAT's hint and upper bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.cpsat import solve
from agents.evaluate import evaluate_instances, parse_agent
from agents.methods import best_rule_method, improve_method
from twin.cli import app
from twin.jobshop.evaluation import rule_method
from twin.jobshop.instances import load_instance
from twin.jobshop.schedules import ScheduledOperation, check_schedule

ROOT = Path(__file__).resolve().parents[2]
JOBSHOP = ROOT / "scenarios" / "jobshop"
FT06 = JOBSHOP / "ft06.txt"
ZOO_10X10 = ROOT / "agents" / "zoo" / "jobshop_10x10" / "model.zip"


def test_the_hint_bounds_the_result_and_starts_the_progress() -> None:
    instance = load_instance(JOBSHOP / "la01.txt")
    start = rule_method("spt")(instance, 0)
    result = solve(instance, time_limit=2, workers=1, hint=start.schedule)
    assert result.progress[0] == (0.0, start.makespan)
    assert result.makespan <= start.makespan
    values = [value for _, value in result.progress]
    assert values == sorted(values, reverse=True) and values[-1] == result.makespan
    assert check_schedule(instance, result.schedule) == []


def test_an_infeasible_hint_is_refused() -> None:
    instance = load_instance(FT06)
    schedule = rule_method("spt")(instance, 0).schedule
    broken = [ScheduledOperation(op.job, op.operation, op.machine, 0.0, op.end - op.start) for op in schedule]
    with pytest.raises(ValueError, match="hint"):
        solve(instance, time_limit=1, workers=1, hint=broken)


def test_improving_the_best_rule_reaches_ft06s_optimum() -> None:
    instance = load_instance(FT06)
    best_rule = best_rule_method()(instance, 0)
    assert best_rule.makespan == min(rule_method(r)(instance, 0).makespan for r in ("mwkr", "mopnr", "spt", "lpt"))
    outcome = improve_method(best_rule_method(), 5, workers=1)(instance, 0)
    assert outcome.makespan == 55 and outcome.optimal
    assert outcome.progress[0] == (0.0, best_rule.makespan)


def test_jobshop_improve_prints_the_gap_over_time() -> None:
    done = CliRunner().invoke(app, ["jobshop", str(FT06), "--rule", "spt", "--improve", "2", "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["method"] == "rule:spt+improve:2" and document["makespan"] == 55
    assert document["progress"][0] == {"time_s": 0.0, "makespan": rule_method("spt")(load_instance(FT06), 0).makespan}
    text = CliRunner().invoke(app, ["jobshop", str(FT06), "--improve", "1"])
    assert text.exit_code == 0 and "best-rule+improve:1" in text.stdout and "over CP-SAT's time" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--improve", "0"], "--improve: must be > 0"),
        (["--cpsat", "--improve", "2"], "with --cpsat use --time-limit"),
        (["--improve", "2", "--cv", "0.3"], "CP-SAT solves the deterministic instance"),
        (["--rule", "spt", "--decisions", "active"], "give --agent MODEL"),
        (["--agent", str(ZOO_10X10), "--decisions", "later"], "--decisions: must be plant"),
    ],
)
def test_bad_improve_options(args: list[str], message: str) -> None:
    done = CliRunner().invoke(app, ["jobshop", str(FT06), *args])
    assert done.exit_code == 2 and message in done.output


def test_evaluate_takes_model_plus_improve() -> None:
    spec = parse_agent(f"model:{ZOO_10X10}@4+active+improve:1.5")
    assert (spec.samples, spec.decisions, spec.improve) == (4, "active", 1.5)
    assert spec.method.endswith("@4+active+improve:1.5")
    instance = load_instance(JOBSHOP / "la01.txt")
    agents = [parse_agent(f"model:{ZOO_10X10}@4+active"), spec]
    results, _ = evaluate_instances([instance], agents, {"la01": 666})
    plain, improved = results["makespan"].tolist()
    assert improved <= plain and improved >= 666
    for text in ("cpsat+improve:3", "rule:spt+improve:0", "rule:spt+improve:x"):
        with pytest.raises(ValueError, match="improve"):
            parse_agent(text)


def test_the_lns_search_proves_a_small_instance_in_its_complete_phase() -> None:
    instance = load_instance(FT06)
    start = rule_method("spt")(instance, 0)
    result = solve(instance, time_limit=5, workers=1, hint=start.schedule, search="lns")
    assert (result.makespan, result.optimal, result.lower_bound) == (55, True, 55)
    assert result.wall_time_s < 1.5  # proved within its first phase (at most 1 s), not after all 5 s


def test_the_lns_search_improves_from_the_hint_and_keeps_its_progress_in_order() -> None:
    instance = load_instance(JOBSHOP / "ta01.txt")
    start = rule_method("mwkr")(instance, 0)
    result = solve(instance, time_limit=3, workers=2, hint=start.schedule, search="lns")
    assert result.progress[0] == (0.0, start.makespan)
    values = [value for _, value in result.progress]
    times = [time for time, _ in result.progress]
    assert values == sorted(values, reverse=True) and values[-1] == result.makespan < start.makespan
    assert times == sorted(times) and times[-1] <= result.wall_time_s
    assert result.lower_bound <= 1231 <= result.makespan and not result.optimal
    assert check_schedule(instance, result.schedule) == []
    with pytest.raises(ValueError, match="search must be one of complete, lns"):
        solve(instance, time_limit=1, search="tabu")  # type: ignore[arg-type]
