"""`twin train`: configs are validated like scenarios; a tiny run writes every artefact and resumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from agents.config import ConfigError, parse_config
from agents.train import train
from twin.cli import app
from twin.jobshop.instances import generate_instance

ROOT = Path(__file__).resolve().parents[2]

TINY: dict[str, Any] = {
    "name": "tiny",
    "train": {"generator": {"jobs": 4, "machines": 3}},
    "validation": {"generator": {"jobs": 4, "machines": 3, "seed": 500, "count": 2}, "every": 64},
    "policy_kwargs": {"hidden": 16},
    "hyperparameters": {"n_steps": 32, "batch_size": 32, "n_epochs": 1},
    "total_steps": 128,
    "checkpoint_every": 64,
    "seed": 1,
}


def write(folder: Path, data: dict[str, Any], name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_tiny_run_writes_every_artefact(tmp_path: Path) -> None:
    config = write(tmp_path, TINY)
    done = CliRunner().invoke(app, ["train", str(config), "--out", str(tmp_path / "out"), "--no-progress"])
    assert done.exit_code == 0, done.output
    out = tmp_path / "out"
    for name in ("config.yaml", "best_model.zip", "model.zip", "model_card.json", "checkpoints/state.json"):
        assert (out / name).is_file(), name
    assert list((out / "checkpoints").glob("step_*.zip"))
    assert list((out / "tensorboard").rglob("events.out.tfevents.*"))
    card = json.loads((out / "model_card.json").read_text())
    assert card["steps"] >= 128 and card["wall_time_s"] > 0 and card["steps_per_s"] > 0
    assert [point["step"] for point in card["validation_curve"]] == [0, 64, 128]  # 0: before training
    assert card["final_scores"]["metric"] == "makespan" and len(card["final_scores"]["per_case"]) == 2
    assert card["data"]["train"]["generator"]["jobs"] == 4
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["algorithm"] == "maskable_ppo" and resolved["total_steps"] == 128
    # The same folder is not overwritten by accident.
    again = CliRunner().invoke(app, ["train", str(config), "--out", str(out), "--no-progress"])
    assert again.exit_code == 2 and "--resume" in again.output


def test_resume_continues_from_the_last_checkpoint(tmp_path: Path) -> None:
    first = train(parse_config(TINY), tmp_path / "out")
    assert first["steps"] == 128
    longer = parse_config(TINY | {"total_steps": 192})
    card = train(longer, tmp_path / "out", resume=True)
    assert card["steps"] == 192
    # The validation curve of the first part is kept, and goes on.
    assert [point["step"] for point in card["validation_curve"]] == [0, 64, 128, 192]
    assert card["wall_time_s"] >= first["wall_time_s"]


def test_imitation_clones_the_rule_before_rl(tmp_path: Path) -> None:
    """After cloning mwkr, the untrained-by-RL policy (step 0 of the curve) schedules the
    validation instances as mwkr does, and the card reports how well it learned."""
    from agents.train import validation_cases
    from twin.jobshop.instances import instance_to_scenario
    from twin.jobshop.schedules import run_rule

    data = TINY | {
        "train": {"generator": {"jobs": 8, "machines": 4}},
        "validation": {"generator": {"jobs": 8, "machines": 4, "seed": 500, "count": 3}, "every": 64},
        "imitation": {"rule": "mwkr", "episodes": 30, "epochs": 30, "learning_rate": 0.003, "batch_size": 32},
    }
    card = train(parse_config(data), tmp_path / "out")
    report = card["imitation"]
    assert report["rule"] == "mwkr" and report["episodes"] == 30 and report["decisions"] > 200
    assert report["accuracy"] > 0.9
    cases = validation_cases(parse_config(data).validation)
    rule_mean = sum(run_rule(instance_to_scenario(case.problem), "mwkr").makespan for case in cases) / len(cases)
    assert card["validation_curve"][0]["step"] == 0
    assert card["validation_curve"][0]["score"] == pytest.approx(rule_mean, rel=0.05)


def test_the_same_config_and_seed_train_the_same_model(tmp_path: Path) -> None:
    """Imitation, baseline and PPO together: two runs give bit-identical weights and curves."""
    import torch

    from agents.methods import load_any_model

    data = TINY | {"imitation": {"rule": "mwkr", "episodes": 4, "epochs": 2}, "baseline": "mwkr"}
    cards = [train(parse_config(data), tmp_path / name) for name in ("a", "b")]
    assert cards[0]["validation_curve"][-1]["score"] == cards[1]["validation_curve"][-1]["score"]
    assert cards[0]["imitation"]["loss"] == cards[1]["imitation"]["loss"]
    weights = [load_any_model(tmp_path / name / "model.zip").policy.state_dict() for name in ("a", "b")]
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])
    other = train(parse_config(data | {"seed": 2}), tmp_path / "c")
    assert other["imitation"]["loss"] != cards[0]["imitation"]["loss"]


def test_init_fine_tunes_a_saved_model(tmp_path: Path) -> None:
    """Started from a saved model, step 0 of the curve scores exactly as that model's best
    (the same validation set), and the card names the start."""
    first = train(parse_config(TINY), tmp_path / "first")
    start = tmp_path / "first" / "best_model.zip"
    card = train(parse_config(TINY | {"init": str(start), "seed": 5}), tmp_path / "tuned")
    assert card["validation_curve"][0]["score"] == first["best"]["score"]
    assert card["init"] == str(start) and first["init"] is None


def test_an_init_that_cannot_start_the_policy_is_refused(tmp_path: Path) -> None:
    zoo_model = ROOT / "agents" / "zoo" / "jobshop_10x10" / "model.zip"
    width = json.loads((zoo_model.parent / "model_card.json").read_text())["policy_kwargs"]["hidden"]
    cases = {
        "missing.zip": "init: no such file",
        str(ROOT / "README.md"): "init: not a saved maskable_ppo model",
        str(zoo_model): f"init: holds a candidate policy of width {width}, the config's policy has width 16",
    }
    for init, expected in cases.items():
        config = write(tmp_path, TINY | {"init": init})
        done = CliRunner().invoke(app, ["train", str(config), "--out", str(tmp_path / "out")])
        assert done.exit_code == 2 and expected in done.output, done.output
    both = write(tmp_path, TINY | {"init": str(zoo_model), "imitation": {"rule": "mwkr"}})
    done = CliRunner().invoke(app, ["train", str(both), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2 and "init: both init and imitation" in done.output
    assert not (tmp_path / "out").exists()


def test_model_card_names_files_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    ft06 = ROOT / "scenarios" / "jobshop" / "ft06.txt"
    data = TINY | {
        "train": {"instances": [str(ft06)]},
        "validation": {"instances": [str(ft06)], "every": 64},
        "total_steps": 64,
    }
    card = train(parse_config(data), tmp_path / "out")
    assert card["data"]["train"]["instances"] == ["scenarios/jobshop/ft06.txt"]
    assert card["data"]["validation"]["instances"] == ["scenarios/jobshop/ft06.txt"]


@pytest.mark.parametrize("algorithm", ["ppo", "a2c", "dqn"])
def test_other_algorithms_train(tmp_path: Path, algorithm: str) -> None:
    hyper = {"dqn": {"learning_starts": 16, "buffer_size": 500}, "a2c": {"n_steps": 8}}.get(
        algorithm, TINY["hyperparameters"]
    )
    data = TINY | {"algorithm": algorithm, "hyperparameters": hyper, "total_steps": 64}
    if algorithm == "dqn":
        data = data | {"policy": "mlp", "policy_kwargs": {}}
    card = train(parse_config(data), tmp_path / algorithm)
    assert card["algorithm"] == algorithm and card["steps"] >= 64


BAD = [
    # a required key is missing
    ({"total_steps": None}, "total_steps: "),
    # unknown keys are errors, not ignored
    ({"learning_rate": 0.1}, "learning_rate: "),
    # steps must be positive
    ({"total_steps": 0}, "total_steps: must be"),
    # unknown algorithm
    ({"algorithm": "sac"}, "algorithm: "),
    # a training set needs exactly one source
    ({"train": {"generator": {"jobs": 3, "machines": 3}, "instances": ["a.txt"]}}, "train: give exactly one of"),
    # files must exist
    ({"train": {"instances": ["missing.txt"]}}, "train.instances[0]: no such file (got missing.txt)"),
    # hyperparameters must belong to the algorithm
    ({"hyperparameters": {"n_stepz": 3}}, "hyperparameters.n_stepz: not a parameter of maskable_ppo (got 3)"),
    # DQN has no candidate scorer
    ({"algorithm": "dqn", "hyperparameters": {}}, "policy: dqn takes only the mlp policy"),
    # the candidate policy's options are checked
    ({"policy_kwargs": {"net_arch": [64]}}, "policy_kwargs.net_arch: not an option of the candidate policy"),
    # the imitation teacher must be a rule we have
    ({"imitation": {"rule": "best"}}, "imitation: rule must be one of"),
    # DQN has no critic to warm up
    ({"algorithm": "dqn", "policy": "mlp", "hyperparameters": {}, "imitation": {"rule": "spt"}}, "imitation: needs an"),
    # low > high in the generator
    ({"train": {"generator": {"jobs": 3, "machines": 3, "low": 9, "high": 2}}}, "train.generator: low must be <= high"),
]


@pytest.mark.parametrize(("change", "expected"), BAD)
def test_bad_configs_are_refused_one_line_per_problem(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    data = {key: value for key, value in (TINY | change).items() if value is not None}
    config = write(tmp_path, data)
    done = CliRunner().invoke(app, ["train", str(config), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2
    assert expected in done.output, done.output
    assert "Traceback" not in done.output
    assert not (tmp_path / "out").exists()


def test_every_problem_is_listed() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(TINY | {"total_steps": -1, "n_envs": 0})
    assert sorted(p.path for p in raised.value.problems) == ["n_envs", "total_steps"]


@pytest.mark.parametrize("config", sorted((ROOT / "agents" / "zoo").glob("*.yaml")), ids=lambda p: p.stem)
def test_zoo_configs_are_valid(config: Path) -> None:
    from agents.config import load_config

    assert load_config(config).name == config.stem


NOISY = {
    **TINY,
    "name": "tiny-noisy",
    "train": {**TINY["train"], "perturbations": [{"cv": 0.5}, {"mtbf": 100.0, "mttr": 10.0}]},
    "validation": {**TINY["validation"], "perturbations": [{"cv": 0.5}, {"mtbf": 100.0, "mttr": 10.0}], "seeds": [3]},
}


def test_a_run_on_a_noisy_floor_validates_every_problem_under_each_perturbation(tmp_path: Path) -> None:
    card = train(parse_config(NOISY), tmp_path / "out")
    scores = card["final_scores"]["per_case"]
    assert sorted(scores) == sorted(f"rand_4x3_s{s}~{i}#3" for s in (500, 501) for i in (0, 1))
    for seed in (500, 501):
        bound = generate_instance(4, 3, seed=seed).lower_bound()
        noisy, broken = scores[f"rand_4x3_s{seed}~0#3"], scores[f"rand_4x3_s{seed}~1#3"]
        assert broken >= bound  # breakdowns only add time to the file's process times
        assert noisy != broken  # each case ran its own floor


@pytest.mark.parametrize(
    ("perturbations", "expected"),
    [
        ([], "at least one"),
        ([{"mtbf": 100.0}], "need both mtbf and mttr"),
        ([{"cv": -0.1}], "perturbations[0].cv: must be >= 0"),
        ([{"cv": 0.2, "noise": 1}], "noise"),
    ],
)
def test_bad_perturbations_are_refused_with_the_field(perturbations: list[dict[str, Any]], expected: str) -> None:
    data = {**TINY, "train": {**TINY["train"], "perturbations": perturbations}}
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert "train" in str(error.value) and expected in str(error.value)


def test_perturbations_of_a_scenario_are_refused() -> None:
    data = {
        **TINY,
        "train": {"scenario": str(ROOT / "scenarios/examples/job_shop.yaml"), "perturbations": [{"cv": 0.2}]},
    }
    with pytest.raises(ConfigError, match="job shops only"):
        parse_config(data)
