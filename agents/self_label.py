"""Self-labelling: sample K schedules per instance, clone the best (Corsini et al., NeurIPS 2024).

Reinforcement learning on the makespan gets one number per episode; self-labelling turns a
policy's own samples into supervised labels instead: for each generated instance the policy
samples ``K`` schedules (all K stepped together in one :class:`twin.envs.shop.ShopBatch`),
the shortest one's decisions become the targets, and one gradient step minimises the
cross-entropy of the policy's (masked) choice against them. As the policy improves its best
samples improve, and the labels with them.

The policy is :class:`agents.policies.ConflictNetwork` (attention over the operations
competing for the machine); decisions are active (Giffler-Thompson) ones. Instances are
generated only (Taillard-style, sizes drawn from ``sizes`` up to 30x20), never the Taillard
files. Validation: the greedy makespan on fixed generated 20x15 instances (seeds 100000+),
the best state kept. The result is a MaskablePPO file (``model.zip``, its value head
untrained) that ``twin jobshop --agent ... --decisions active`` and ``twin evaluate
model:PATH+active`` load, and a ``model_card.json`` with the data, budget and curve.

    python -m agents.self_label OUT [--minutes M] [--samples K] [--learning-rate LR] [--seed S]
        [--batch B] [--init MODEL.zip] [--sizes JxM,...] [--validation N]

``--batch B`` averages the labels of B instances per gradient step; ``--init`` continues
from a model this module saved (its card's ``config.init`` says which); ``--sizes`` replaces
the sizes drawn from; ``--validation N`` validates on N instances (more: a less noisy choice
of the kept state, at N greedy rollouts per validation).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.policies import ConflictNetwork, ConflictPolicy
from twin.envs.observation import Layout
from twin.envs.shop import DecisionKind, ShopBatch
from twin.jobshop.instances import JobShopInstance, generate_instance

__all__ = ["SIZES", "SelfLabelConfig", "best_trajectory", "load_network", "save_model", "train"]

SIZES: tuple[tuple[int, int], ...] = ((10, 10), (15, 10), (15, 15), (20, 10), (20, 15), (20, 20), (30, 15), (30, 20))
"""The instance sizes (jobs, machines) training draws from, uniformly."""


@dataclass(frozen=True)
class SelfLabelConfig:
    """A self-labelling run (see the module doc)."""

    budget_s: float = 600.0
    """Wall time for training (validation included)."""
    samples: int = 32
    """K: schedules sampled per instance."""
    sizes: tuple[tuple[int, int], ...] = SIZES
    learning_rate: float = 2e-4
    hidden: int = 64
    seed: int = 0
    decisions: DecisionKind = "active"
    validation: tuple[int, int, int] = (20, 15, 8)
    """Jobs, machines and count of the validation instances (seeds 100000 + i)."""
    validate_every: int = 50
    """Instances between validations."""
    max_instances: int | None = None
    """Stop after this many instances even if budget is left (tests)."""
    batch: int = 1
    """Instances whose labels one gradient step averages over."""
    init: str | None = None
    """A ``model.zip`` this module saved, to continue from (None: random weights; its
    network's width then wins over ``hidden``)."""
    extra: dict[str, Any] = field(default_factory=dict)


def _view(net: ConflictNetwork, instance: JobShopInstance) -> None:
    """Point the size-free network at ``instance``'s layout (no weight depends on it)."""
    net.n_stations, net.max_queue = instance.machines, instance.n_jobs
    net.layout = Layout(instance.machines, instance.n_jobs)


def _logits(net: ConflictNetwork, obs: np.ndarray, masks: np.ndarray) -> torch.Tensor:
    scores = net.forward_actor(torch.as_tensor(obs))
    return scores.masked_fill(~torch.as_tensor(masks), -1e9)


def best_trajectory(
    net: ConflictNetwork,
    instance: JobShopInstance,
    samples: int,
    rng: np.random.Generator,
    decisions: DecisionKind = "active",
    greedy: bool = False,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Sample ``samples`` schedules of ``instance`` together (Gumbel-max, noise from ``rng``;
    ``greedy``: the most probable actions): every rollout's makespan and the shortest one's
    decisions as ``(observations, masks, actions)``."""
    _view(net, instance)
    shop = ShopBatch(instance, samples, decisions)
    queue = instance.n_jobs
    steps: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    with torch.no_grad():
        while True:
            live = np.flatnonzero(~shop.done)
            if not len(live):
                break
            obs = shop.observe(queue)[live]
            masks = shop.action_masks(queue)[live]
            scores = _logits(net, obs, masks).numpy().astype(np.float64)
            if not greedy:
                scores = scores + rng.gumbel(size=scores.shape)
            actions = np.argmax(scores, axis=1)
            slots = np.zeros(samples, dtype=np.int64)
            slots[live] = actions
            steps.append((live, obs, masks, actions))
            shop.step(slots)
    makespans = shop.makespan.copy()
    best = int(np.argmin(makespans))
    picked = [(obs[live == best], masks[live == best], actions[live == best]) for live, obs, masks, actions in steps]
    kept = [step for step in picked if len(step[2])]
    if not kept:
        empty = np.zeros((0, Layout(instance.machines, queue).size), dtype=np.float32)
        return makespans, (empty, np.zeros((0, queue), dtype=bool), np.zeros(0, dtype=np.int64))
    return makespans, tuple(np.concatenate(parts) for parts in zip(*kept, strict=True))  # type: ignore[return-value]


def _validate(net: ConflictNetwork, instances: Sequence[JobShopInstance], decisions: DecisionKind) -> float:
    rng = np.random.default_rng(0)
    net.eval()
    score = float(np.mean([best_trajectory(net, i, 1, rng, decisions, greedy=True)[0][0] for i in instances]))
    net.train()
    return score


def train(
    config: SelfLabelConfig, log: Callable[[str], None] = lambda _: None
) -> tuple[ConflictNetwork, dict[str, Any]]:
    """Self-label ``ConflictNetwork`` within ``config.budget_s``: the best network by
    validation and the card's facts."""
    if config.batch < 1:
        raise ValueError(f"batch must be >= 1 (got {config.batch})")
    if config.validation[2] < 1:
        raise ValueError(f"validation needs at least one instance (got {config.validation[2]})")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = ConflictNetwork(15, 15, config.hidden) if config.init is None else load_network(Path(config.init))
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    jobs, machines, count = config.validation
    validation = [generate_instance(jobs, machines, seed=100_000 + i) for i in range(count)]
    started = time.perf_counter()
    best_score = _validate(net, validation, config.decisions)
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    curve = [{"instances": 0, "score": best_score, "wall_time_s": 0.0}]
    log(f"validation before training: mean greedy makespan {best_score:.1f}")
    done, decisions_seen, losses = 0, 0, []
    optimizer.zero_grad()
    while time.perf_counter() - started < config.budget_s:
        if config.max_instances is not None and done >= config.max_instances:
            break
        size = config.sizes[int(rng.integers(len(config.sizes)))]
        instance = generate_instance(*size, seed=int(rng.integers(2**31 - 1)))
        _, (obs, masks, actions) = best_trajectory(net, instance, config.samples, rng, config.decisions)
        if len(actions):
            _view(net, instance)
            loss = torch.nn.functional.cross_entropy(_logits(net, obs, masks), torch.as_tensor(actions))
            (loss / config.batch).backward()  # type: ignore[no-untyped-call]
            losses.append(float(loss.detach()))
            decisions_seen += len(actions)
        done += 1
        if done % config.batch == 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        if done % config.validate_every == 0:
            score = _validate(net, validation, config.decisions)
            wall = time.perf_counter() - started
            curve.append({"instances": done, "score": score, "wall_time_s": round(wall, 1)})
            loss_mean = np.mean(losses[-config.validate_every :])
            log(f"{done} instances, {wall:.0f} s: loss {loss_mean:.3f}, validation {score:.1f}")
            if score < best_score:
                best_score, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    card = {
        "algorithm": "self_label",
        "policy": "conflict",
        "decisions": config.decisions,
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "config": {k: v for k, v in asdict(config).items() if k != "extra"} | config.extra,
        "instances": done,
        "labelled_decisions": decisions_seen,
        "steps": decisions_seen,
        "steps_per_s": round(decisions_seen / max(time.perf_counter() - started, 1e-9), 1),
        "wall_time_s": round(time.perf_counter() - started, 1),
        "validation_curve": curve,
        "best_validation": best_score,
        "data": "generated Taillard-style instances only (twin.jobshop.generate_instance), sizes "
        + ", ".join(f"{j}x{m}" for j, m in config.sizes),
    }
    return net, card


def save_model(net: ConflictNetwork, card: dict[str, Any], out: Path, name: str) -> Path:
    """Write ``out/model.zip`` (a MaskablePPO with :class:`ConflictPolicy` holding ``net``) and
    ``out/model_card.json``, each atomically; the model's path."""
    from sb3_contrib import MaskablePPO

    from twin.envs.active import ActiveDispatchEnv
    from twin.studies.store import atomic_file, write_json_atomic

    env = ActiveDispatchEnv(generate_instance(10, 10, seed=0))
    model = MaskablePPO(ConflictPolicy, env, policy_kwargs={"hidden": net.hidden}, device="cpu", seed=0)
    extractor: Any = model.policy.mlp_extractor
    extractor.load_state_dict(net.state_dict())
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.zip"
    with atomic_file(path) as partial, partial.open("wb") as stream:
        model.save(stream)
    write_json_atomic(out / "model_card.json", {"name": name, **card})
    return path


def load_network(path: Path) -> ConflictNetwork:
    """The :class:`ConflictNetwork` inside a ``model.zip`` that :func:`save_model` wrote.

    Raises:
        ValueError: the file holds no conflict policy.
    """
    from agents.methods import load_any_model

    extractor = getattr(load_any_model(path).policy, "mlp_extractor", None)
    if not isinstance(extractor, ConflictNetwork):
        raise ValueError(f"{path} holds no conflict-aware policy (policy: conflict) to continue from")
    return extractor


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``"20x15,30x20"`` as ``((20, 15), (30, 20))``.

    Raises:
        argparse.ArgumentTypeError: a size is not ``JOBSxMACHINES`` with both at least 2.
    """
    sizes = []
    for part in text.split(","):
        jobs, _, machines = part.strip().partition("x")
        if not (jobs.isdigit() and machines.isdigit()) or min(int(jobs), int(machines)) < 2:
            raise argparse.ArgumentTypeError(f"size {part.strip()!r} is not JOBSxMACHINES with both >= 2 (e.g. 20x15)")
        sizes.append((int(jobs), int(machines)))
    return tuple(sizes)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for model.zip and model_card.json")
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget (wall time)")
    parser.add_argument("--samples", type=int, default=32, help="K, schedules sampled per instance")
    parser.add_argument("--learning-rate", type=float, default=SelfLabelConfig.learning_rate, help="Adam's step size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1, help="instances per gradient step")
    parser.add_argument("--init", type=Path, help="a model.zip of this module to continue training")
    parser.add_argument("--sizes", type=parse_sizes, default=SIZES, help="JOBSxMACHINES,... drawn from uniformly")
    jobs, machines, count = SelfLabelConfig.validation
    parser.add_argument(
        "--validation", type=int, default=count, help=f"generated {jobs}x{machines} instances validated on"
    )
    parser.add_argument("--name", default="jobshop_selflabel")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = SelfLabelConfig(
        budget_s=60 * args.minutes,
        samples=args.samples,
        learning_rate=args.learning_rate,
        seed=args.seed,
        batch=args.batch,
        init=None if args.init is None else str(args.init),
        sizes=args.sizes,
        validation=(jobs, machines, args.validation),
    )
    try:
        net, card = train(config, log=lambda line: print(line, file=sys.stderr, flush=True))
    except ValueError as error:
        parser.error(str(error))
    card["command"] = "python -m agents.self_label " + shlex.join(list(argv) if argv is not None else sys.argv[1:])
    path = save_model(net, card, args.out, args.name)
    print(json.dumps({"model": str(path), "best_validation": card["best_validation"], "instances": card["instances"]}))


if __name__ == "__main__":
    main()
