"""`twin export --onnx`: the ONNX graph chooses what the SB3 model chooses, never a masked action."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from agents.export import ExportError, export_onnx, resolve_model
from agents.methods import load_any_model
from twin.envs.dispatch import DispatchEnv
from twin.jobshop.instances import generate_instance
from twin.service.policy import OnnxPolicy

TWIN = str(Path(sys.executable).with_name("twin"))


def recorded_states(model: object, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Observations and masks of ``count`` decisions of 15x15 instances, the model deciding
    (with a random choice every fourth decision, so states off the model's own path appear)."""
    policy = getattr(model, "policy")  # noqa: B009 - the SB3 model's policy
    rng = np.random.default_rng(0)
    observations, masks = [], []
    seed = 0
    while len(observations) < count:
        env = DispatchEnv(generate_instance(15, 15, seed=500 + seed), mode="job")
        obs, _ = env.reset(seed=seed)
        done = False
        while not done and len(observations) < count:
            mask = env.action_masks()
            observations.append(obs)
            masks.append(mask)
            if rng.random() < 0.25:
                action = int(rng.choice(np.flatnonzero(mask)))
            else:
                action = int(policy.predict(obs, deterministic=True, action_masks=mask)[0])
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        seed += 1
    return np.array(observations, dtype=np.float32), np.array(masks)


@pytest.mark.slow
def test_onnx_chooses_as_the_sb3_model_on_1000_states(tmp_path: Path) -> None:
    out = tmp_path / "jobshop_15x15.onnx"
    done = subprocess.run([TWIN, "export", "jobshop_15x15", "--onnx", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    model = load_any_model(resolve_model("jobshop_15x15"))
    observations, masks = recorded_states(model, 1000)
    onnx_policy = OnnxPolicy(out.read_bytes())
    assert onnx_policy.card["observation_size"] == observations.shape[1] == 3 + 6 * 15 + 7 * 15
    expected, _ = model.policy.predict(observations, deterministic=True, action_masks=masks)
    chosen = onnx_policy.session.run(None, {"observation": observations, "action_mask": masks})
    probabilities, actions = chosen
    assert (actions == expected).all()
    assert masks[np.arange(len(actions)), actions].all()  # never a masked action
    assert (probabilities[~masks] == 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert len(set(masks.sum(axis=1))) >= 4  # queues of several lengths: the masks matter
    one = onnx_policy.decide(observations[0].tolist(), masks[0].tolist())
    assert one.action == expected[0]


def test_bad_export_requests_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="MODEL: no model file"):
        resolve_model(str(tmp_path / "missing.zip"))
    with pytest.raises(ExportError, match="--fallback-rule: unknown rule"):
        export_onnx(resolve_model("jobshop_10x10"), tmp_path / "x.onnx", fallback_rule="coin")
    done = subprocess.run(
        [TWIN, "export", "jobshop_10x10", "--onnx", str(tmp_path / "no" / "x.onnx")], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.startswith("--onnx: folder does not exist")
    assert not list(tmp_path.iterdir())
