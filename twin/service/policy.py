"""Exported dispatchers answered with onnxruntime: no torch at serve time.

``twin export MODEL --onnx OUT`` (``agents.export``) writes a policy as an ONNX graph with
the action mask inside it (contract of this module):

- inputs ``observation`` (float32, ``(batch, size)``) and ``action_mask`` (bool,
  ``(batch, actions)``; true where an action is allowed);
- outputs ``probabilities`` (float32, ``(batch, actions)``; zero on masked actions) and
  ``action`` (int64, ``(batch,)``; the most probable allowed action);
- metadata ``card``: the model card as JSON, with ``observation_size``, ``actions``,
  ``stations`` and ``max_queue`` of the graph's fixed shape and ``fallback_rule``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort

__all__ = ["Decision", "OnnxPolicy", "PolicyError"]

INPUTS = ("observation", "action_mask")
OUTPUTS = ("probabilities", "action")


class PolicyError(ValueError):
    """A file is not an exported dispatcher, or an observation does not fit it."""


@dataclass(frozen=True)
class Decision:
    """A policy's answer: the action and the probability of every action."""

    action: int
    probabilities: list[float]


class OnnxPolicy:
    """One exported dispatcher, loaded into a single-threaded onnxruntime session."""

    def __init__(self, content: bytes) -> None:
        """Raises:
        PolicyError: the bytes are not an ONNX graph with the inputs, outputs and card above.
        """
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors for a bad graph
            raise PolicyError(f"model: not a loadable ONNX graph ({type(error).__name__})") from None
        names = tuple(item.name for item in self.session.get_inputs())
        outputs = tuple(item.name for item in self.session.get_outputs())
        if sorted(names) != sorted(INPUTS) or sorted(outputs) != sorted(OUTPUTS):
            raise PolicyError(
                f"model: needs inputs {list(INPUTS)} and outputs {list(OUTPUTS)} (got {list(names)}, {list(outputs)})"
            )
        text = self.session.get_modelmeta().custom_metadata_map.get("card")
        try:
            card: dict[str, Any] = json.loads(text or "null")
            self.observation_size, self.actions = int(card["observation_size"]), int(card["actions"])
        except (ValueError, TypeError, KeyError):
            raise PolicyError("model: metadata `card` with observation_size and actions is missing") from None
        self.card = card

    def decide(self, observation: list[float], mask: list[bool]) -> Decision:
        """The action for one observation and its mask.

        Raises:
            PolicyError: the sizes do not fit the graph, or the mask allows no action.
        """
        if len(observation) != self.observation_size:
            raise PolicyError(f"observation: needs {self.observation_size} numbers (got {len(observation)})")
        if len(mask) != self.actions:
            raise PolicyError(f"mask: needs {self.actions} values (got {len(mask)})")
        if not any(mask):
            raise PolicyError("mask: allows no action")
        obs = np.asarray(observation, dtype=np.float32).reshape(1, -1)
        if not np.isfinite(obs).all():
            raise PolicyError("observation: must hold finite numbers")
        allowed = np.asarray(mask, dtype=bool).reshape(1, -1)
        probabilities, action = self.session.run(list(OUTPUTS), {"observation": obs, "action_mask": allowed})
        return Decision(int(action[0]), [float(p) for p in probabilities[0]])
