"""Distribution specs: samples agree with each spec's `mean` and with theory; bare numbers are
constants; samplers are reproducible from their generator's seed."""

from __future__ import annotations

import math
from typing import Any, get_args

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from twin.scenario.distributions import BLOCK, Constant, Distribution, Empirical, Exponential, Normal, row_sampler

SPEC = TypeAdapter(Distribution)
N = 200_000


def weibull_var(shape: float, scale: float) -> float:
    return scale**2 * (math.gamma(1 + 2 / shape) - math.gamma(1 + 1 / shape) ** 2)


def truncated(mean: float, sd: float) -> Any:
    """scipy's normal(mean, sd) truncated to [0, inf)."""
    return stats.truncnorm(-mean / sd, math.inf, loc=mean, scale=sd)


@pytest.mark.parametrize(
    ("spec", "mean", "variance"),
    [
        (3.5, 3.5, 0.0),  # bare number: constant
        ({"dist": "constant", "value": 2}, 2.0, 0.0),
        ({"dist": "exponential", "mean": 2}, 2.0, 4.0),  # variance mean^2
        ({"dist": "normal", "mean": 5, "sd": 1}, truncated(5, 1).mean(), truncated(5, 1).var()),  # barely cut
        ({"dist": "normal", "mean": 1, "sd": 1}, truncated(1, 1).mean(), truncated(1, 1).var()),  # cut at 0
        ({"dist": "normal", "mean": 4, "sd": 0}, 4.0, 0.0),  # degenerate
        ({"dist": "lognormal", "mean": 5, "sd": 2}, 5.0, 4.0),  # moments of the variable itself
        ({"dist": "uniform", "low": 1, "high": 3}, 2.0, 4 / 12),
        ({"dist": "triangular", "low": 1, "mode": 2, "high": 4}, 7 / 3, (1 + 4 + 16 - 2 - 4 - 8) / 18),
        ({"dist": "gamma", "shape": 2, "scale": 1.5}, 3.0, 2 * 1.5**2),
        ({"dist": "weibull", "shape": 1.5, "scale": 10}, 10 * math.gamma(1 + 1 / 1.5), weibull_var(1.5, 10)),
        ({"dist": "empirical", "values": [1, 2, 5], "weights": [0.5, 0.3, 0.2]}, 2.1, 0.5 + 1.2 + 5.0 - 2.1**2),
        ({"dist": "empirical", "values": [2, 4]}, 3.0, 1.0),  # equal weights by default
    ],
)
def test_sample_moments_match_theory(spec: Any, mean: float, variance: float) -> None:
    """`mean` is the theoretical mean, and 200,000 draws agree with mean and variance."""
    dist = SPEC.validate_python(spec)
    assert dist.mean == pytest.approx(mean, rel=1e-12)
    values = dist.draw(np.random.default_rng(1), N)
    assert values.shape == (N,)
    # Mean within 5 standard errors; variance within 3% (the lognormal tail is the widest).
    assert values.mean() == pytest.approx(mean, abs=5 * math.sqrt(variance / N) + 1e-12)
    assert values.var() == pytest.approx(variance, rel=0.03, abs=1e-12)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 0.5, "sd": 1},  # ~31% of raw draws negative: redrawn
        {"dist": "normal", "mean": -2, "sd": 1},  # mostly negative, still legal
    ],
)
def test_truncated_normal_never_negative(spec: dict[str, float]) -> None:
    """Negative draws are redrawn, never clipped to 0 and never kept."""
    dist = SPEC.validate_python(spec)
    values = dist.draw(np.random.default_rng(2), N)
    assert values.min() > 0.0
    assert values.mean() == pytest.approx(truncated(spec["mean"], spec["sd"]).mean(), rel=0.01)
    assert dist.mean == pytest.approx(truncated(spec["mean"], spec["sd"]).mean(), rel=1e-9)


def test_empirical_frequencies() -> None:
    """Each value comes up in proportion to its weight."""
    dist = SPEC.validate_python({"dist": "empirical", "values": [1, 2, 5], "weights": [5, 3, 2]})
    values = dist.draw(np.random.default_rng(3), N)
    share = {v: float(np.mean(values == v)) for v in (1.0, 2.0, 5.0)}
    assert share == pytest.approx({1.0: 0.5, 2.0: 0.3, 5.0: 0.2}, abs=0.005)
    assert set(np.unique(values).tolist()) == {1.0, 2.0, 5.0}


def test_zero_weight_value_never_drawn() -> None:
    """A value of weight 0 never appears."""
    dist = SPEC.validate_python({"dist": "empirical", "values": [1, 9], "weights": [1, 0]})
    assert set(dist.draw(np.random.default_rng(4), 10_000).tolist()) == {1.0}


@pytest.mark.parametrize(
    ("given", "value"),
    [
        (3, 3.0),  # int
        (0.25, 0.25),  # float
        (0, 0.0),  # zero is a legal time
    ],
)
def test_bare_number_is_a_constant(given: float, value: float) -> None:
    """A bare number parses to Constant and samples only itself."""
    dist = SPEC.validate_python(given)
    assert dist == Constant(value=value)
    sample = dist.sampler(np.random.default_rng(0))
    assert [sample() for _ in range(3)] == [value] * 3


def test_constant_serialises_as_a_bare_number() -> None:
    """Written back, a constant is just its number; other specs keep `dist` and `mean`."""
    assert SPEC.dump_python(SPEC.validate_python(4)) == 4.0
    assert SPEC.dump_python(SPEC.validate_python({"dist": "exponential", "mean": 2})) == {
        "dist": "exponential",
        "mean": 2.0,
    }


@pytest.mark.parametrize(
    "spec",
    [
        Exponential(dist="exponential", mean=1.5),
        Normal(dist="normal", mean=3, sd=1),
        Empirical(dist="empirical", values=[1, 2, 3]),
    ],
)
def test_sampler_hands_out_draws_in_order(spec: Any) -> None:
    """The sampler yields exactly the values of block draws from the same seed, in order,
    across block boundaries."""
    sample = spec.sampler(np.random.default_rng(9))
    values = [sample() for _ in range(2 * BLOCK + 10)]
    rng = np.random.default_rng(9)
    expected = np.concatenate([spec.draw(rng, BLOCK) for _ in range(3)])[: len(values)].tolist()
    assert values == expected
    assert all(type(v) is float for v in values)


def test_row_sampler_gives_each_streams_values_in_order() -> None:
    """A row holds the next value of every spec's own sampler (constants included), across
    block boundaries: drawing a job's times as a row changes no number."""
    specs: list[Any] = [
        Exponential(dist="exponential", mean=1.5),
        Constant(value=2.0),
        Normal(dist="normal", mean=3, sd=1),
        Empirical(dist="empirical", values=[1, 2, 3]),
    ]
    rows = row_sampler([spec.block_source(lambda i=i: np.random.default_rng(i)) for i, spec in enumerate(specs)])
    samplers = [spec.stream_sampler(lambda i=i: np.random.default_rng(i)) for i, spec in enumerate(specs)]
    for _ in range(2 * BLOCK + 10):
        row = rows()
        assert row == [sample() for sample in samplers]
        assert all(type(v) is float for v in row)


EVERY_KIND: list[Any] = [
    SPEC.validate_python(spec)
    for spec in (
        2.5,
        {"dist": "exponential", "mean": 1.5},
        {"dist": "normal", "mean": 0.5, "sd": 1},
        {"dist": "lognormal", "mean": 2, "sd": 1},
        {"dist": "uniform", "low": 1, "high": 3},
        {"dist": "triangular", "low": 1, "mode": 2, "high": 4},
        {"dist": "gamma", "shape": 0.7, "scale": 2},
        {"dist": "weibull", "shape": 1.5, "scale": 2},
        {"dist": "empirical", "values": [1, 2, 3], "weights": [1, 2, 1]},
    )
]


def test_every_kind_of_distribution_is_covered() -> None:
    assert {type(spec) for spec in EVERY_KIND} == set(get_args(get_args(Distribution)[0]))


@pytest.mark.parametrize("spec", EVERY_KIND, ids=lambda spec: type(spec).__name__)
def test_a_sequential_distribution_draws_the_same_stream_in_blocks_of_any_size(spec: Any) -> None:
    """What lets a product with few jobs draw a small first block: 1, 7, then 256 values are
    the first 264 values drawn at once. A kind that is not sequential says so, and a normal
    that redraws negatives (mean 0.5, sd 1) is not."""
    whole = spec.draw(np.random.default_rng(3), 264)
    rng = np.random.default_rng(3)
    pieces = np.concatenate([spec.draw(rng, size) for size in (1, 7, 256)])
    assert (pieces.tobytes() == whole.tobytes()) == spec.sequential
    assert spec.sequential == (not isinstance(spec, Normal))


def test_a_small_first_block_changes_no_number() -> None:
    """A row sampler whose first block is one row gives the rows of one with full blocks."""
    specs = [spec for spec in EVERY_KIND if spec.sequential]

    def rows(first: int) -> list[list[float]]:
        sources = [spec.block_source(lambda i=i: np.random.default_rng(i)) for i, spec in enumerate(specs)]
        sample = row_sampler(sources, first)
        return [sample() for _ in range(BLOCK + 5)]

    assert rows(1) == rows(BLOCK)


def test_same_seed_same_samples() -> None:
    """Two samplers on generators with one seed agree draw for draw; another seed differs."""
    dist = SPEC.validate_python({"dist": "gamma", "shape": 2, "scale": 1})
    a, b, c = (dist.sampler(np.random.default_rng(s)) for s in (5, 5, 6))
    first = [a() for _ in range(300)]
    assert first == [b() for _ in range(300)]
    assert first != [c() for _ in range(300)]
