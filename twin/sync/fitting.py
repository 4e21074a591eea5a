"""Fitting a distribution to a sample by maximum likelihood, chosen among candidates by AIC.

Candidates: exponential, gamma, lognormal, Weibull, normal (truncated at 0, as the twin draws
it) and empirical. Right-censored observations (an interval the log's window cut: it lasted
at least this long) enter the likelihood through the survival function. The log-likelihoods
are written on sufficient statistics (sums of x, log x, x**2), so a fit to a hundred thousand
values costs milliseconds; the optimiser starts from the closed-form or moment estimates.

The empirical candidate is scored as an equal-count histogram density (its edges and heights
counted as ``3 * bins`` parameters) and enters from :data:`MIN_EMPIRICAL` values on, so AIC
prefers it only when a large sample shows a shape no parametric family has; it is
written as ``{dist: empirical, values: [...]}`` with up to :data:`EMPIRICAL_POINTS` quantiles.
A sample of fewer than :data:`MIN_PARAMETRIC` values is taken as it is (empirical), and one
with no spread is a constant. Goodness of fit is the Kolmogorov-Smirnov statistic of the
chosen distribution against the uncensored values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CANDIDATES", "EMPIRICAL_POINTS", "MIN_EMPIRICAL", "MIN_PARAMETRIC", "Fit", "density", "fit_distribution"]

CANDIDATES = ("exponential", "gamma", "lognormal", "weibull", "normal", "empirical")
"""Families compared by AIC, in the order ties are broken."""

MIN_PARAMETRIC = 8
"""Below this many values a sample is used as it is (empirical) rather than fitted."""

MIN_EMPIRICAL = 200
"""Smallest sample for which the empirical candidate competes (a histogram of fewer overfits)."""

EMPIRICAL_POINTS = 100
"""Quantiles an empirical fit keeps (all values when the sample is smaller)."""

_PARAMETERS = {"exponential": 1, "gamma": 2, "lognormal": 2, "weibull": 2, "normal": 2}


@dataclass(frozen=True)
class Fit:
    """The distribution chosen for a sample, and the evidence for it."""

    spec: Any
    """Scenario-style distribution: a number (constant) or ``{"dist": ..., params}``."""
    family: str
    n: int
    """Uncensored values fitted."""
    censored: int
    """Right-censored values in the likelihood."""
    ks: float | None
    """Kolmogorov-Smirnov statistic against the uncensored values (None: constant or n < 2)."""
    mean: float
    """Mean of the fitted distribution."""
    sample_mean: float
    aic: dict[str, float] = field(default_factory=dict)
    """AIC of every candidate that could be fitted."""
    note: str = ""
    """Why the choice is not the plain AIC winner (small sample, no spread, ...)."""

    def to_json(self) -> dict[str, Any]:
        """The fit as the calibration report holds it."""
        return {
            "family": self.family,
            "spec": self.spec,
            "n": self.n,
            "censored": self.censored,
            "ks": self.ks,
            "mean": self.mean,
            "sample_mean": self.sample_mean,
            "aic": {k: round(v, 3) for k, v in self.aic.items()},
            "note": self.note,
        }


@dataclass(frozen=True)
class _Stats:
    x: np.ndarray
    c: np.ndarray
    n: int
    sx: float
    sx2: float
    slog: float
    slog2: float


def _stats(x: np.ndarray, c: np.ndarray) -> _Stats:
    positive = bool(np.all(x > 0))
    logs = np.log(x) if positive else np.full(1, np.nan)
    return _Stats(x, c, len(x), float(x.sum()), float((x * x).sum()), float(logs.sum()), float((logs * logs).sum()))


def _loglik(family: str, p: np.ndarray, s: _Stats) -> float:
    """Log-likelihood with right-censored values ``s.c``; ``p`` are the natural parameters."""
    from scipy import special

    n = s.n
    if family == "exponential":
        (scale,) = p
        return float(-n * math.log(scale) - (s.sx + s.c.sum()) / scale)
    if family == "gamma":
        k, scale = p
        value = (k - 1) * s.slog - s.sx / scale - n * (special.gammaln(k) + k * math.log(scale))
        return float(value + np.log(special.gammaincc(k, s.c / scale)).sum())
    if family == "lognormal":
        mu, sigma = p
        ss = s.slog2 - 2 * mu * s.slog + n * mu * mu
        value = -s.slog - n * math.log(sigma * math.sqrt(2 * math.pi)) - ss / (2 * sigma * sigma)
        return float(value + special.log_ndtr(-(np.log(s.c) - mu) / sigma).sum())
    if family == "weibull":
        k, scale = p
        value = n * math.log(k / scale) + (k - 1) * (s.slog - n * math.log(scale))
        value -= float(np.sum((s.x / scale) ** k)) + float(np.sum((s.c / scale) ** k))
        return float(value)
    if family == "normal":
        mu, sd = p
        ss = s.sx2 - 2 * mu * s.sx + n * mu * mu
        value = -n * math.log(sd * math.sqrt(2 * math.pi)) - ss / (2 * sd * sd)
        # Truncated at 0, as the twin draws it: divide by P(X > 0) once per value.
        value -= (n + len(s.c)) * float(special.log_ndtr(mu / sd))
        return float(value + special.log_ndtr(-(s.c - mu) / sd).sum())
    raise ValueError(f"unknown family {family!r}")


def _start(family: str, s: _Stats) -> np.ndarray:
    """Closed-form (uncensored) or moment estimates to start the optimiser from."""
    mean = s.sx / s.n
    var = max(s.sx2 / s.n - mean * mean, 1e-12 * mean * mean)
    if family == "exponential":
        return np.array([(s.sx + s.c.sum()) / s.n])
    if family == "gamma":
        from scipy import stats

        k, _, scale = stats.gamma.fit(s.x, floc=0, method="MLE")
        return np.array([k, scale])
    if family == "lognormal":
        mu = s.slog / s.n
        return np.array([mu, math.sqrt(max(s.slog2 / s.n - mu * mu, 1e-12))])
    if family == "weibull":
        cv = math.sqrt(var) / mean
        k = max(cv**-1.086, 0.05)
        return np.array([k, mean / math.gamma(1 + 1 / k)])
    return np.array([mean, math.sqrt(var)])


def _maximise(family: str, s: _Stats) -> tuple[np.ndarray, float]:
    """MLE of ``family``: closed form where there is one, else Nelder-Mead on log-parameters."""
    from scipy import optimize

    start = _start(family, s)
    # Exponential and (uncensored) lognormal MLEs are closed-form; scipy's gamma fit is the MLE.
    closed = family == "exponential" or (family in ("lognormal", "gamma") and len(s.c) == 0)
    if closed:
        return start, _loglik(family, start, s)
    location = family == "normal" or family == "lognormal"

    def to_natural(theta: np.ndarray) -> np.ndarray:
        return np.array([theta[0], math.exp(theta[1])]) if location else np.exp(theta)

    def objective(theta: np.ndarray) -> float:
        try:
            value = _loglik(family, to_natural(theta), s)
        except (OverflowError, ValueError, ZeroDivisionError):
            return math.inf
        return -value if math.isfinite(value) else math.inf

    theta0 = np.array([start[0], math.log(start[1])]) if location else np.log(start)
    found = optimize.minimize(
        objective, theta0, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-6, "maxiter": 2000}
    )
    best = to_natural(found.x)
    return best, -float(found.fun)


def _histogram_loglik(x: np.ndarray) -> tuple[float, int]:
    """Log-likelihood of an equal-count histogram density and its free parameters."""
    n = len(x)
    bins = int(np.clip(round(n ** (1 / 3)), 3, 50))
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return -math.inf, 3 * bins
    counts, _ = np.histogram(x, edges)
    widths = np.diff(edges)
    used = counts > 0
    value = float(np.sum(counts[used] * np.log(counts[used] / (n * widths[used]))))
    return value, 3 * (len(edges) - 1)


def _spec(family: str, p: np.ndarray) -> dict[str, Any]:
    r = [float(f"{v:.6g}") for v in p]
    if family == "exponential":
        return {"dist": "exponential", "mean": r[0]}
    if family == "gamma":
        return {"dist": "gamma", "shape": r[0], "scale": r[1]}
    if family == "weibull":
        return {"dist": "weibull", "shape": r[0], "scale": r[1]}
    if family == "normal":
        return {"dist": "normal", "mean": r[0], "sd": r[1]}
    mu, sigma = float(p[0]), float(p[1])
    mean = math.exp(mu + sigma * sigma / 2)
    sd = mean * math.sqrt(math.expm1(sigma * sigma))
    return {"dist": "lognormal", "mean": float(f"{mean:.6g}"), "sd": float(f"{sd:.6g}")}


def _frozen(family: str, p: np.ndarray) -> Any:
    from scipy import stats

    if family == "exponential":
        return stats.expon(scale=p[0])
    if family == "gamma":
        return stats.gamma(p[0], scale=p[1])
    if family == "weibull":
        return stats.weibull_min(p[0], scale=p[1])
    if family == "lognormal":
        return stats.lognorm(p[1], scale=math.exp(p[0]))
    return stats.truncnorm(-p[0] / p[1], math.inf, loc=p[0], scale=p[1])


def _empirical(x: np.ndarray) -> dict[str, Any]:
    values = (
        np.sort(x)
        if len(x) <= EMPIRICAL_POINTS
        else np.quantile(x, (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS)
    )
    return {"dist": "empirical", "values": [float(f"{v:.6g}") for v in values]}


def _ks(x: np.ndarray, cdf: Any) -> float | None:
    from scipy import stats

    if len(x) < 2:
        return None
    return float(stats.kstest(x, cdf).statistic)


def fit_distribution(values: Any, censored: Any = (), candidates: tuple[str, ...] = CANDIDATES) -> Fit:
    """Fit ``values`` (and right-censored ``censored``) by MLE; keep the candidate of least AIC.

    Negative values are dropped (they cannot be durations); zeros rule out the families that
    live on (0, inf).

    Raises:
        ValueError: no non-negative finite values.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x >= 0)]
    c = np.asarray(censored, dtype=float)
    c = c[np.isfinite(c) & (c > 0)]
    if len(x) == 0:
        raise ValueError("no values to fit")
    sample_mean = float(x.mean())
    spread = float(x.std())
    if spread <= 1e-9 * max(abs(sample_mean), 1e-300):
        return Fit(
            float(f"{sample_mean:.6g}"),
            "constant",
            len(x),
            len(c),
            None,
            sample_mean,
            sample_mean,
            note="no spread: constant",
        )
    if len(x) < MIN_PARAMETRIC:
        spec = _empirical(x)
        note = f"small sample (n={len(x)}): the values as they are"
        return Fit(
            spec,
            "empirical",
            len(x),
            len(c),
            _ks(x, _step_cdf(spec["values"])),
            float(np.mean(spec["values"])),
            sample_mean,
            note=note,
        )
    s = _stats(x, c)
    aic: dict[str, float] = {}
    found: dict[str, np.ndarray] = {}
    for family in candidates:
        if family == "empirical":
            if len(x) < MIN_EMPIRICAL:
                continue
            value, k = _histogram_loglik(x)
        else:
            if family in ("gamma", "lognormal", "weibull") and not np.all(x > 0):
                continue
            params, value = _maximise(family, s)
            found[family] = params
            k = _PARAMETERS[family]
        if math.isfinite(value):
            aic[family] = 2 * k - 2 * value
    best = min(aic, key=lambda f: (aic[f], candidates.index(f)))
    if best == "empirical":
        spec = _empirical(x)
        note = "no parametric family fits as well as the data's own shape" if len(aic) > 1 else ""
        return Fit(
            spec,
            "empirical",
            len(x),
            len(c),
            _ks(x, _step_cdf(spec["values"])),
            float(np.mean(spec["values"])),
            sample_mean,
            aic,
            note,
        )
    frozen = _frozen(best, found[best])
    return Fit(
        _spec(best, found[best]), best, len(x), len(c), _ks(x, frozen.cdf), float(frozen.mean()), sample_mean, aic
    )


def density(spec: Any, x: np.ndarray) -> np.ndarray | None:
    """The probability density of a fitted distribution at ``x`` (for plots over the sample's
    histogram); None for a constant or an empirical distribution, which have none."""
    if not isinstance(spec, dict) or spec.get("dist") in (None, "constant", "empirical"):
        return None
    kind = spec["dist"]
    if kind == "lognormal":
        sigma2 = math.log1p((spec["sd"] / spec["mean"]) ** 2)
        params = np.array([math.log(spec["mean"]) - sigma2 / 2, math.sqrt(sigma2)])
    elif kind == "exponential":
        params = np.array([spec["mean"]])
    elif kind == "normal":
        params = np.array([spec["mean"], spec["sd"]])
    else:
        params = np.array([spec["shape"], spec["scale"]])
    values: np.ndarray = _frozen(kind, params).pdf(np.asarray(x, dtype=float))
    return values


def _step_cdf(values: list[float]) -> Any:
    points = np.sort(np.asarray(values, dtype=float))

    def cdf(t: np.ndarray) -> np.ndarray:
        found: np.ndarray = np.searchsorted(points, t, side="right") / len(points)
        return found

    return cdf
