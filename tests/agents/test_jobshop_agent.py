"""Agents schedule job shops through `twin jobshop --agent`: a fresh MaskablePPO model and a zoo model."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from sb3_contrib import MaskablePPO
from typer.testing import CliRunner

from agents.methods import load_any_model, run_policy
from twin.cli import app
from twin.envs.dispatch import DispatchEnv
from twin.envs.vector import make_vec_env
from twin.jobshop.instances import load_instance
from twin.jobshop.schedules import ScheduledOperation, check_schedule

JOBSHOP = Path(__file__).resolve().parents[2] / "scenarios" / "jobshop"
FT06 = JOBSHOP / "ft06.txt"
ZOO_10X10 = Path(__file__).resolve().parents[2] / "agents" / "zoo" / "jobshop_10x10" / "model.zip"


def test_train_save_and_schedule_with_an_agent(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    venv = make_vec_env(FT06, n_envs=2, seed=0, vec_env="dummy")
    model = MaskablePPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0)
    model.learn(32)
    path = tmp_path / "agent.zip"
    model.save(path)

    info, _ = run_policy(load_any_model(path), DispatchEnv(FT06), seed=0)
    done = CliRunner().invoke(app, ["jobshop", str(FT06), "--agent", str(path), "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["method"] == "agent:agent.zip" and document["makespan"] == info["makespan"]
    schedule = [ScheduledOperation(**op) for op in document["schedule"]]
    assert check_schedule(load_instance(FT06), schedule) == []
    assert max(op.end for op in schedule) == document["makespan"] >= 55


def test_a_foreign_file_is_bad_input(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a model")
    done = CliRunner().invoke(app, ["jobshop", str(FT06), "--agent", str(junk)])
    assert done.exit_code == 2 and "--agent: cannot load" in done.stderr


def test_a_zoo_model_schedules_an_instance_of_another_size() -> None:
    """The 10x10 candidate model reads all 15 jobs of ta01, not only its first 10."""
    done = CliRunner().invoke(app, ["jobshop", str(JOBSHOP / "ta01.txt"), "--agent", str(ZOO_10X10), "--json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    schedule = [ScheduledOperation(**op) for op in document["schedule"]]
    assert check_schedule(load_instance(JOBSHOP / "ta01.txt"), schedule) == []
    assert 1231 <= document["makespan"] < 1.3 * 1231  # best known 1231; mwkr's gap is about 19%
