"""The training config of ``twin train``: one typed, documented object, validated like a scenario.

:func:`load_config` reads a YAML file; every problem is one line ``path: what is wrong (got X)``
(the scenario loader's format). Paths in a config are relative to the config file's folder and
made absolute here. This module needs no torch: a bad config is refused before SB3 loads.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin.dispatching import rule_names
from twin.envs.dispatch import RewardKind
from twin.errors import Problem, ScenarioError, show
from twin.scenario import problems_from
from twin.scenario.yaml_safe import YamlError, read_yaml_file

__all__ = [
    "Algorithm",
    "ConfigError",
    "DataConfig",
    "EnvConfig",
    "GeneratorConfig",
    "ImitationConfig",
    "PerturbationConfig",
    "TrainConfig",
    "ValidationConfig",
    "algorithm_class",
    "load_config",
    "parse_config",
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


class PerturbationConfig(_Strict):
    """A job shop moved from the textbook to the floor (:class:`twin.jobshop.Perturbation`):
    every drawn instance runs in the SimPy model with noisy times, breakdowns or arrivals."""

    cv: float = Field(0.0, ge=0, allow_inf_nan=False, description="CV of the process times (lognormal).")
    mtbf: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Mean busy time between breakdowns (needs mttr)."
    )
    mttr: float | None = Field(None, gt=0, allow_inf_nan=False, description="Mean time to repair.")
    arrival_mean: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Jobs arrive in file order, exponential gaps of this mean."
    )
    due_factor: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Due at release plus this factor times the job's work."
    )

    @model_validator(mode="after")
    def _breakdowns_paired(self) -> PerturbationConfig:
        if (self.mtbf is None) != (self.mttr is None):
            raise ValueError(f"breakdowns need both mtbf and mttr (got mtbf={self.mtbf}, mttr={self.mttr})")
        return self


class DataConfig(_Strict):
    """A set of problems: exactly one of ``scenario``, ``instances`` or ``generator``; job
    shops (a generator or ``.txt`` instances) may be ``perturbations`` of the textbook."""

    scenario: Path | None = Field(None, description="A scenario (.yaml) run with a new seed every episode.")
    instances: list[Path] | None = Field(
        None, description="Job-shop instance files (.txt) or scenarios, drawn uniformly."
    )
    generator: GeneratorConfig | None = Field(None, description="Random job-shop instances.")
    perturbations: list[PerturbationConfig] | None = Field(
        None,
        description="Job shops on a noisy floor: each episode draws one of these uniformly "
        "(validation: every problem under each).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> DataConfig:
        given = [name for name in ("scenario", "instances", "generator") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of scenario, instances, generator (got {', '.join(given) or 'none'})")
        if self.instances is not None and not self.instances:
            raise ValueError("instances: give at least one file")
        if self.perturbations is not None:
            if not self.perturbations:
                raise ValueError("perturbations: give at least one (or leave the key out)")
            if self.scenario is not None or any(Path(p).suffix != ".txt" for p in self.instances or []):
                raise ValueError("perturbations apply to job shops only: a generator or .txt instances")
        return self


class ValidationConfig(DataConfig):
    """The fixed validation set, scored with greedy decoding every ``every`` steps."""

    every: int = Field(10_000, ge=1, description="Validate every this many env steps (and at the end).")
    seeds: list[int] = Field(default_factory=lambda: [0], description="Model seeds of each problem (stochastic ones).")
    metric: str = Field(
        "makespan",
        description="What to minimise: `makespan` (closed shops) or a KPI name "
        "of twin.measure.kpi such as `tardiness_mean` (lower is better).",
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
    init: Path | None = Field(
        None,
        description="A saved model (model.zip, the same algorithm and a candidate policy of the same width) "
        "whose policy training starts from: fine-tuning instead of random weights or imitation.",
    )
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
    if config.init is not None:
        problems += _init_problems(config, base / config.init)
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


def _init_problems(config: TrainConfig, path: Path) -> list[Problem]:
    """Why the ``init`` model cannot be the start of this config's policy (empty: it can)."""
    given = str(config.init)
    if config.imitation is not None:
        return [Problem("init", "both init and imitation set the starting policy: give one", given)]
    if config.policy != "candidate":
        return [Problem("init", "needs policy: candidate (its weights fit every instance size)", given)]
    if not path.is_file():
        return [Problem("init", "no such file", given)]
    try:
        saved = algorithm_class(config.algorithm).load(str(path), device="cpu")
    except Exception:  # SB3 raises many types for a foreign file
        return [Problem("init", f"not a saved {config.algorithm} model", given)]
    width, found = config.policy_kwargs.get("hidden", 64), getattr(saved.policy, "candidate_hidden", None)
    if found != width:
        what = "not a candidate policy" if found is None else f"a candidate policy of width {found}"
        return [Problem("init", f"holds {what}, the config's policy has width {width}", given)]
    return []


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
    if config.init is not None:
        config.init = (base / config.init).resolve()
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
