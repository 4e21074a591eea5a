"""`twin evaluate`: rules, models and CP-SAT on the same problems; reproducible; stored for the leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from sb3_contrib import MaskablePPO
from typer.testing import CliRunner

from agents.evaluate import evaluate_instances, evaluate_scenario, parse_agent, summarize
from agents.methods import load_any_model, run_policy
from agents.policies import CandidatePolicy
from twin.cli import app
from twin.envs.dispatch import DispatchEnv
from twin.jobshop.evaluation import RESULT_COLUMNS, leaderboard
from twin.jobshop.instances import generate_instance, instance_to_scenario, load_instance
from twin.jobshop.schedules import check_schedule, schedule_from_log
from twin.scenario import load_scenario
from twin.studies.store import find_evaluations, load_results

ROOT = Path(__file__).resolve().parents[2]
FT06 = ROOT / "scenarios" / "jobshop" / "ft06.txt"
PLANT = ROOT / "scenarios" / "examples" / "job_shop.yaml"
ZOO = sorted((ROOT / "agents" / "zoo").glob("*/model.zip"))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A candidate-policy model trained for a few steps on 5x4 instances."""
    torch.set_num_threads(1)
    model = MaskablePPO(
        CandidatePolicy,
        DispatchEnv(generate_instance(5, 4, seed=0)),
        n_steps=32,
        batch_size=32,
        n_epochs=1,
        seed=0,
        policy_kwargs={"hidden": 16},
    )
    model.learn(32)
    path = tmp_path_factory.mktemp("model") / "tiny.zip"
    model.save(path)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rule:nope", "unknown rule"),  # not a rule of twin.dispatching
        ("model:missing.zip", "no such model file"),  # the file must exist
        ("model:{model}@0", "samples after @"),  # at least one sample
        ("greedy", "expected rule:NAME"),  # no such kind
    ],
)
def test_bad_agents_are_refused(text: str, expected: str, model_path: Path) -> None:
    with pytest.raises(ValueError, match=expected):
        parse_agent(text.format(model=model_path))


def test_one_model_schedules_any_instance_size(model_path: Path) -> None:
    model = load_any_model(model_path)
    for instance in (generate_instance(5, 4, seed=3), load_instance(FT06), generate_instance(15, 15, seed=1)):
        env = DispatchEnv(instance_to_scenario(instance))
        info, decisions = run_policy(model, env, seed=0)
        assert decisions > 0 and info["makespan"] >= instance.lower_bound()
        assert check_schedule(instance, schedule_from_log(env.plant.log)) == []


def test_the_same_seed_gives_the_same_evaluation(model_path: Path) -> None:
    instances = [generate_instance(5, 4, seed=s) for s in range(3)] + [load_instance(FT06)]
    agents = [
        parse_agent(text) for text in ("rule:mwkr", "rule:spt", f"model:{model_path}", f"model:{model_path}@3", "cpsat")
    ]
    first, schedules = evaluate_instances(instances, agents, {"ft06": 55.0}, time_limit=2.0)
    second, _ = evaluate_instances(instances, agents, {"ft06": 55.0}, time_limit=2.0)
    assert set(RESULT_COLUMNS) <= set(first.columns)
    assert first["makespan"].tolist() == second["makespan"].tolist()
    by = first.set_index(["method", "instance"])["makespan"]
    # CP-SAT (seeded from nothing) is never worse than a rule on these small instances.
    assert (by["cpsat"] <= by["rule:mwkr"]).all()
    assert not schedules.empty
    summary = summarize(first)
    assert summary["vs_rule"].iloc[0] in ("rule:mwkr", "rule:spt")
    assert summary.set_index("method").loc["cpsat", "diff_mean"] <= 0
    assert summary.set_index("method").loc["rule:mwkr", "gap_mean"] >= 0


def test_a_stochastic_scenario_pairs_agents_by_seed(model_path: Path) -> None:
    scenario = load_scenario(PLANT)
    agents = [parse_agent("rule:edd"), parse_agent("rule:fifo"), parse_agent(f"model:{model_path}")]
    first, _ = evaluate_scenario(scenario, agents, [0, 1], "tardiness_mean", horizon=1500)
    second, _ = evaluate_scenario(scenario, agents, [0, 1], "tardiness_mean", horizon=1500)
    assert first["value"].tolist() == second["value"].tolist()
    assert (first["kpi"] == "tardiness_mean").all() and first["makespan"].isna().all()
    summary = summarize(first)
    assert len(summary) == 3 and summary["episodes"].tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="greedy"):
        evaluate_scenario(scenario, [parse_agent("cpsat")], [0])


def test_cli_prints_json_and_stores_a_leaderboard(tmp_path: Path, model_path: Path) -> None:
    args = ["evaluate", "--random", "5x4:3:7", "--agent", "rule:mwkr", "--agent", f"model:{model_path}"]
    done = CliRunner().invoke(app, [*args, "--json", "--store", str(tmp_path / "runs")])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert {row["method"] for row in document["summary"]} == {"rule:mwkr", "agent:tiny"}
    assert len(document["results"]) == 6
    folders = find_evaluations(tmp_path / "runs")
    assert len(folders) == 1
    board = leaderboard(load_results(folders))
    assert set(board["method"]) == {"rule:mwkr", "agent:tiny"}
    table = CliRunner().invoke(app, ["evaluate", str(FT06), "--agent", "rule:mwkr", "--agent", "rule:spt"])
    assert table.exit_code == 0 and "rule:mwkr" in table.stdout


def test_cli_refuses_bad_input_with_exit_2() -> None:
    done = CliRunner().invoke(app, ["evaluate", "--agent", "rule:nope"])
    assert done.exit_code == 2
    assert "--agent[0]: unknown rule" in done.output
    assert "give exactly one of INSTANCES, --random, --scenario (got none)" in done.output


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.parent.name)
def test_zoo_models_load_and_give_feasible_schedules(path: Path) -> None:
    card = json.loads((path.parent / "model_card.json").read_text())
    assert path.stat().st_size < 3_000_000 and card["steps"] > 0 and card["command"]
    model = load_any_model(path)
    instance = load_instance(ROOT / "scenarios" / "jobshop" / "ta01.txt")
    env = DispatchEnv(instance_to_scenario(instance))
    info, _ = run_policy(model, env, seed=0)
    assert check_schedule(instance, schedule_from_log(env.plant.log)) == []
    assert info["makespan"] >= 1231  # ta01's optimum
