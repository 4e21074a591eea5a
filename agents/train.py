"""``twin train CONFIG.yaml``: train an SB3 agent on ``twin/Dispatch-v0`` from one config file.

The script reads top to bottom: the config (:class:`TrainConfig`, validated like a scenario:
one line per problem ``path: what is wrong (got X)``), the seeding block, the envs (with the
optional rule ``baseline`` subtracted from their reward, :mod:`agents.training_set`), the
model, the optional ``imitation`` of a rule (:mod:`agents.imitation`) or ``init`` (the policy
of a saved model, to fine-tune), the learning loop with its callbacks (validation from step 0,
checkpoints), the model card.

The output folder holds::

    config.yaml          the resolved config (defaults filled in, paths absolute)
    checkpoints/         step_<N>.zip (+ replay buffer for DQN) and state.json (the validation
                         curve, wall time and best score so far, written with each checkpoint)
    best_model.zip       the model with the best validation score (the starting one included)
    model.zip            the model at the end of training
    tensorboard/         TensorBoard logs (SB3's scalars and validation/score)
    model_card.json      data (paths relative to the working directory), steps, wall time,
                         throughput, validation curve, final scores, imitation report

``--resume`` loads the last checkpoint (model, optimiser, step count, validation curve and
best score) and trains on to ``total_steps``: an interruption loses only the steps since
the last checkpoint. Paths in a config are relative to the config file's folder.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from agents.config import DataConfig, ImitationConfig, TrainConfig, ValidationConfig, algorithm_class
from agents.policies import CandidateActorCriticPolicy, CandidatePolicy
from agents.training_set import (
    SampledDispatchEnv,
    generator_source,
    instances_source,
    perturbed_source,
    scenario_source,
)
from twin.studies.store import package_versions

__all__ = ["Case", "PeriodicCallback", "TrainingState", "score_policy", "train", "validation_cases"]

CARD_PACKAGES = ("factory-twin", "torch", "stable_baselines3", "sb3_contrib", "gymnasium", "numpy")
"""Packages whose versions a model card records."""


# Problems: training source and validation cases


def _env_kwargs(config: TrainConfig) -> dict[str, Any]:
    return config.env.model_dump(exclude={"id"}, exclude_none=True)


def _source(data: DataConfig) -> Any:
    if data.generator is not None:
        g = data.generator
        source = generator_source(g.jobs, g.machines, g.low, g.high)
    elif data.scenario is not None:
        source = scenario_source(data.scenario)
    else:
        source = instances_source(data.instances or [])
    if data.perturbations:
        source = perturbed_source(source, _perturbations(data))
    return source


def _perturbations(data: DataConfig) -> list[Any]:
    from twin.jobshop.instances import Perturbation

    return [Perturbation(**p.model_dump()) for p in data.perturbations or []]


@dataclass(frozen=True)
class Case:
    """One validation episode: a problem and the seed of its model run."""

    name: str
    problem: Any
    seed: int


def validation_cases(validation: ValidationConfig) -> list[Case]:
    """The fixed validation episodes of a config."""
    from twin.jobshop.instances import generate_instance, instance_to_scenario, load_instance
    from twin.scenario import load_scenario

    if validation.generator is not None:
        g = validation.generator
        problems: list[Any] = [
            generate_instance(g.jobs, g.machines, g.low, g.high, seed=g.seed + i) for i in range(g.count)
        ]
    else:
        paths = [validation.scenario] if validation.scenario is not None else list(validation.instances or [])
        problems = [load_instance(p) if p.suffix == ".txt" else load_scenario(p) for p in paths]
    if validation.perturbations:
        return [
            Case(f"{problem.name}~{i}", instance_to_scenario(problem, perturbation=replace(p, seed=seed)), seed)
            for problem in problems
            for i, p in enumerate(_perturbations(validation))
            for seed in validation.seeds
        ]
    return [Case(problem.name, problem, seed) for problem in problems for seed in validation.seeds]


def score_policy(
    policy: Any, cases: list[Case], env_kwargs: dict[str, Any], metric: str, deterministic: bool = True
) -> list[float]:
    """The metric of each case's episode under ``policy`` (an SB3 policy or model)."""
    from agents.methods import run_policy
    from twin.envs.dispatch import DispatchEnv

    return [
        metric_of(run_policy(policy, DispatchEnv(case.problem, **env_kwargs), case.seed, deterministic)[0], metric)
        for case in cases
    ]


def metric_of(info: dict[str, Any], metric: str) -> float:
    """``makespan`` or a KPI from an episode's last info."""
    if metric == "makespan":
        return float(info["makespan"])
    return float(info["kpis"][metric])


# Training


@dataclass
class TrainingState:
    """What a checkpoint carries besides the model (``checkpoints/state.json``)."""

    steps: int = 0
    wall_time_s: float = 0.0
    best_score: float = math.inf
    best_step: int = -1
    curve: list[dict[str, float]] = field(default_factory=list)
    imitation: dict[str, Any] | None = None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TrainingState:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _last_checkpoint(folder: Path) -> Path | None:
    found = sorted(folder.glob("step_*.zip"), key=lambda p: int(p.stem.split("_")[1]))
    return found[-1] if found else None


class PeriodicCallback(BaseCallback):
    """Validation every ``validation.every`` steps (and at the start and end), checkpoints every
    ``checkpoint_every`` steps; both update ``state``, which a checkpoint carries.

    Args:
        config: the run's config (the two periods, the metric).
        state: the run's curve, best score and wall time, updated in place.
        folder: the run's output folder (``best_model.zip``, ``checkpoints/``).
        cases: the validation episodes.
        env_kwargs: the env's arguments for validation episodes.
        log: receives one line per validation.
    """

    def __init__(
        self,
        config: TrainConfig,
        state: TrainingState,
        folder: Path,
        cases: list[Case],
        env_kwargs: dict[str, Any],
        log: Callable[[str], None],
    ) -> None:
        super().__init__()
        self.config, self.state, self.folder = config, state, folder
        self.cases, self.env_kwargs, self.log = cases, env_kwargs, log
        self.checkpoints = folder / "checkpoints"
        self.started = time.perf_counter()
        self.wall_before = state.wall_time_s
        every, keep = config.validation.every, config.checkpoint_every
        self.next_validation = (state.steps // every + 1) * every
        self.next_checkpoint = (state.steps // keep + 1) * keep

    def wall(self) -> float:
        """Training wall time so far, this session's and earlier ones' (validation excluded)."""
        return self.wall_before + time.perf_counter() - self.started

    def validate(self) -> None:
        """Score the policy on the validation cases; save it if it is the best so far."""
        state, metric = self.state, self.config.validation.metric
        started = time.perf_counter()
        score = float(np.mean(score_policy(self.model.policy, self.cases, self.env_kwargs, metric)))
        self.started += time.perf_counter() - started  # validation is not training time
        step = int(self.model.num_timesteps)
        state.curve.append({"step": step, "score": score, "wall_time_s": self.wall()})
        self.logger.record("validation/score", score)
        if score < state.best_score:
            state.best_score, state.best_step = score, step
            self.model.save(str(self.folder / "best_model.zip"))
        self.log(f"step {step}: validation {metric} {score:.4g} (best {state.best_score:.4g} at {state.best_step})")

    def checkpoint(self) -> None:
        """Save the model (and an off-policy replay buffer) with the state that goes with it."""
        step = int(self.model.num_timesteps)
        self.state.steps, self.state.wall_time_s = step, self.wall()
        self.model.save(str(self.checkpoints / f"step_{step}.zip"))
        if getattr(self.model, "replay_buffer", None) is not None:  # off-policy: its memory too
            self.model.save_replay_buffer(  # type: ignore[attr-defined]
                str(self.checkpoints / f"step_{step}_replay.pkl")
            )
        self.state.save(self.checkpoints / ".state.json")
        (self.checkpoints / ".state.json").replace(self.checkpoints / "state.json")  # the state and its model agree
        for old in self.checkpoints.glob("step_*"):  # keep the last two checkpoints: a few MB each at most
            if int(old.stem.split("_")[1]) < step - self.config.checkpoint_every:
                old.unlink()

    def _on_training_start(self) -> None:
        if not self.state.curve:  # the starting point: random weights, or the cloned rule
            self.validate()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_validation:
            self.validate()
            self.next_validation += self.config.validation.every
        if self.num_timesteps >= self.next_checkpoint:
            self.checkpoint()
            self.next_checkpoint += self.config.checkpoint_every
        return True

    def _on_training_end(self) -> None:
        if not self.state.curve or self.state.curve[-1]["step"] != self.model.num_timesteps:
            self.validate()
        self.checkpoint()


# Training


def _start(folder: Path, resume: bool) -> tuple[Path | None, TrainingState]:
    """The checkpoint to resume from (None for a new run) and the training state."""
    checkpoints = folder / "checkpoints"
    if resume:
        last = _last_checkpoint(checkpoints)
        if last is None:
            raise FileNotFoundError(f"--resume: no checkpoint in {checkpoints}")
        return last, TrainingState.load(checkpoints / "state.json")
    if (folder / "config.yaml").exists():
        raise FileExistsError(f"{folder} already holds a training run (use --resume, or another --out)")
    return None, TrainingState()


def _model(config: TrainConfig, venv: Any, folder: Path, last: Path | None, log: Callable[[str], None]) -> Any:
    """A new model as the config says, or the one saved at checkpoint ``last``."""
    cls = algorithm_class(config.algorithm)
    tensorboard = str(folder / "tensorboard")
    if last is not None:
        model = cls.load(str(last), env=venv, device="cpu", tensorboard_log=tensorboard)
        replay = last.with_name(f"{last.stem}_replay.pkl")
        if replay.exists():
            model.load_replay_buffer(str(replay))
        log(f"resumed from {last.name} at step {model.num_timesteps}")
        return model
    if config.policy == "candidate":
        policy: Any = CandidatePolicy if config.algorithm == "maskable_ppo" else CandidateActorCriticPolicy
    else:
        policy = "MlpPolicy"
    return cls(
        policy,
        venv,
        seed=config.seed,
        device="cpu",
        policy_kwargs=dict(config.policy_kwargs),
        tensorboard_log=tensorboard,
        **config.hyperparameters,
    )


def train(
    config: TrainConfig,
    out: str | Path,
    resume: bool = False,
    progress_bar: bool = False,
    log: Callable[[str], None] = lambda _: None,
    command: str | None = None,
) -> dict[str, Any]:
    """Train as ``config`` says, writing the artefacts of the module doc to ``out``; the model card.

    Args:
        resume: continue from the last checkpoint in ``out`` (else ``out`` must not hold a run).
        log: receives one line per validation.
        command: the command line that reproduces the run (for the model card).

    Raises:
        FileExistsError: ``out`` holds a run and ``resume`` is False.
        FileNotFoundError: ``resume`` without a checkpoint in ``out``.
    """
    folder = Path(out)
    last, state = _start(folder, resume)
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )

    # Seeding, in one place: torch (weights, sampling), the envs (problems drawn, model seeds).
    torch.set_num_threads(1)  # small networks: threads cost more than they give, and cores are shared
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)  # SB3 draws minibatch permutations from numpy's global stream
    env_kwargs = _env_kwargs(config)
    source = _source(config.train)
    makers: list[Callable[[], Any]] = [
        lambda: Monitor(SampledDispatchEnv(source, baseline=config.baseline, **env_kwargs))
        for _ in range(config.n_envs)
    ]
    venv = SubprocVecEnv(makers) if config.vec_env == "subproc" else DummyVecEnv(makers)
    venv.seed(config.seed)  # env i: seed + i on its first reset, then its own stream

    model = _model(config, venv, folder, last, log)
    if last is None and config.imitation is not None:
        state.imitation = _imitate(model, config, config.imitation, env_kwargs, log)
    if last is None and config.init is not None:
        saved = algorithm_class(config.algorithm).load(str(config.init), device="cpu")
        model.policy.load_state_dict(saved.policy.state_dict())
        log(f"starting from the policy of {config.init}")

    cases = validation_cases(config.validation)
    metric = config.validation.metric
    callback = PeriodicCallback(config, state, folder, cases, env_kwargs, log)
    remaining = config.total_steps - int(model.num_timesteps)
    steps_before = int(model.num_timesteps)
    started = time.perf_counter()
    if remaining > 0:
        model.learn(
            remaining,
            callback=callback,
            reset_num_timesteps=last is None,
            tb_log_name="run",
            progress_bar=progress_bar,
        )
    else:
        callback.init_callback(model)
        callback._on_training_end()
    elapsed = time.perf_counter() - started
    model.save(str(folder / "model.zip"))
    venv.close()

    best = algorithm_class(config.algorithm).load(str(folder / "best_model.zip"), device="cpu")
    final = score_policy(best.policy, cases, env_kwargs, metric)
    card = {
        "name": config.name,
        "algorithm": config.algorithm,
        "policy": config.policy,
        "parameters": int(sum(p.numel() for p in best.policy.parameters())),
        "env": {"id": config.env.id, **env_kwargs},
        "data": {
            "train": _portable(config.train.model_dump(mode="json", exclude_none=True)),
            "validation": _portable(config.validation.model_dump(mode="json", exclude_none=True)),
        },
        "steps": int(model.num_timesteps),
        "n_envs": config.n_envs,
        "seed": config.seed,
        "wall_time_s": round(state.wall_time_s, 1),
        "steps_per_s": round((int(model.num_timesteps) - steps_before) / elapsed, 1) if elapsed > 0 else None,
        "validation_curve": state.curve,
        "best": {"step": state.best_step, "score": state.best_score, "metric": metric},
        "final_scores": {
            "metric": metric,
            "mean": float(np.mean(final)),
            "per_case": {f"{c.name}#{c.seed}": v for c, v in zip(cases, final, strict=True)},
        },
        "imitation": state.imitation,
        "init": None if config.init is None else _relative(str(config.init)),
        "baseline": config.baseline,
        "hyperparameters": config.hyperparameters,
        "policy_kwargs": config.policy_kwargs,
        "command": command,
        "versions": package_versions(CARD_PACKAGES),
    }
    (folder / "model_card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    return card


def _relative(text: str) -> str:
    """A file path relative to the working directory (where the card's command runs) when it
    lies below it, so a card reads the same on every machine; else unchanged."""
    path, here = Path(text), Path.cwd()
    return path.relative_to(here).as_posix() if path.is_relative_to(here) else text


def _portable(data: dict[str, Any]) -> dict[str, Any]:
    """A data config with its files :func:`_relative`."""
    out = dict(data)
    if "scenario" in out:
        out["scenario"] = _relative(out["scenario"])
    if "instances" in out:
        out["instances"] = [_relative(p) for p in out["instances"]]
    return out


def _imitate(
    model: Any, config: TrainConfig, spec: ImitationConfig, env_kwargs: dict[str, Any], log: Callable[[str], None]
) -> dict[str, Any]:
    """Clone the configured rule into ``model``'s policy; the report for the model card."""
    from agents.imitation import clone, collect

    started = time.perf_counter()
    # Teacher episodes draw their problems from a stream of their own: seeds far from the
    # training envs' (seed + i), so RL does not start on exactly the problems cloned.
    demos = collect(
        _source(config.train), env_kwargs, spec.rule, spec.episodes, model.gamma, 10**6 + config.seed, config.baseline
    )
    report = clone(model.policy, demos, spec.rule, spec.epochs, spec.learning_rate, spec.batch_size, config.seed, log)
    log(f"imitation of {spec.rule}: {report.decisions} decisions, accuracy {report.accuracy:.3f}")
    return report.as_dict() | {"wall_time_s": round(time.perf_counter() - started, 1)}
