"""Random-variable specs of scenario files, and fast samplers over numpy Generators.

In a scenario a distribution is a bare number (a constant) or a mapping with a ``dist`` key::

    3.5                                        # constant 3.5
    {dist: exponential, mean: 2}               # mean 2
    {dist: normal, mean: 5, sd: 1}             # truncated at 0: negative draws are redrawn
    {dist: lognormal, mean: 5, sd: 2}          # mean and sd of the variable itself, not of its log
    {dist: uniform, low: 1, high: 3}
    {dist: triangular, low: 1, mode: 2, high: 4}
    {dist: gamma, shape: 2, scale: 1.5}        # mean = shape * scale
    {dist: weibull, shape: 1.5, scale: 10}     # mean = scale * Gamma(1 + 1/shape)
    {dist: empirical, values: [1, 2, 5], weights: [0.5, 0.3, 0.2]}   # weights default to equal

All times are in the scenario's ``time_unit``. Samplers draw in blocks (numpy is ~50x faster
per value that way) and hand out Python floats one at a time; the sequence of values depends
only on the generator's seed, so runs stay bit-identical.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar, Literal, get_args

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    model_serializer,
    model_validator,
)

from twin.errors import SimulationStalled

__all__ = [
    "DISTRIBUTION_NAMES",
    "DISTRIBUTION_PARAMETERS",
    "TIME_PARAMETERS",
    "Constant",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "LogNormal",
    "Normal",
    "Sampler",
    "Triangular",
    "Uniform",
    "Weibull",
    "row_sampler",
    "scale_distribution",
]

Sampler = Callable[[], float]
"""A zero-argument function returning the next sample as a float."""

BLOCK = 256
"""Values drawn from numpy at a time."""

MAX_ZERO_DRAWS = 2**16
"""Zero intervals in a row after which an advancing sampler gives up (see :meth:`_Spec.sampler`)."""

NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]

MAX_LOGNORMAL_CV = 1e6
"""Largest coefficient of variation (sd / mean) of a lognormal: beyond it the variance of the
log overflows and the draws are 0 or infinite."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    sequential: ClassVar[bool] = True
    """Whether ``draw`` makes each value from the generator's next numbers alone, so that
    ``n`` values and then ``m`` are the ``n + m`` values drawn at once: blocks of any sizes
    then give the same stream (a test checks every distribution that says so)."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """Expected value, used for analytic checks, load warnings and OEE ideal cycle times."""

    @model_validator(mode="after")
    def _finite_mean(self) -> _Spec:
        # Parameters that are finite one by one can still make a mean (or the draws) overflow.
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                mean = self.mean
        except (OverflowError, ValueError):
            mean = math.inf
        if not math.isfinite(mean):
            raise ValueError("parameters make the mean overflow: no finite times can be drawn")
        return self

    @abstractmethod
    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values at once."""

    def sampler(self, rng: np.random.Generator, advancing: bool = False) -> Sampler:
        """A function returning one value per call, drawn in blocks from ``rng``.

        Args:
            advancing: the values are intervals that must let time pass (inter-arrival times,
                times to failure): after :data:`MAX_ZERO_DRAWS` zeros in a row the sampler
                raises :class:`~twin.errors.SimulationStalled` instead of letting a run spin
                at one instant until memory runs out.
        """
        draw = self.draw
        buffer: list[float] = []
        zero_blocks = 0
        name = type(self).__name__.lower()

        def sample() -> float:
            nonlocal zero_blocks
            if not buffer:
                block = draw(rng, BLOCK)
                if advancing:
                    zero_blocks = zero_blocks + 1 if not block.any() else 0
                    if zero_blocks * BLOCK >= MAX_ZERO_DRAWS:
                        raise SimulationStalled(
                            f"{MAX_ZERO_DRAWS} {name} intervals in a row were 0: simulated time does not advance"
                        )
                buffer.extend(reversed(block.tolist()))
            return buffer.pop()

        return sample

    def stream_sampler(self, generator: Callable[[], np.random.Generator]) -> Sampler:
        """:meth:`sampler` on the generator that ``generator()`` makes, called only if the
        distribution draws random numbers (a constant never does, and making a generator
        costs more than a job-shop operation)."""
        return self.sampler(generator())

    def block_source(self, generator: Callable[[], np.random.Generator]) -> Callable[[int], np.ndarray]:
        """Blocks of the given size, one per call, from the generator that ``generator()``
        makes: in blocks of :data:`BLOCK`, those :meth:`stream_sampler`'s sampler hands out one
        value at a time."""
        rng = generator()
        draw = self.draw
        return lambda size: draw(rng, size)


class Constant(_Spec):
    """Always ``value``; written in scenarios as a bare number."""

    dist: Literal["constant"] = "constant"
    value: NonNegativeFloat

    @property
    def mean(self) -> float:
        return self.value

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def sampler(self, rng: np.random.Generator, advancing: bool = False) -> Sampler:
        value = float(self.value)
        return lambda: value

    def stream_sampler(self, generator: Callable[[], np.random.Generator]) -> Sampler:
        value = float(self.value)
        return lambda: value

    def block_source(self, generator: Callable[[], np.random.Generator]) -> Callable[[int], np.ndarray]:
        value = float(self.value)
        return lambda size: np.full(size, value)

    @model_serializer
    def _as_number(self) -> float:
        return self.value


class Exponential(_Spec):
    """Exponential with the given ``mean`` (rate = 1 / mean)."""

    dist: Literal["exponential"]
    mean_: PositiveFloat = Field(alias="mean", allow_inf_nan=False)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, serialize_by_alias=True)

    @property
    def mean(self) -> float:
        return self.mean_

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)


class Normal(_Spec):
    """Normal(``mean``, ``sd``) truncated at 0: negative draws are redrawn."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean", allow_inf_nan=False)
    sd: NonNegativeFloat
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="after")
    def _mostly_positive(self) -> Normal:
        if self.sd > 0 and self.mean_ < -3 * self.sd:
            raise ValueError("mean is so far below 0 that almost every draw would be cut off")
        if self.sd == 0 and self.mean_ < 0:
            raise ValueError("mean must be >= 0 when sd is 0")
        return self

    @property
    def mean(self) -> float:
        """Mean of the truncated distribution."""
        if self.sd == 0:
            return self.mean_
        alpha = -self.mean_ / self.sd
        phi = math.exp(-0.5 * alpha * alpha) / math.sqrt(2 * math.pi)
        tail = 0.5 * math.erfc(alpha / math.sqrt(2))
        return self.mean_ + self.sd * phi / tail

    sequential: ClassVar[bool] = False
    """The negative draws of a block are redrawn after the whole block."""

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        values = rng.normal(self.mean_, self.sd, size)
        negative = values < 0
        while negative.any():
            values[negative] = rng.normal(self.mean_, self.sd, int(negative.sum()))
            negative = values < 0
        return values


class LogNormal(_Spec):
    """Lognormal given by the ``mean`` and ``sd`` of the variable itself (not of its log)."""

    dist: Literal["lognormal"]
    mean_: PositiveFloat = Field(alias="mean", allow_inf_nan=False)
    sd: NonNegativeFloat
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="after")
    def _spread_fits(self) -> LogNormal:
        if self.sd / self.mean_ > MAX_LOGNORMAL_CV:
            raise ValueError(
                f"sd must be <= {MAX_LOGNORMAL_CV:g} times the mean (got mean={self.mean_:g}, sd={self.sd:g})"
            )
        return self

    @property
    def mean(self) -> float:
        return self.mean_

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Uniform(_Spec):
    """Uniform on [``low``, ``high``]."""

    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high must be >= low (got low={self.low}, high={self.high})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


class Triangular(_Spec):
    """Triangular on [``low``, ``high``] peaking at ``mode``."""

    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"needs low <= mode <= high and low < high (got low={self.low}, mode={self.mode}, high={self.high})"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)


class Gamma(_Spec):
    """Gamma with ``shape`` k and ``scale`` theta: mean k*theta, cv 1/sqrt(k)."""

    dist: Literal["gamma"]
    shape: PositiveFloat = Field(allow_inf_nan=False)
    scale: PositiveFloat = Field(allow_inf_nan=False)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, size)


class Weibull(_Spec):
    """Weibull with ``shape`` k and ``scale`` lambda: mean lambda * Gamma(1 + 1/k)."""

    dist: Literal["weibull"]
    shape: PositiveFloat = Field(allow_inf_nan=False)
    scale: PositiveFloat = Field(allow_inf_nan=False)

    @property
    def mean(self) -> float:
        log_mean = math.log(self.scale) + math.lgamma(1 + 1 / self.shape)
        return math.exp(log_mean) if log_mean < 700 else math.inf

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, size)


class Empirical(_Spec):
    """One of ``values``, drawn with probabilities proportional to ``weights`` (equal if absent)."""

    dist: Literal["empirical"]
    values: list[NonNegativeFloat] = Field(min_length=1)
    weights: list[NonNegativeFloat] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights must have one entry per value (got {len(self.weights)} weights "
                    f"for {len(self.values)} values)"
                )
            total = sum(self.weights)
            if total <= 0:
                raise ValueError("weights must not all be 0")
            if not math.isfinite(total):
                raise ValueError("weights must have a finite sum (scale them down)")
        return self

    def _probabilities(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1 / len(self.values))
        weights = np.asarray(self.weights, dtype=float)
        probabilities: np.ndarray = weights / weights.sum()
        return probabilities

    @property
    def mean(self) -> float:
        return float(np.dot(self.values, self._probabilities()))

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        values = np.asarray(self.values, dtype=float)
        picks: np.ndarray = values[rng.choice(len(values), size=size, p=self._probabilities())]
        return picks


def row_sampler(sources: Sequence[Callable[[int], np.ndarray]], first: int = BLOCK) -> Callable[[], list[float]]:
    """One value of each block source per call, as a list: the values that the sources' own
    samplers, called once each in order, would give (row ``k`` holds the ``k``-th value of
    every source), in one call instead of one per source. A job's process times are drawn so.

    The first block has ``first`` rows, later ones :data:`BLOCK`: a product that will have
    few jobs (one, in a job shop) draws few rows. Give ``first`` only for sources of
    :attr:`~_Spec.sequential` distributions, whose streams do not depend on block sizes."""
    rows: list[list[float]] = []
    size = first

    def sample() -> list[float]:
        nonlocal size
        if not rows:
            rows.extend(reversed(np.column_stack([source(size) for source in sources]).tolist()))
            size = BLOCK
        return rows.pop()

    return sample


def _bare_number_is_constant(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # let validation refuse it: `true` is not a time
    if isinstance(value, int | float):
        return {"dist": "constant", "value": value}
    return value


_Specs = Annotated[
    Constant | Exponential | Normal | LogNormal | Uniform | Triangular | Gamma | Weibull | Empirical,
    Field(discriminator="dist"),
]

Distribution = Annotated[
    _Specs,
    BeforeValidator(_bare_number_is_constant, json_schema_input_type=float | _Specs),
]
"""Any distribution spec; a bare number means a constant."""

DISTRIBUTION_NAMES = frozenset(
    get_args(cls.model_fields["dist"].annotation)[0] for cls in get_args(get_args(_Specs)[0])
)
"""The ``dist`` names a scenario may use."""

DISTRIBUTION_PARAMETERS = {
    get_args(cls.model_fields["dist"].annotation)[0]: tuple(
        field.alias or name for name, field in cls.model_fields.items() if name != "dist"
    )
    for cls in get_args(get_args(_Specs)[0])
}
"""The parameters of each distribution, as scenario files name them, in declaration order
(``{"normal": ("mean", "sd"), ...}``)."""

TIME_PARAMETERS = ("value", "mean", "sd", "low", "mode", "high", "scale", "values")
"""Parameters of a distribution that are times (scaled with it); ``shape`` and ``weights`` are not."""


def scale_distribution(spec: Any, factor: float) -> Any:
    """A distribution (as plain scenario data) whose values are ``factor`` times those of
    ``spec``: every time parameter is multiplied, so the shape (coefficient of variation) stays.

    Raises:
        ValueError: ``factor`` is not positive.
    """
    if not factor > 0:
        raise ValueError(f"factor must be > 0 (got {factor})")
    if isinstance(spec, int | float):
        return spec * factor
    scaled = dict(spec)
    for key in TIME_PARAMETERS:
        if key in scaled:
            value = scaled[key]
            scaled[key] = [v * factor for v in value] if isinstance(value, list) else value * factor
    return scaled
