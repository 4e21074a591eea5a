"""Policies that use the structure of a dispatching decision: score each candidate job.

SB3's ``MlpPolicy`` reads ``twin/Dispatch-v0``'s observation as one flat vector, so its first
layer is tied to the number of stations ``S`` and candidate slots ``Q``, and a model trained on
10x10 instances cannot even be run on 15x15 ones. The candidate policy reads the observation
with its layout (see :class:`~twin.envs.dispatch.DispatchEnv`) instead:

- **context** (18 features): the 3 global features, the deciding station's own 5 features
  (picked with the one-hot), and the mean and max of the 5 features over all stations;
- **candidate** ``i`` (7 features plus the same 7 minus their mean over the candidates
  present, so that "longer than the others" is as easy to see as "long"), concatenated with
  the context;
- an **encoder** MLP (shared weights, applied to every candidate) gives ``h_i``; a **scorer**
  MLP (shared) reads ``[h_i, mean_j h_j]`` and gives the logit of candidate ``i``: the
  action distribution is a softmax over the candidates (MaskablePPO masks the empty slots);
- the **critic** reads ``[context, mean_j h_j]``.

No weight depends on ``S`` or ``Q``: one model scores a queue of any length on any instance
size (:func:`resize_policy` rebuilds a trained policy for another env's shape). It is the
permutation-equivariant "score each item with shared weights" design of pointer-network and
GNN dispatchers (L2D, SPN), reduced to what the observation holds, with no graph message
passing: small (about 14k parameters with ``hidden=64``) and fast on one CPU thread.

Use ``policy: candidate`` in a training config; ``CandidatePolicy`` is for ``MaskablePPO``,
``CandidateActorCriticPolicy`` for ``PPO`` and ``A2C``.

:class:`ConflictNetwork` (``ConflictPolicy``) adds what pooling cannot see: the candidates of
a decision are the operations competing for one machine, and one masked multi-head
self-attention layer over their embeddings lets each candidate's score depend on each of its
rivals (which one is shorter, which has more work behind it), not only on their mean. It is
the policy :mod:`agents.self_label` trains (about 41k parameters with ``hidden=64``).
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from twin.envs.observation import GLOBAL_FEATURES, JOB_FEATURES, JOB_PRESENT, STATION_FEATURES, Layout

__all__ = [
    "CandidateActorCriticPolicy",
    "CandidateNetwork",
    "CandidatePolicy",
    "ConflictNetwork",
    "ConflictPolicy",
    "resize_policy",
]

CONTEXT_FEATURES = GLOBAL_FEATURES + 3 * STATION_FEATURES


class CandidateNetwork(nn.Module):
    """The actor and critic latents of the candidate policy (see the module doc).

    ``forward`` returns ``(logits (B, Q), critic latent (B, hidden))``: SB3's ``action_net`` is
    the identity for this policy, its ``value_net`` a linear layer on the critic latent.
    """

    def __init__(self, n_stations: int, max_queue: int, hidden: int = 64) -> None:
        super().__init__()
        self.n_stations, self.max_queue, self.hidden = n_stations, max_queue, hidden
        self.layout = Layout(n_stations, max_queue)
        self.latent_dim_pi = max_queue
        self.latent_dim_vf = hidden
        candidate_in = 2 * JOB_FEATURES + CONTEXT_FEATURES
        self.encoder = nn.Sequential(nn.Linear(candidate_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.scorer = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.critic = nn.Sequential(
            nn.Linear(CONTEXT_FEATURES + hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )

    def _encode(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s, q, layout = self.n_stations, self.max_queue, self.layout
        batch = obs.shape[0]
        global_ = obs[:, :GLOBAL_FEATURES]
        onehot = obs[:, layout.deciding : layout.deciding + s]
        stations = obs[:, layout.station(0) : layout.candidate(0)].reshape(batch, s, STATION_FEATURES)
        candidates = obs[:, layout.candidate(0) :].reshape(batch, q, JOB_FEATURES)
        deciding = (onehot.unsqueeze(-1) * stations).sum(dim=1)
        context = torch.cat([global_, deciding, stations.mean(dim=1), stations.amax(dim=1)], dim=1)
        present = candidates[:, :, JOB_PRESENT : JOB_PRESENT + 1]  # 1 for a present candidate, 0 for an empty slot
        count = present.sum(dim=1).clamp(min=1.0)
        mean = (candidates * present).sum(dim=1) / count
        relative = (candidates - mean.unsqueeze(1)) * present
        inputs = torch.cat([candidates, relative, context.unsqueeze(1).expand(batch, q, CONTEXT_FEATURES)], dim=2)
        h = self._mix(self.encoder(inputs), present)
        pooled = (h * present).sum(dim=1) / count
        return context, h, pooled

    def _mix(self, h: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Candidate embeddings as the scorer reads them (here: unchanged)."""
        return h

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        context, h, pooled = self._encode(features)
        critic: torch.Tensor = self.critic(torch.cat([context, pooled], dim=1))
        return self._scores(h, pooled), critic

    def _scores(self, h: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        both = torch.cat([h, pooled.unsqueeze(1).expand_as(h)], dim=2)
        scores: torch.Tensor = self.scorer(both).squeeze(-1)
        return scores

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        _, h, pooled = self._encode(features)
        return self._scores(h, pooled)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        context, _, pooled = self._encode(features)
        critic: torch.Tensor = self.critic(torch.cat([context, pooled], dim=1))
        return critic


class ConflictNetwork(CandidateNetwork):
    """:class:`CandidateNetwork` with masked self-attention among the candidates (module doc):
    ``h_i + Attention(h_i; h_j for present j)``, then a layer norm."""

    def __init__(self, n_stations: int, max_queue: int, hidden: int = 64, heads: int = 4) -> None:
        super().__init__(n_stations, max_queue, hidden)
        self.attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.norm = nn.LayerNorm(hidden)

    def _mix(self, h: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        absent = present.squeeze(-1) < 0.5
        absent[:, 0] &= ~absent.all(dim=1)  # a row without candidates attends to slot 0 (no NaN)
        mixed, _ = self.attention(h, h, h, key_padding_mask=absent, need_weights=False)
        out: torch.Tensor = self.norm(h + mixed) * present
        return out


class _CandidateMixin:
    """Builds :class:`CandidateNetwork` as the policy's ``mlp_extractor`` and makes
    ``action_net`` the identity (the network's scores are the logits). SB3 needs one policy
    class per base (masked or not); both share this constructor.

    Args:
        n_stations: stations ``S`` of the env (default: inferred from the observation size).
        max_queue: candidate slots ``Q`` (default: the number of actions).
        hidden: width of the encoder, scorer and critic layers.
    """

    def __init__(
        self,
        observation_space: spaces.Space[Any],
        action_space: spaces.Space[Any],
        lr_schedule: Any,
        n_stations: int | None = None,
        max_queue: int | None = None,
        hidden: int = 64,
        **kwargs: Any,
    ) -> None:
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"the candidate policy needs a Discrete action space (got {action_space})")
        self.candidate_max_queue = int(max_queue or action_space.n)
        if self.candidate_max_queue != action_space.n:
            raise ValueError(f"max_queue must equal the number of actions (got {max_queue}, {action_space.n} actions)")
        self.candidate_hidden = hidden
        self.candidate_stations = n_stations
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)  # type: ignore[call-arg]

    network: type[CandidateNetwork] = CandidateNetwork

    def _build_mlp_extractor(self) -> None:
        obs_space: Any = self.observation_space  # type: ignore[attr-defined]
        stations = self.candidate_stations or Layout.of_size(int(obs_space.shape[0]), self.candidate_max_queue).stations
        self.candidate_stations = stations
        self.mlp_extractor: Any = self.network(stations, self.candidate_max_queue, self.candidate_hidden)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)  # type: ignore[misc]
        self.action_net: Any = nn.Identity()
        # The last scoring layer starts small, as SB3 initialises action_net: near-uniform choice.
        last: Any = self.mlp_extractor.scorer[-1]
        nn.init.orthogonal_(last.weight, gain=0.01)
        nn.init.zeros_(last.bias)
        self.optimizer = self.optimizer_class(  # type: ignore[attr-defined]
            self.parameters(),  # type: ignore[attr-defined]
            lr=lr_schedule(1),
            **self.optimizer_kwargs,  # type: ignore[attr-defined]
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = super()._get_constructor_parameters()  # type: ignore[misc]
        return parameters | {
            "n_stations": self.candidate_stations,
            "max_queue": self.candidate_max_queue,
            "hidden": self.candidate_hidden,
        }


class CandidatePolicy(_CandidateMixin, MaskableActorCriticPolicy):
    """The candidate-scoring policy for sb3-contrib's ``MaskablePPO`` (arguments: the mixin's)."""


class ConflictPolicy(_CandidateMixin, MaskableActorCriticPolicy):
    """The conflict-aware policy (:class:`ConflictNetwork`) for ``MaskablePPO``."""

    network = ConflictNetwork


class CandidateActorCriticPolicy(_CandidateMixin, ActorCriticPolicy):
    """The candidate-scoring policy for ``PPO`` and ``A2C`` (no masks: an invalid choice
    starts the first candidate, see the env). Arguments as :class:`CandidatePolicy`."""


def resize_policy(policy: Any, observation_space: spaces.Box, action_space: spaces.Discrete) -> Any:
    """The same trained candidate policy for an env of another shape (stations, queue slots).

    Returns ``policy`` itself when the shapes already match.

    Raises:
        ValueError: ``policy`` is not a candidate policy and the shapes differ.
    """
    if policy.observation_space.shape == observation_space.shape and policy.action_space == action_space:
        return policy
    if getattr(policy, "candidate_max_queue", None) is None:  # not a candidate policy
        raise ValueError(
            f"the model expects observations {policy.observation_space.shape} and actions {policy.action_space}, "
            f"the env gives {observation_space.shape} and {action_space}; only the candidate policy adapts"
        )
    params = policy._get_constructor_parameters()
    params.update(
        observation_space=observation_space,
        action_space=action_space,
        n_stations=Layout.of_size(int(observation_space.shape[0]), int(action_space.n)).stations,
        max_queue=int(action_space.n),
    )
    resized = type(policy)(**params)
    resized.load_state_dict(policy.state_dict())
    resized.set_training_mode(False)
    return resized
