"""``twin train CONFIG.yaml``: train an SB3 agent on ``twin/Dispatch-v0`` from one config file.

The script reads top to bottom: the config (:class:`TrainConfig`, validated like a scenario:
one line per problem ``path: what is wrong (got X)``), the seeding block, the envs (with the
optional rule ``baseline`` subtracted from their reward, :mod:`agents.training_set`), the
model, the optional ``imitation`` of a rule (:mod:`agents.imitation`), the learning loop with
its callbacks (validation from step 0, checkpoints), the model card.

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

import inspect
import json
import math
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin.dispatching import rule_names
from twin.envs.dispatch import RewardKind
from twin.errors import Problem, ScenarioError, show
from twin.scenario import problems_from
from twin.scenario.yaml_safe import YamlError, read_yaml_file

__all__ = [
    "ConfigError",
    "DataConfig",
    "EnvConfig",
    "GeneratorConfig",
    "ImitationConfig",
    "TrainConfig",
    "ValidationConfig",
    "load_config",
    "train",
    "validation_cases",
]

Algorithm = Literal["maskable_ppo", "ppo", "a2c", "dqn"]


class ConfigError(ScenarioError):
    """A training config is invalid; ``problems`` lists every reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeneratorConfig(_Strict):
    """Random Taillard-style job-shop instances (:func:`twin.jobshop.generate_instance`)."""

    jobs: int = Field(ge=1, description="Jobs per instance.")
    machines: int = Field(ge=1, description="Machines per instance (every job visits each once).")
    low: int = Field(1, ge=0, description="Shortest operation (time units).")
    high: int = Field(99, ge=0, description="Longest operation (time units).")
    seed: int = Field(
        0,
        ge=0,
        description="Validation: instance i has seed `seed + i`. Training: ignored "
        "(instance seeds come from the run's seed).",
    )
    count: int = Field(
        20, ge=1, description="Validation: how many instances. Training: ignored (a new one per episode)."
    )

    @model_validator(mode="after")
    def _range(self) -> GeneratorConfig:
        if self.low > self.high:
            raise ValueError(f"low must be <= high (got low={self.low}, high={self.high})")
        return self


class DataConfig(_Strict):
    """A set of problems: exactly one of ``scenario``, ``instances`` or ``generator``."""

    scenario: Path | None = Field(None, description="A scenario (.yaml) run with a new seed every episode.")
    instances: list[Path] | None = Field(
        None, description="Job-shop instance files (.txt) or scenarios, drawn uniformly."
    )
    generator: GeneratorConfig | None = Field(None, description="Random job-shop instances.")

    @model_validator(mode="after")
    def _exactly_one(self) -> DataConfig:
        given = [name for name in ("scenario", "instances", "generator") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of scenario, instances, generator (got {', '.join(given) or 'none'})")
        if self.instances is not None and not self.instances:
            raise ValueError("instances: give at least one file")
        return self


class ValidationConfig(DataConfig):
    """The fixed validation set, scored with greedy decoding every ``every`` steps."""

    every: int = Field(10_000, ge=1, description="Validate every this many env steps (and at the end).")
    seeds: list[int] = Field(default_factory=lambda: [0], description="Model seeds of each problem (stochastic ones).")
    metric: str = Field(
        "makespan",
        description="What to minimise: `makespan` (closed shops) or a KPI name "
        "of twin.kpi such as `tardiness_mean` (lower is better).",
    )


class EnvConfig(_Strict):
    """The environment and its arguments (see :class:`twin.envs.dispatch.DispatchEnv`)."""

    id: Literal["twin/Dispatch-v0"] = Field("twin/Dispatch-v0", description="Gymnasium id.")
    mode: Literal["job", "rule"] = Field("job", description="Action: the job to start, or the rule that picks it.")
    reward: RewardKind | None = Field(None, description="Default: the env's.")
    max_queue: int | None = Field(None, ge=1, description="Candidate slots (default: the env's).")
    horizon: float | None = Field(None, gt=0, description="Shorter episodes of an open plant (time units).")


class ImitationConfig(_Strict):
    """Behaviour cloning of a rule before RL (:mod:`agents.imitation`): the policy starts as
    good as the rule instead of random."""

    rule: str = Field(description="The teacher: a dispatching rule of twin.dispatching (e.g. atc, mwkr).")
    episodes: int = Field(20, ge=1, description="Teacher episodes on training problems (their seeds follow `seed`).")
    epochs: int = Field(10, ge=1, description="Passes over the teacher's decisions.")
    learning_rate: float = Field(1e-3, gt=0, description="Adam step size of the cloning.")
    batch_size: int = Field(256, ge=1, description="Decisions per gradient step.")

    @model_validator(mode="after")
    def _known_rule(self) -> ImitationConfig:
        if self.rule not in rule_names():
            raise ValueError(f"rule must be one of {', '.join(rule_names())} (got {self.rule!r})")
        return self


class TrainConfig(_Strict):
    """Everything a training run depends on: the same config and seed give the same model."""

    name: str = Field(description="Label of the run and of the model in leaderboards.")
    env: EnvConfig = Field(default_factory=EnvConfig)
    train: DataConfig = Field(description="The problems trained on.")
    validation: ValidationConfig = Field(description="The fixed problems the best model is chosen on.")
    algorithm: Algorithm = Field("maskable_ppo", description="maskable_ppo (sb3-contrib), ppo, a2c or dqn.")
    policy: Literal["candidate", "mlp"] = Field(
        "candidate", description="agents.policies candidate scorer, or SB3's MLP."
    )
    policy_kwargs: dict[str, Any] = Field(default_factory=dict, description="Passed to the policy (e.g. hidden: 64).")
    hyperparameters: dict[str, Any] = Field(default_factory=dict, description="Passed to the algorithm (n_steps, ...).")
    imitation: ImitationConfig | None = Field(None, description="Clone a rule before RL (actor-critic algorithms).")
    baseline: str | None = Field(
        None,
        description="A rule whose run of the same problem and seed is subtracted from the training reward "
        "(agents.training_set: a control variate; validation scores are unchanged).",
    )
    total_steps: int = Field(ge=1, description="Env steps (decisions) to train for.")
    n_envs: int = Field(1, ge=1, description="Parallel envs.")
    vec_env: Literal["dummy", "subproc"] = Field("dummy", description="Envs in this process, or one process each.")
    checkpoint_every: int = Field(10_000, ge=1, description="Save a checkpoint every this many env steps.")
    seed: int = Field(0, ge=0, description="Seeds the model, the envs and the training problems.")


# Loading and checking


_ALGORITHMS: dict[str, tuple[str, str]] = {
    "maskable_ppo": ("sb3_contrib", "MaskablePPO"),
    "ppo": ("stable_baselines3", "PPO"),
    "a2c": ("stable_baselines3", "A2C"),
    "dqn": ("stable_baselines3", "DQN"),
}


def algorithm_class(name: str) -> Any:
    """The SB3 class of an algorithm name of :data:`Algorithm`."""
    module, cls = _ALGORITHMS[name]
    return getattr(__import__(module, fromlist=[cls]), cls)


def _cross_checks(config: TrainConfig, base: Path) -> list[Problem]:
    problems: list[Problem] = []
    for label, data in (("train", config.train), ("validation", config.validation)):
        files = [data.scenario] if data.scenario is not None else list(data.instances or [])
        for i, path in enumerate(files):
            where = f"{label}.scenario" if data.scenario is not None else f"{label}.instances[{i}]"
            if not (base / path).is_file():
                problems.append(Problem(where, "no such file", str(path)))
    if config.algorithm == "dqn" and config.policy == "candidate":
        problems.append(
            Problem(
                "policy", "dqn takes only the mlp policy (its Q-network is not a candidate scorer)", show(config.policy)
            )
        )
    known = set(inspect.signature(algorithm_class(config.algorithm).__init__).parameters)
    reserved = {"policy", "env", "seed", "policy_kwargs", "tensorboard_log", "verbose", "device", "_init_setup_model"}
    for key, value in config.hyperparameters.items():
        if key in reserved:
            problems.append(
                Problem(f"hyperparameters.{key}", "set by the config itself, not a hyperparameter", show(value))
            )
        elif key not in known:
            problems.append(Problem(f"hyperparameters.{key}", f"not a parameter of {config.algorithm}", show(value)))
    if config.baseline is not None and config.baseline not in rule_names():
        problems.append(
            Problem("baseline", f"not a rule (expected one of: {', '.join(rule_names())})", config.baseline)
        )
    if config.imitation is not None and config.algorithm == "dqn":
        problems.append(Problem("imitation", "needs an actor-critic algorithm (not dqn)", config.imitation.rule))
    if config.policy == "candidate":
        allowed = {"hidden", "ortho_init", "activation_fn", "optimizer_kwargs"}
        for key, value in config.policy_kwargs.items():
            if key not in allowed:
                problems.append(
                    Problem(
                        f"policy_kwargs.{key}",
                        f"not an option of the candidate policy (expected one of: {', '.join(sorted(allowed))})",
                        show(value),
                    )
                )
    return problems


def parse_config(data: Any, base: Path = Path(".")) -> TrainConfig:
    """Validate plain data (as read from YAML) into a :class:`TrainConfig`; relative paths
    are taken from ``base`` and made absolute.

    Raises:
        ConfigError: listing every problem.
    """
    if not isinstance(data, dict):
        raise ConfigError([Problem("", "a training config must be a mapping of keys", show(data))])
    try:
        config = TrainConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(problems_from(error, data)) from None
    problems = _cross_checks(config, base)
    if problems:
        raise ConfigError(problems)
    for data_config in (config.train, config.validation):
        if data_config.scenario is not None:
            data_config.scenario = (base / data_config.scenario).resolve()
        if data_config.instances is not None:
            data_config.instances = [(base / path).resolve() for path in data_config.instances]
    return config


def load_config(path: str | Path) -> TrainConfig:
    """Read and validate a training config file (paths relative to its folder).

    Raises:
        ConfigError: the file is missing, not YAML, or invalid.
    """
    path = Path(path)
    try:
        data = read_yaml_file(path)
    except YamlError as error:
        raise ConfigError([Problem(str(path), str(error))]) from None
    return parse_config(data, path.parent)


# Problems: training source and validation cases


def _env_kwargs(config: TrainConfig) -> dict[str, Any]:
    return config.env.model_dump(exclude={"id"}, exclude_none=True)


def _source(data: DataConfig) -> Any:
    from agents.training_set import generator_source, instances_source, scenario_source

    if data.generator is not None:
        g = data.generator
        return generator_source(g.jobs, g.machines, g.low, g.high)
    if data.scenario is not None:
        return scenario_source(data.scenario)
    return instances_source(data.instances or [])


@dataclass(frozen=True)
class Case:
    """One validation episode: a problem and the seed of its model run."""

    name: str
    problem: Any
    seed: int


def validation_cases(validation: ValidationConfig) -> list[Case]:
    """The fixed validation episodes of a config."""
    from twin.jobshop.instances import generate_instance, load_instance
    from twin.scenario import load_scenario

    if validation.generator is not None:
        g = validation.generator
        problems: list[Any] = [
            generate_instance(g.jobs, g.machines, g.low, g.high, seed=g.seed + i) for i in range(g.count)
        ]
    else:
        paths = [validation.scenario] if validation.scenario is not None else list(validation.instances or [])
        problems = [load_instance(p) if p.suffix == ".txt" else load_scenario(p) for p in paths]
    return [Case(problem.name, problem, seed) for problem in problems for seed in validation.seeds]


def score_policy(
    policy: Any, cases: list[Case], env_kwargs: dict[str, Any], metric: str, deterministic: bool = True
) -> list[float]:
    """The metric of each case's episode under ``policy`` (an SB3 policy or model)."""
    from agents.evaluate import run_policy
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


def _versions() -> dict[str, str]:
    names = ("torch", "stable_baselines3", "sb3_contrib", "gymnasium", "numpy")
    return {"python": platform.python_version(), **{name: version(name) for name in names}}


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
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from agents.policies import CandidateActorCriticPolicy, CandidatePolicy
    from agents.training_set import SampledDispatchEnv

    folder = Path(out)
    checkpoints = folder / "checkpoints"
    if resume:
        last = _last_checkpoint(checkpoints)
        if last is None:
            raise FileNotFoundError(f"--resume: no checkpoint in {checkpoints}")
        state = TrainingState.load(checkpoints / "state.json")
    else:
        if (folder / "config.yaml").exists():
            raise FileExistsError(f"{folder} already holds a training run (use --resume, or another --out)")
        last, state = None, TrainingState()
    checkpoints.mkdir(parents=True, exist_ok=True)
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

    cls = algorithm_class(config.algorithm)
    if config.policy == "candidate":
        policy: Any = CandidatePolicy if config.algorithm == "maskable_ppo" else CandidateActorCriticPolicy
    else:
        policy = "MlpPolicy"
    tensorboard = str(folder / "tensorboard")
    if last is not None:
        model = cls.load(str(last), env=venv, device="cpu", tensorboard_log=tensorboard)
        replay = checkpoints / f"{last.stem}_replay.pkl"
        if replay.exists():
            model.load_replay_buffer(str(replay))
        log(f"resumed from {last.name} at step {model.num_timesteps}")
    else:
        model = cls(
            policy,
            venv,
            seed=config.seed,
            device="cpu",
            policy_kwargs=dict(config.policy_kwargs),
            tensorboard_log=tensorboard,
            **config.hyperparameters,
        )

    if last is None and config.imitation is not None:
        state.imitation = _imitate(model, config, env_kwargs, log)

    cases = validation_cases(config.validation)
    metric = config.validation.metric

    class Periodic(BaseCallback):
        """Validation every ``every`` steps, checkpoints every ``checkpoint_every`` steps."""

        def __init__(self) -> None:
            super().__init__()
            self.started = time.perf_counter()
            self.wall_before = state.wall_time_s
            self.next_validation = (state.steps // config.validation.every + 1) * config.validation.every
            self.next_checkpoint = (state.steps // config.checkpoint_every + 1) * config.checkpoint_every

        def wall(self) -> float:
            return self.wall_before + time.perf_counter() - self.started

        def validate(self) -> None:
            started = time.perf_counter()
            score = float(np.mean(score_policy(self.model.policy, cases, env_kwargs, metric)))
            self.started += time.perf_counter() - started  # validation is not training time
            step = int(self.model.num_timesteps)
            state.curve.append({"step": step, "score": score, "wall_time_s": self.wall()})
            self.logger.record("validation/score", score)
            if score < state.best_score:
                state.best_score, state.best_step = score, step
                self.model.save(str(folder / "best_model.zip"))
            log(f"step {step}: validation {metric} {score:.4g} (best {state.best_score:.4g} at {state.best_step})")

        def checkpoint(self) -> None:
            step = int(self.model.num_timesteps)
            state.steps, state.wall_time_s = step, self.wall()
            path = checkpoints / f"step_{step}.zip"
            self.model.save(str(path))
            if getattr(self.model, "replay_buffer", None) is not None:  # off-policy: its memory too
                self.model.save_replay_buffer(  # type: ignore[attr-defined]
                    str(checkpoints / f"step_{step}_replay.pkl")
                )
            state.save(checkpoints / ".state.json")
            (checkpoints / ".state.json").replace(checkpoints / "state.json")  # the state and its model agree
            for old in checkpoints.glob("step_*"):  # keep the last two checkpoints: a few MB each at most
                number = int(old.stem.split("_")[1])
                if number < step - config.checkpoint_every:
                    old.unlink()

        def _on_training_start(self) -> None:
            if not state.curve:  # the starting point: random weights, or the cloned rule
                self.validate()

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_validation:
                self.validate()
                self.next_validation += config.validation.every
            if self.num_timesteps >= self.next_checkpoint:
                self.checkpoint()
                self.next_checkpoint += config.checkpoint_every
            return True

        def _on_training_end(self) -> None:
            if not state.curve or state.curve[-1]["step"] != self.model.num_timesteps:
                self.validate()
            self.checkpoint()

    callback = Periodic()
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
        "baseline": config.baseline,
        "hyperparameters": config.hyperparameters,
        "policy_kwargs": config.policy_kwargs,
        "command": command,
        "versions": _versions(),
    }
    (folder / "model_card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    return card


def _portable(data: dict[str, Any]) -> dict[str, Any]:
    """A data config with its files relative to the working directory (where the card's
    command runs), so a card reads the same on every machine; files elsewhere stay absolute."""

    def relative(text: str) -> str:
        path, here = Path(text), Path.cwd()
        return path.relative_to(here).as_posix() if path.is_relative_to(here) else text

    out = dict(data)
    if "scenario" in out:
        out["scenario"] = relative(out["scenario"])
    if "instances" in out:
        out["instances"] = [relative(p) for p in out["instances"]]
    return out


def _imitate(model: Any, config: TrainConfig, env_kwargs: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    """Clone the configured rule into ``model``'s policy; the report for the model card."""
    from agents.imitation import clone, collect

    spec = config.imitation
    assert spec is not None
    started = time.perf_counter()
    # Teacher episodes draw their problems from a stream of their own: seeds far from the
    # training envs' (seed + i), so RL does not start on exactly the problems cloned.
    demos = collect(
        _source(config.train), env_kwargs, spec.rule, spec.episodes, model.gamma, 10**6 + config.seed, config.baseline
    )
    report = clone(model.policy, demos, spec.rule, spec.epochs, spec.learning_rate, spec.batch_size, config.seed, log)
    log(f"imitation of {spec.rule}: {report.decisions} decisions, accuracy {report.accuracy:.3f}")
    return report.as_dict() | {"wall_time_s": round(time.perf_counter() - started, 1)}


def copy_to_zoo(out: Path, zoo: Path) -> None:
    """Copy a run's best model and card (not its logs and checkpoints) into a zoo folder."""
    zoo.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / "best_model.zip", zoo / "model.zip")
    shutil.copy2(out / "model_card.json", zoo / "model_card.json")
