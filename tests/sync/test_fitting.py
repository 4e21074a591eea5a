"""Maximum-likelihood fits chosen by AIC: each family is recovered from its own samples, the
censored likelihood matches the analytic answer, and the fallbacks say why they were taken."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from twin.scenario import parse_scenario
from twin.sync.fitting import MIN_PARAMETRIC, fit_distribution

RNG = np.random.default_rng(20261203)

FAMILIES = [
    # (family, sample, parameters the fit must recover within 5%)
    ("exponential", RNG.exponential(2.0, 4000), {"mean": 2.0}),
    ("gamma", RNG.gamma(3.0, 0.9, 4000), {"shape": 3.0, "scale": 0.9}),
    ("lognormal", RNG.lognormal(np.log(1.2) - 0.045, 0.3, 4000), {"mean": 1.2}),
    ("weibull", 800 * RNG.weibull(1.5, 4000), {"shape": 1.5, "scale": 800}),
    ("normal", RNG.normal(4.0, 0.8, 4000), {"mean": 4.0, "sd": 0.8}),
]


@pytest.mark.parametrize(("family", "sample", "truth"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_each_family_is_recognised_and_recovered(family: str, sample: np.ndarray, truth: dict[str, float]) -> None:
    fit = fit_distribution(sample)
    assert fit.family == family
    for name, value in truth.items():
        assert fit.spec[name] == pytest.approx(value, rel=0.05)
    assert fit.mean == pytest.approx(sample.mean(), rel=0.01)
    assert fit.ks is not None and fit.ks < 0.03
    parse_scenario(
        {
            "name": "x",
            "horizon": 10,
            "products": {"p": {"arrival": fit.spec, "route": ["s"]}},
            "stations": {"s": {"process_time": 1}},
        }
    )


def test_censored_exponential_matches_the_analytic_mle() -> None:
    """With right-censored values c the exponential MLE is (sum x + sum c) / n."""
    x = RNG.exponential(5.0, 300)
    c = np.array([7.0, 11.0, 2.5])
    fit = fit_distribution(x, c, candidates=("exponential",))
    assert fit.spec["mean"] == pytest.approx((x.sum() + c.sum()) / len(x), rel=1e-5)
    assert fit.censored == 3 and fit.n == 300


def test_censoring_corrects_a_cut_sample() -> None:
    """Durations cut by a window: ignoring the cut biases the mean low, the censored fit does not."""
    full = RNG.gamma(2.0, 10.0, 6000)
    window = 25.0
    done, cut = full[full <= window], np.full((full > window).sum(), window)
    naive = fit_distribution(done, candidates=("gamma",))
    censored = fit_distribution(done, cut, candidates=("gamma",))
    assert naive.mean < 0.8 * 20.0
    assert censored.mean == pytest.approx(20.0, rel=0.05)
    assert censored.spec["shape"] == pytest.approx(2.0, rel=0.08)


def test_a_shape_no_family_has_is_empirical() -> None:
    bimodal = np.concatenate([RNG.normal(2, 0.1, 3000), RNG.normal(5, 0.1, 3000)])
    fit = fit_distribution(bimodal)
    assert fit.family == "empirical" and "no parametric family" in fit.note
    assert fit.mean == pytest.approx(3.5, rel=0.01)
    assert stats.ks_2samp(bimodal, fit.spec["values"]).statistic < 0.05


def test_small_samples_and_constants() -> None:
    small = fit_distribution([3.0, 1.0, 2.0])
    assert small.family == "empirical" and small.spec["values"] == [1.0, 2.0, 3.0] and "small sample" in small.note
    assert MIN_PARAMETRIC > 3
    constant = fit_distribution(np.full(50, 4.5))
    assert constant.family == "constant" and constant.spec == 4.5
    with pytest.raises(ValueError, match="no values"):
        fit_distribution([-1.0, np.nan])


def test_zeros_rule_out_families_on_the_positive_axis() -> None:
    sample = np.concatenate([np.zeros(50), RNG.exponential(1.0, 2000)])
    fit = fit_distribution(sample)
    assert {"gamma", "lognormal", "weibull"}.isdisjoint(fit.aic)
