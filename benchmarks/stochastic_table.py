"""The stochastic job shop: Taillard instances on a noisy floor, rules and agents against
CP-SAT's deterministic schedule carried out there.

    python benchmarks/stochastic_table.py [--instances N] [--seeds S] [--time-limit T] [--model PATH]
        [--noisy-model PATH] [--due-model PATH]

Instances ta01..ta<N> (the one Taillard group this project develops on), each perturbed in
five ways, beside the unperturbed shop as a reference
(:class:`twin.jobshop.instances.Perturbation`, times in the instances' units, a mean
operation lasting about 50):

- process-time noise, lognormal with CV 0.2 and with CV 0.5;
- machine breakdowns (busy basis, exponential, MTTR 50) with MTBF 1000 and with MTBF 250;
- Poisson arrivals (mean gap 60: the busiest machines near 85% load) with due dates at
  release + 1.5 x the job's work; scored by mean tardiness instead of the makespan.

Every method runs in the twin's SimPy model of the perturbed shop (``twin/Dispatch-v0``),
seeds 1..S, the same seed giving every method the same process times, breakdowns and
arrivals (common random numbers). Methods: dispatching rules; ``agent``, a zoo agent trained
on the deterministic 15x15 shop (``--model``, greedy); ``agent for the floor``, trained for
the noisy floor: ``--noisy-model`` (``agents/zoo/jobshop_noisy``: random 15x15 instances
under the four noise and breakdown settings) where the makespan is scored, ``--due-model``
(``agents/zoo/jobshop_due``: random 15x15 instances with these arrivals and due dates,
tardiness) where tardiness is; and **CP-SAT's schedule**, solved
once on the deterministic instance (``--time-limit`` s), carried out on the noisy floor two
ways:

- ``cpsat right-shift``: the plan's machine sequences kept, each operation started as soon
  as its machine and job allow (:func:`twin.jobshop.execution.right_shift`), with the very
  process times and releases the SimPy runs of the same seed drew (read from the mwkr run's
  log); its breakdowns are drawn by the executor from the same distributions (the same law,
  not the same draws);
- ``cpsat priorities``: in the SimPy model, a free machine starts the waiting job that comes
  first in its CP-SAT sequence (non-delay: no machine waits for a late job, so the order
  bends where the floor's times differ).

Figures: makespan, mean over instances and seeds as % above each instance's best known
(deterministic) makespan; tardiness, mean over jobs, instances and seeds. Each method's
95% t-interval half-width follows ``±``. Under the table: the agent for the floor minus the
setting's best rule and minus the deterministic agent, paired over the same instances and
seeds (95% t-intervals; below zero: the floor agent is better), and the wall time per
episode.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from agents.cpsat import CpsatResult, solve  # noqa: E402
from agents.methods import load_any_model, run_policy  # noqa: E402
from twin.envs.dispatch import DispatchEnv  # noqa: E402
from twin.jobshop.bounds import best_known  # noqa: E402
from twin.jobshop.execution import Breakdowns, machine_sequences, right_shift  # noqa: E402
from twin.jobshop.instances import JobShopInstance, Perturbation, instance_to_scenario, load_instance  # noqa: E402
from twin.jobshop.schedules import ScheduledOperation, schedule_from_log  # noqa: E402
from twin.measure.stats import confidence_interval  # noqa: E402
from twin.scenario import Scenario  # noqa: E402

JOBSHOP = ROOT / "scenarios" / "jobshop"
SETTINGS: dict[str, Perturbation] = {
    "none (the textbook shop)": Perturbation(),
    "CV 0.2": Perturbation(cv=0.2),
    "CV 0.5": Perturbation(cv=0.5),
    "breakdowns, MTBF 1000": Perturbation(mtbf=1000.0, mttr=50.0),
    "breakdowns, MTBF 250": Perturbation(mtbf=250.0, mttr=50.0),
    "arrivals + due dates": Perturbation(arrival_mean=60.0, due_factor=1.5),
}
RULES = ("mwkr", "mopnr", "spt", "fifo", "atcd")
DUE_RULES = ("atcd",)
"""Rules that need due dates (shown only where jobs have them; without, atcd is fifo)."""

Chooser = Callable[[DispatchEnv], int]


def rule_chooser(rule: str) -> Chooser:
    return lambda env: env.rule_action(rule)


def plan_chooser(instance: JobShopInstance, result: CpsatResult) -> Chooser:
    """CP-SAT's deterministic schedule as machine-sequence priorities (module doc)."""
    rank: dict[tuple[int, int], int] = {}
    for machine in range(instance.machines):
        ops = sorted((op for op in result.schedule if op.machine == machine), key=lambda op: op.start)
        rank.update({(machine, op.job): position for position, op in enumerate(ops)})

    def choose(env: DispatchEnv) -> int:
        machine = int(str(env.station)[1:])
        return min(range(len(env.queue)), key=lambda i: rank[machine, env.queue[i].product])

    return choose


def shifted(
    instance: JobShopInstance,
    plan: CpsatResult,
    scenario: Scenario,
    floor: list[ScheduledOperation],
    base: Perturbation,
    seed: int,
) -> dict[str, float]:
    """The plan right-shifted with the floor's times: its makespan and mean tardiness."""
    durations = [[0.0] * len(ops) for ops in instance.jobs]
    for op in floor:
        durations[op.job][op.operation] = (
            op.end - op.start if base.mtbf is None else instance.jobs[op.job][op.operation][1]
        )
    orders = [scenario.products[f"j{j}"].release for j in range(instance.n_jobs)]
    releases = [order[0].at if order else 0.0 for order in orders]
    breakdowns = None
    if base.mtbf is not None and base.mttr is not None:
        breakdowns = Breakdowns(instance.machines, base.mtbf, base.mttr, seed)
    done = right_shift(instance, machine_sequences(plan.schedule, instance.machines), durations, releases, breakdowns)
    ends = [0.0] * instance.n_jobs
    for op in done:
        ends[op.job] = max(ends[op.job], op.end)
    dues = [order[0].due if order and order[0].due is not None else math.inf for order in orders]
    late = [max(0.0, end - due) for end, due in zip(ends, dues, strict=True)]
    return {"makespan": max(ends), "tardiness_mean": float(np.mean(late))}


def episode(env: DispatchEnv, seed: int, choose: Chooser | None, model: Any) -> dict[str, Any]:
    if choose is None:
        return run_policy(model, env, seed)[0]
    env.reset(seed=seed)
    while True:
        _, _, terminated, truncated, info = env.step(choose(env))
        if terminated or truncated:
            return info


def paired_line(label: str, values: dict[tuple[str, str], list[float]]) -> str:
    """The floor agent against the setting's best rule and against the deterministic agent
    (when run), paired over the same instances and seeds (common random numbers): each mean
    difference and its 95% t-interval."""
    rules = {m: np.mean(v) for (setting, m), v in values.items() if setting == label and m.startswith("rule:")}
    rivals = [min(rules, key=lambda m: rules[m])] + (["agent"] if (label, "agent") in values else [])
    parts = []
    for rival in rivals:
        difference = np.asarray(values[label, "agent for the floor"]) - np.asarray(values[label, rival])
        mean, low, high = confidence_interval(difference, 0.95)
        parts.append(f"minus {rival.removeprefix('rule:')} {mean:+.2f} (95% CI {low:+.2f} to {high:+.2f})")
    return f"{label}: agent for the floor " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10, help="ta01..taN")
    parser.add_argument("--seeds", type=int, default=10, help="noisy runs per instance and setting")
    parser.add_argument("--time-limit", type=float, default=10.0, help="CP-SAT seconds per instance")
    zoo = ROOT / "agents" / "zoo"
    parser.add_argument("--model", type=Path, default=zoo / "jobshop_15x15" / "model.zip")
    parser.add_argument("--noisy-model", type=Path, default=zoo / "jobshop_noisy" / "model.zip")
    parser.add_argument("--due-model", type=Path, default=zoo / "jobshop_due" / "model.zip")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    names = [f"ta{i:02d}" for i in range(1, args.instances + 1)]
    instances = [load_instance(JOBSHOP / f"{name}.txt") for name in names]
    best = best_known([JOBSHOP / "bounds.json"])
    model = load_any_model(args.model) if args.model.is_file() else None
    noisy_model = load_any_model(args.noisy_model) if args.noisy_model.is_file() else None
    due_model = load_any_model(args.due_model) if args.due_model.is_file() else None
    solved = {instance.name: solve(instance, time_limit=args.time_limit, workers=None) for instance in instances}
    plans = {instance.name: plan_chooser(instance, solved[instance.name]) for instance in instances}
    agent = ["agent"] if model is not None else []
    agent += ["agent for the floor"] if noisy_model is not None or due_model is not None else []
    methods: list[str] = [*(f"rule:{r}" for r in RULES), *agent, "cpsat priorities", "cpsat right-shift"]
    values: dict[tuple[str, str], list[float]] = {}
    walls: dict[str, list[float]] = {m: [] for m in methods}
    for label, base in SETTINGS.items():
        tardiness = base.due_factor is not None
        floor_model = due_model if tardiness else noisy_model
        for instance in instances:
            for seed in range(1, args.seeds + 1):
                scenario = instance_to_scenario(instance, perturbation=replace(base, seed=seed))
                floor: list[ScheduledOperation] = []
                for method in methods:
                    if method.removeprefix("rule:") in DUE_RULES and not tardiness:
                        continue
                    if method == "agent for the floor" and floor_model is None:
                        continue
                    env = DispatchEnv(scenario)
                    started = time.perf_counter()
                    if method == "cpsat right-shift":
                        info: dict[str, Any] = {"kpis": {}}
                        result = shifted(instance, solved[instance.name], scenario, floor, base, seed)
                        info["makespan"], info["kpis"]["tardiness_mean"] = result["makespan"], result["tardiness_mean"]
                    else:
                        policy = model
                        if method in ("agent", "agent for the floor"):
                            choose = None
                            policy = model if method == "agent" else floor_model
                        elif method == "cpsat priorities":
                            choose = plans[instance.name]
                        else:
                            choose = rule_chooser(method.removeprefix("rule:"))
                        info = episode(env, seed, choose, policy)
                        if method == "rule:mwkr":
                            floor = schedule_from_log(env.plant.log)
                    walls[method].append(time.perf_counter() - started)
                    if tardiness:
                        value = float(info["kpis"]["tardiness_mean"])
                    else:
                        value = 100 * (float(info["makespan"]) / best[instance.name] - 1)
                    values.setdefault((label, method), []).append(value)
        print(f"{label}: done", file=sys.stderr, flush=True)
    heads = [m.removeprefix("rule:") for m in methods]
    print(f"\nStochastic job shop, ta01-ta{args.instances:02d}, seeds 1-{args.seeds} (common random numbers)\n")
    print("| setting | measure | " + " | ".join(heads) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in heads) + " |")
    for label, base in SETTINGS.items():
        cells = []
        means = {}
        for method in methods:
            if (label, method) not in values:
                cells.append("")
                continue
            mean, low, high = confidence_interval(np.asarray(values[label, method]), 0.95)
            means[method] = mean
            half = (high - low) / 2 if math.isfinite(high) else math.nan
            cells.append(f"{mean:.1f} ± {half:.1f}")
        winner = min(means, key=lambda m: means[m])
        cells = [f"**{c}**" if m == winner else c for m, c in zip(methods, cells, strict=True)]
        measure = "mean tardiness" if base.due_factor is not None else "makespan, % above best known"
        print(f"| {label} | {measure} | " + " | ".join(cells) + " |")
    print()
    for label in SETTINGS:
        if (label, "agent for the floor") in values:
            print(paired_line(label, values))
    print(
        "\nWall time per episode (ms): "
        + ", ".join(f"{h} {1000 * np.mean(walls[m]):.0f}" for h, m in zip(heads, methods, strict=True))
    )
    gaps = [100 * (solved[i.name].makespan / best[i.name] - 1) for i in instances]
    print(
        f"CP-SAT: {args.time_limit:g} s per instance, once, on the deterministic instance: "
        f"{np.mean(gaps):.1f}% mean gap."
    )


if __name__ == "__main__":
    main()
