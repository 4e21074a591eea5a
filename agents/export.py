"""``twin export MODEL --onnx OUT``: a trained dispatcher as an ONNX graph, mask inside.

The service answers decisions with onnxruntime, without torch (:mod:`twin.service.policy`
holds the graph's contract). The graph computes what a masked SB3 policy does with
``deterministic=True``: the actor's logits, masked actions set to ``-1e8`` (as sb3-contrib's
``MaskableCategorical``), the softmax, and the arg max. A model trained without masks gets
the mask too, so the service never answers a masked action.

The graph has the fixed shape of one env (``stations`` x ``max_queue``); a candidate policy
(:mod:`agents.policies`) can be exported for any shape, another policy only for its own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twin.dispatching import rule_names
from twin.envs.observation import Layout
from twin.studies.store import atomic_file

__all__ = ["FORMAT", "ExportError", "export_onnx", "resolve_model"]

FORMAT = "twin-dispatcher-onnx/1"
ZOO = Path(__file__).resolve().parent / "zoo"
MASKED_LOGIT = -1e8


class ExportError(ValueError):
    """A model cannot be exported as asked; the message names the option and the value."""


def resolve_model(text: str) -> Path:
    """The ``model.zip`` that ``text`` names: a file, a folder holding one, or a zoo name.

    Raises:
        ExportError: nothing of the kind exists.
    """
    for path in (Path(text), Path(text) / "model.zip", ZOO / text / "model.zip"):
        if path.is_file():
            return path
    zoo = ", ".join(sorted(p.name for p in ZOO.iterdir() if (p / "model.zip").is_file()))
    raise ExportError(f"MODEL: no model file, folder with model.zip or zoo model (zoo: {zoo}) (got {text!r})")


def _masked_actor(policy: Any) -> Any:
    import torch
    from torch import nn

    class MaskedActor(nn.Module):
        """The actor's deterministic, masked choice (see the module doc)."""

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy

        def forward(self, observation: torch.Tensor, action_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            features = self.policy.extract_features(observation, self.policy.pi_features_extractor)
            logits = self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))
            masked = torch.where(action_mask, logits, torch.full_like(logits, MASKED_LOGIT))
            return torch.softmax(masked, dim=1), torch.argmax(masked, dim=1)

    return MaskedActor()


def export_onnx(
    model_path: Path,
    out: Path,
    stations: int | None = None,
    max_queue: int | None = None,
    fallback_rule: str = "fifo",
) -> dict[str, Any]:
    """Write the policy of the SB3 model at ``model_path`` to ``out`` (ONNX, in one rename)
    and return the card stored in the graph's metadata.

    Args:
        stations, max_queue: the env shape of the graph (default: the model's own).
        fallback_rule: the dispatching rule a caller should use when it cannot ask the model.

    Raises:
        ExportError: the model is no actor-critic policy, the shape does not fit it, or the rule is unknown.
    """
    import numpy as np
    import onnx
    import torch
    from gymnasium import spaces

    from agents.methods import load_any_model
    from agents.policies import resize_policy

    if fallback_rule not in rule_names():
        raise ExportError(
            f"--fallback-rule: unknown rule (expected one of: {', '.join(rule_names())}) (got {fallback_rule!r})"
        )
    model = load_any_model(model_path)
    policy = model.policy
    if not hasattr(policy, "action_net") or not isinstance(policy.action_space, spaces.Discrete):
        raise ExportError(
            f"MODEL: only actor-critic policies with discrete actions export (got {type(model).__name__})"
        )
    own = Layout.of_size(int(policy.observation_space.shape[0]), int(policy.action_space.n))
    layout = Layout(stations or own.stations, max_queue or own.max_queue)
    observation_space = spaces.Box(-1.0, 1.0, (layout.size,), dtype=np.float32)
    try:
        policy = resize_policy(policy, observation_space, spaces.Discrete(layout.max_queue))
    except ValueError as error:
        raise ExportError(f"--stations/--max-queue: {error}") from None
    policy.set_training_mode(False)
    actor = _masked_actor(policy)
    example = (torch.zeros(1, layout.size), torch.ones(1, layout.max_queue, dtype=torch.bool))
    card_file = model_path.with_name("model_card.json")
    card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.is_file() else {}
    card.pop("validation_curve", None)  # long, and in the source's card already
    card.update(
        format=FORMAT,
        observation_size=layout.size,
        actions=layout.max_queue,
        stations=layout.stations,
        max_queue=layout.max_queue,
        fallback_rule=fallback_rule,
        source_sha256=hashlib.sha256(model_path.read_bytes()).hexdigest(),
        exported=datetime.now(UTC).isoformat(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as temporary:
        torch.onnx.export(
            actor,
            example,
            str(temporary),
            input_names=["observation", "action_mask"],
            output_names=["probabilities", "action"],
            dynamic_axes={name: {0: "batch"} for name in ("observation", "action_mask", "probabilities", "action")},
            dynamo=False,
        )
        graph = onnx.load(str(temporary))
        onnx.helper.set_model_props(graph, {"card": json.dumps(card)})
        onnx.save(graph, str(temporary))
    return card
