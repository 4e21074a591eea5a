"""Exact results of queueing theory that the validation scenarios are checked against.

Rates are per time unit, times in the scenario's time unit. Each function is the textbook
formula, written out so that a test shows where its expected value comes from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from twin.scenario.distributions import Constant, Distribution, Exponential

__all__ = [
    "age_replacement_availability",
    "availability",
    "batch_fill_wait",
    "birth_death",
    "completion_time_moments",
    "erlang_c",
    "exponential_age_replacement_availability",
    "feedback_visits",
    "mm1_wait",
    "mmc_wait",
    "pk_wait",
    "second_moment",
    "setup_wait",
    "two_machine_line",
]


def second_moment(dist: Distribution) -> float:
    """E[X^2] of a constant (m^2) or an exponential (2 m^2) distribution.

    Raises:
        TypeError: for other kinds, which the validation scenarios do not use.
    """
    if isinstance(dist, Constant):
        return dist.value**2
    if isinstance(dist, Exponential):
        return 2 * dist.mean**2
    raise TypeError(f"no second moment for {type(dist).__name__} (got {dist!r})")


def mm1_wait(arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue of M/M/1: Wq = rho / (mu - lambda), rho = lambda / mu."""
    return arrival_rate / service_rate / (service_rate - arrival_rate)


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C), offered load a = lambda / mu < c:

    C(c, a) = [a^c / c! * c / (c - a)] / [sum_{k<c} a^k / k! + a^c / c! * c / (c - a)].
    """
    tail = offered_load**servers / math.factorial(servers) * servers / (servers - offered_load)
    head = sum(offered_load**k / math.factorial(k) for k in range(servers))
    return tail / (head + tail)


def mmc_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue of M/M/c: Wq = C(c, a) / (c mu - lambda)."""
    return erlang_c(servers, arrival_rate / service_rate) / (servers * service_rate - arrival_rate)


def pk_wait(arrival_rate: float, mean_service: float, second_moment_service: float) -> float:
    """Mean time in queue of M/G/1 (Pollaczek-Khinchine): Wq = lambda E[S^2] / (2 (1 - rho))."""
    rho = arrival_rate * mean_service
    return arrival_rate * second_moment_service / (2 * (1 - rho))


def setup_wait(arrival_rate: float, mean_setup: float, second_moment_setup: float) -> float:
    """Extra mean wait in M/G/1 when each busy period starts with a setup D (the first job
    waits for it, later arrivals queue behind):

    (2 E[D] + lambda E[D^2]) / (2 (1 + lambda E[D])), added to the Pollaczek-Khinchine wait.
    """
    return (2 * mean_setup + arrival_rate * second_moment_setup) / (2 * (1 + arrival_rate * mean_setup))


def birth_death(births: Sequence[float], deaths: Sequence[float]) -> list[float]:
    """Stationary distribution of a finite birth-death chain on states 0..n.

    ``births[k]`` is the rate from k to k+1 and ``deaths[k]`` the rate from k+1 to k
    (both of length n); detailed balance gives pi_{k+1} = pi_k * births[k] / deaths[k].
    """
    weights = [1.0]
    for up, down in zip(births, deaths, strict=True):
        weights.append(weights[-1] * up / down)
    total = sum(weights)
    return [w / total for w in weights]


def two_machine_line(rate1: float, rate2: float, buffer: int) -> list[float]:
    """Distribution of N for two exponential machines in series, the first never starved,
    ``buffer`` places between them and blocking after service.

    N counts the jobs done on M1 and not yet on M2: those in the buffer, on M2, and one held
    finished on a blocked M1. N runs over 0..buffer+2; M1 works (birth rate mu1) while
    N < buffer + 2 and M2 works (death rate mu2) while N >= 1. Throughput is
    mu2 (1 - pi_0) = mu1 (1 - pi_{buffer+2}); M1 is blocked with probability pi_{buffer+2}.
    """
    states = buffer + 2
    return birth_death([rate1] * states, [rate2] * states)


def availability(mttf: float, mttr: float) -> float:
    """Long-run fraction of up time when up and repair times alternate: MTTF / (MTTF + MTTR)."""
    return mttf / (mttf + mttr)


def completion_time_moments(
    mean_service: float, second_moment_service: float, failure_rate: float, mean_repair: float, second_repair: float
) -> tuple[float, float]:
    """E[C] and E[C^2] of the completion time C of one operation on a machine that fails as a
    Poisson process (``failure_rate``) in busy time, each failure adding a repair R, the
    operation resuming where it stopped (preemptive resume).

    Given S = s, the number of failures is Poisson(f s), so E[C | s] = s (1 + f E[R]) and
    Var[C | s] = f s E[R^2]; hence E[C] = E[S] (1 + f E[R]) and
    E[C^2] = E[S^2] (1 + f E[R])^2 + f E[S] E[R^2].
    """
    stretch = 1 + failure_rate * mean_repair
    mean = mean_service * stretch
    second = second_moment_service * stretch**2 + failure_rate * mean_service * second_repair
    return mean, second


def age_replacement_availability(scale: float, every: float, maintenance: float, repair: float) -> float:
    """Long-run availability of a unit with Weibull(shape 2, ``scale``) lifetimes under age
    replacement: renewed by preventive maintenance (``maintenance`` long) at age ``every``, or
    by a repair (``repair`` long) at failure, whichever comes first (renewal-reward theorem):
    ``A(T) = int_0^T R / (int_0^T R + Tp R(T) + Tf F(T))`` with ``R(t) = exp(-(t/scale)^2)``,
    whose integral is ``scale * sqrt(pi) / 2 * erf(T / scale)``."""
    up = scale * math.sqrt(math.pi) / 2 * math.erf(every / scale)
    survive = math.exp(-((every / scale) ** 2))
    return up / (up + maintenance * survive + repair * (1 - survive))


def exponential_age_replacement_availability(mean: float, every: float, maintenance: float, repair: float) -> float:
    """The same for exponential lifetimes (``R(t) = exp(-t / mean)``): memoryless, so
    maintenance renews nothing and only costs time."""
    survive = math.exp(-every / mean)
    up = mean * (1 - survive)
    return up / (up + maintenance * survive + repair * (1 - survive))


def batch_fill_wait(size: int, rate: float) -> float:
    """Mean wait of a job for its batch of ``size`` to fill from Poisson arrivals at ``rate``:
    the k-th job of a batch waits for the ``size - k`` arrivals after it, so the mean over the
    batch is ``(size - 1) / (2 rate)``."""
    return (size - 1) / (2 * rate)


def feedback_visits(probability: float) -> float:
    """Mean visits of a job to a station it returns to with ``probability`` after each visit
    (geometric: the traffic equation ``v = 1 + p v`` of a Jackson network with feedback)."""
    return 1 / (1 - probability)
