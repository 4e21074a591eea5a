"""The model registry and the ONNX policy, without a server: versions, promote, rollback,
hashes, and answers against the graph's own arithmetic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.service.server import observation, tiny_policy
from twin.service.models import ModelConflict, ModelRegistry, UnknownModel
from twin.service.policy import OnnxPolicy, PolicyError


def test_answers_follow_the_graph() -> None:
    content = tiny_policy(seed=3)
    weights = numpy_helper.to_array(onnx.load_from_string(content).graph.initializer[0])
    policy = OnnxPolicy(content)
    for seed in range(20):
        obs = observation(seed=seed)
        mask = [bool(b) for b in np.random.default_rng(seed).integers(0, 2, 3)]
        if not any(mask):
            mask[seed % 3] = True
        logits = np.asarray(obs, np.float32) @ weights
        expected = int(np.argmax(np.where(mask, logits, -np.inf)))
        decision = policy.decide(obs, mask)
        assert decision.action == expected and mask[decision.action]
        assert all(p == 0 for p, allowed in zip(decision.probabilities, mask, strict=True) if not allowed)


@pytest.mark.parametrize(
    ("observation_", "mask", "message"),
    [
        ([0.0] * 5, [True] * 3, "observation: needs 36 numbers (got 5)"),
        (observation(), [True], "mask: needs 3 values (got 1)"),
        (observation(), [False] * 3, "mask: allows no action"),
        ([float("nan")] * 36, [True] * 3, "observation: must hold finite numbers"),
    ],
)
def test_observations_that_do_not_fit_are_refused(observation_: list[float], mask: list[bool], message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        OnnxPolicy(tiny_policy()).decide(observation_, mask)


def test_not_a_dispatcher_is_refused() -> None:
    with pytest.raises(PolicyError, match="not a loadable ONNX graph"):
        OnnxPolicy(b"not onnx")


def test_versions_promote_and_rollback(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    first, second = tiny_policy(seed=1), tiny_policy(seed=2)
    assert registry.upload("m", first, by="a")["hash"] == hashlib.sha256(first).hexdigest()
    assert registry.upload("m", second, by="a")["version"] == 2
    with pytest.raises(ModelConflict, match="no version is serving"):
        registry.policy("m")
    registry.promote("m", 1)
    registry.promote("m", 2)
    version, digest, _ = registry.policy("m")
    assert (version, digest) == (2, hashlib.sha256(second).hexdigest())
    assert registry.rollback("m")["serving"] == 1
    with pytest.raises(ModelConflict, match="no earlier serving version"):
        registry.rollback("m")
    assert ModelRegistry(tmp_path).list() == [
        {"model": "m", "serving": 1, "hash": hashlib.sha256(first).hexdigest(), "versions": 2}
    ]
    with pytest.raises(UnknownModel, match="no such version"):
        registry.promote("m", 9)
    with pytest.raises(UnknownModel, match="letters, digits"):
        registry.upload("../evil", first, by="a")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["registry.json", "v1.onnx", "v2.onnx"]
