"""``twin evaluate``: rules, trained models and CP-SAT scored on the same problems, fairly.

Agents are named on the command line as

- ``rule:NAME``: a dispatching rule of :mod:`twin.dispatching`;
- ``model:PATH``: a saved SB3 model (MaskablePPO, PPO, A2C or DQN), greedy decoding;
  ``model:PATH@K``: the best of ``K`` sampled rollouts, stepped together (sampling mode; for
  a stochastic scenario each rollout is its own run, so only greedy decoding is allowed
  there); ``+active`` or ``+non_delay`` after it: the model decides on the array model of the
  job shop with active (Giffler-Thompson) or non-delay decisions instead of in the plant;
- ``cpsat``: OR-Tools CP-SAT on the deterministic instance;
- ``+improve:S`` after a rule or a model (``model:PATH+improve:10``): its schedule is
  CP-SAT's hint and upper bound for ``S`` more seconds (agent plus search).

Problems are job-shop instances (files, or random ones) or one stochastic scenario with a
list of seeds. Every method sees the same problems and seeds (common random numbers), so the
differences are paired. Results use the table of :mod:`twin.jobshop.evaluation` (one row per method,
instance and seed, stored in the run store for the dashboard's leaderboard) with two more
columns: ``kpi`` (the name of what is minimised: ``makespan`` or a KPI such as
``tardiness_mean``) and ``value`` (its value; equal to ``makespan`` for job shops). For an
open plant ``makespan``, ``best_known`` and ``gap`` are null.

:func:`summarize` gives one row per method: episodes, the KPI's mean and 95% t-interval, the
mean gap to the best known bound, the paired difference against the best rule (mean and 95%
interval of method minus rule, per problem and seed; negative is better) and the wall time
per decision.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from agents.methods import Decisions, cpsat_method, improve_method, load_any_model, model_method, run_policy
from twin.jobshop.evaluation import RESULT_COLUMNS, SCHEDULE_COLUMNS, Method, evaluate, rule_method
from twin.jobshop.instances import JobShopInstance
from twin.measure.stats import bounded_interval, confidence_interval

__all__ = [
    "AgentSpec",
    "evaluate_instances",
    "evaluate_scenario",
    "parse_agent",
    "summarize",
]


@dataclass(frozen=True)
class AgentSpec:
    """A parsed agent argument: ``kind`` is rule, model or cpsat; ``method`` its name in tables."""

    kind: str
    method: str
    rule: str | None = None
    path: Path | None = None
    samples: int = 0
    decisions: Decisions = "plant"
    improve: float = 0.0
    """Seconds of CP-SAT after the rule or model (0: none)."""


def parse_agent(text: str) -> AgentSpec:
    """Parse ``rule:NAME[+improve:S]``, ``model:PATH[@K][+active|+non_delay][+improve:S]``
    or ``cpsat``.

    Raises:
        ValueError: another form, an unknown rule, a missing file, ``K`` below 1 or ``S``
            not a positive number.
    """
    from dataclasses import replace

    head, plus, seconds = text.rpartition("+improve:") if "+improve:" in text else (text, "", "")
    if plus:
        try:
            improve = float(seconds)
        except ValueError:
            improve = 0.0
        if not improve > 0 or head == "cpsat":
            raise ValueError(f"+improve:S takes a rule or model and seconds > 0 (got {text!r})")
        spec = parse_agent(head)
        return replace(spec, method=f"{spec.method}+improve:{improve:g}", improve=improve)
    return _parse_plain(text)


def _parse_plain(text: str) -> AgentSpec:
    from twin.dispatching import rule_names

    kind, _, rest = text.partition(":")
    if text == "cpsat":
        return AgentSpec("cpsat", "cpsat")
    if kind == "rule":
        if rest not in rule_names():
            raise ValueError(f"unknown rule (expected one of: {', '.join(rule_names())}) (got {rest!r})")
        return AgentSpec("rule", f"rule:{rest}", rule=rest)
    if kind == "model":
        decisions: Decisions = "plant"
        for option in ("active", "non_delay"):
            if rest.endswith(f"+{option}"):
                rest, decisions = rest.removesuffix(f"+{option}"), option
        path_text, at, count = rest.rpartition("@") if "@" in rest else (rest, "", "")
        samples = 0
        if at:
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"samples after @ must be a whole number >= 1 (got {count!r})")
            samples = int(count)
        path = Path(path_text)
        if not path.is_file():
            raise ValueError(f"no such model file (got {path_text!r})")
        name = _model_name(path) + (f"@{samples}" if samples else "")
        name += "" if decisions == "plant" else f"+{decisions}"
        return AgentSpec("model", f"agent:{name}", path=path, samples=samples, decisions=decisions)
    raise ValueError(f"expected rule:NAME, model:PATH[@K][+improve:S] or cpsat (got {text!r})")


def _model_name(path: Path) -> str:
    """The model card's name beside the file, else the file's folder or stem."""
    import json

    card = path.parent / "model_card.json"
    if card.is_file():
        try:
            return str(json.loads(card.read_text(encoding="utf-8"))["name"])
        except (ValueError, KeyError):
            pass
    return path.parent.name if path.stem in ("model", "best_model") else path.stem


def _method(spec: AgentSpec, time_limit: float) -> Method:
    if spec.rule is not None:
        method = rule_method(spec.rule)
    elif spec.path is not None:
        method = model_method(spec.path, spec.samples, decisions=spec.decisions)
    else:
        return cpsat_method(time_limit)
    return improve_method(method, spec.improve) if spec.improve else method


def evaluate_instances(
    instances: Sequence[JobShopInstance],
    agents: Sequence[AgentSpec],
    best_known: dict[str, float] | None = None,
    time_limit: float = 10.0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every agent on every (deterministic) job-shop instance: results and schedules tables."""
    methods = {spec.method: _method(spec, time_limit) for spec in agents}
    results, schedules = evaluate(instances, methods, best_known, seeds=(0,), progress=progress)
    results["kpi"] = "makespan"
    results["value"] = results["makespan"]
    return results, schedules


def evaluate_scenario(
    scenario: Any,
    agents: Sequence[AgentSpec],
    seeds: Sequence[int],
    kpi: str = "tardiness_mean",
    horizon: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every agent on the scenario with every seed (the same seed: the same arrivals, times
    and failures for all): results (``value`` = the KPI ``kpi``, or the makespan) and an empty
    schedules table.

    Raises:
        ValueError: cpsat or a sampling model (they need a deterministic problem).
    """
    from agents.training_set import rule_rollout
    from twin.envs.dispatch import DispatchEnv

    for spec in agents:
        if spec.kind == "cpsat" or spec.samples or spec.improve or spec.decisions != "plant":
            raise ValueError(f"{spec.method}: a stochastic scenario takes rules and greedy models only")
    models = {spec.method: load_any_model(spec.path) for spec in agents if spec.path is not None}
    rows = []
    total, done = len(agents) * len(seeds), 0
    for seed in seeds:
        for spec in agents:
            env = DispatchEnv(scenario, horizon=horizon)
            started = time.perf_counter()
            if spec.rule is not None:
                steps = list(rule_rollout(env, spec.rule, seed))
                info, decisions = steps[-1].info, len(steps)
            else:
                info, decisions = run_policy(models[spec.method], env, seed)
            wall = time.perf_counter() - started
            makespan = float(info.get("makespan", math.nan))
            value = makespan if kpi == "makespan" else float(info["kpis"][kpi])
            rows.append(
                {
                    "method": spec.method,
                    "kind": "rule" if spec.kind == "rule" else "agent",
                    "instance": scenario.name,
                    "seed": seed,
                    "makespan": makespan,
                    "best_known": math.nan,
                    "gap": math.nan,
                    "optimal": None,
                    "decisions": decisions,
                    "wall_time_s": wall,
                    "wall_time_per_decision_s": wall / decisions if decisions else math.nan,
                    "kpi": kpi,
                    "value": value,
                }
            )
            done += 1
            if progress is not None:
                progress(done, total)
    return pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "kpi", "value"]), pd.DataFrame(columns=list(SCHEDULE_COLUMNS))


def summarize(results: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per method (see the module doc), best mean first. Columns: ``method``,
    ``episodes``, ``kpi``, ``mean``, ``ci_low``, ``ci_high``, ``gap_mean`` (fraction; null
    without bounds), ``vs_rule`` (the best rule), ``diff_mean``, ``diff_ci_low``,
    ``diff_ci_high`` (method minus best rule, paired), ``wall_time_per_decision_s``."""
    keyed = results.assign(key=results["instance"].astype(str) + "#" + results["seed"].astype(str))
    means = keyed.groupby("method", sort=False)["value"].mean()
    rules = [m for m in means.index if str(m).startswith("rule:")]
    best_rule = min(rules, key=lambda m: means[m]) if rules else None
    reference = keyed[keyed["method"] == best_rule].set_index("key")["value"] if best_rule else None
    rows = []
    for method, frame in keyed.groupby("method", sort=False):
        values = frame["value"].to_numpy(float)
        # Makespans, tardiness and lead times are never negative: keep their interval there.
        lower = 0.0 if bool((values[values == values] >= 0).all()) else None
        mean, low, high = bounded_interval(values, lower, None, level)
        row: dict[str, Any] = {
            "method": method,
            "episodes": len(frame),
            "kpi": frame["kpi"].iloc[0],
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "gap_mean": float(frame["gap"].mean()) if frame["gap"].notna().any() else math.nan,
            "vs_rule": best_rule,
            "diff_mean": math.nan,
            "diff_ci_low": math.nan,
            "diff_ci_high": math.nan,
            "wall_time_per_decision_s": float(frame["wall_time_per_decision_s"].mean()),
        }
        if reference is not None and method != best_rule:
            paired = frame.set_index("key")["value"] - reference.reindex(frame["key"]).to_numpy()
            diff = paired.dropna().to_numpy(float)
            if len(diff):
                row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"] = confidence_interval(diff, level)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("mean").reset_index(drop=True)
