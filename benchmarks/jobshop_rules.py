"""Dispatching rules on the classic job-shop instances, and the speed of twin/Dispatch-v0.

**Quality.** Every rule schedules every shipped instance through the twin (non-delay
dispatching: a machine never idles while a job waits), and the table shows each rule's mean
gap to the best known makespan (``upper_bound`` in ``scenarios/jobshop/bounds.json``) per
instance set: ft (ft06, ft10, ft20), la (la01-la40), ta (ta01-ta10), abz (abz5-abz9) and orb
(orb01-orb10). Jobs are given due dates of 1.5 x their work content, which changes no
schedule of the other rules but gives ``edd``, ``cr`` and ``atc`` something to read; the
``random`` rule's row is the mean of seeds 0-4. ``--cpsat S`` adds CP-SAT with ``S`` seconds
per instance.

**Speed.** The same episode run two ways, in one process, interleaved, median of
``--repeat``: the twin with a rule deciding inside the model (``Plant(...).run()``), and
twin/Dispatch-v0 with the same rule's choices given as actions (``mode="job"`` and
``rule_action``, so observations, masks and rewards are built at every decision). Both make
the same schedule (asserted). **steps/s** is env decisions per wall-clock second; **ratio** =
env episode time / rule episode time (the price of the env over the bare model).

Usage::

    python benchmarks/jobshop_rules.py            # all instances, speed on ta01 and an open plant
    python benchmarks/jobshop_rules.py --quick    # ft and la only, fewer repeats
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin.dispatching import rule_names  # noqa: E402
from twin.envs.dispatch import DispatchEnv  # noqa: E402
from twin.jobshop.bounds import best_known  # noqa: E402
from twin.jobshop.instances import Perturbation, instance_to_scenario, load_instance  # noqa: E402
from twin.jobshop.schedules import run_rule  # noqa: E402
from twin.scenario import Scenario, load_scenario  # noqa: E402
from twin.sim.plant import Plant  # noqa: E402

JOBSHOP = ROOT / "scenarios" / "jobshop"
SETS = ("ft", "la", "ta", "abz", "orb")


def instance_set(name: str) -> str:
    return next(prefix for prefix in SETS if name.startswith(prefix))


def quality(names: list[str], cpsat: float | None) -> None:
    bounds = best_known([JOBSHOP / "bounds.json"])
    gaps: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rules = [rule for rule in rule_names() if rule != "lifo"] + ["lifo"]
    for name in names:
        instance = load_instance(JOBSHOP / f"{name}.txt")
        best = bounds[name]
        scenario = instance_to_scenario(instance, perturbation=Perturbation(due_factor=1.5))
        for rule in rules:
            seeds = range(5) if rule == "random" else range(1)
            makespan = statistics.mean(run_rule(scenario, rule, seed=s).makespan for s in seeds)
            gaps[rule][instance_set(name)].append(makespan / best - 1)
        if cpsat:
            from agents.cpsat import solve

            gaps[f"cpsat {cpsat:g}s"][instance_set(name)].append(solve(instance, cpsat).makespan / best - 1)
    present = [s for s in SETS if any(instance_set(n) == s for n in names)]
    counts = {s: sum(instance_set(n) == s for n in names) for s in present}
    print("Mean gap to the best known makespan (%), dispatching through the twin\n")
    print("| rule | " + " | ".join(f"{s} ({counts[s]})" for s in present) + " | all |")
    print("| --- | " + " | ".join("---:" for _ in present) + " | ---: |")
    rows = sorted(gaps.items(), key=lambda kv: statistics.mean(g for v in kv[1].values() for g in v))
    for rule, by_set in rows:
        cells = [f"{100 * statistics.mean(by_set[s]):.1f}" for s in present]
        overall = 100 * statistics.mean(g for s in present for g in by_set[s])
        print(f"| {rule} | " + " | ".join(cells) + f" | {overall:.1f} |")


def timed(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


def speed(label: str, scenario: Scenario, rule: str, repeat: int) -> None:
    uniform = {name: spec.model_copy(update={"dispatching": rule}) for name, spec in scenario.stations.items()}
    scenario = scenario.model_copy(update={"stations": uniform})
    env = DispatchEnv(scenario, max_queue=16 if scenario.horizon is None else None)
    seed = scenario.seed
    outcome: dict[str, float] = {}

    def rule_episode() -> None:
        plant = Plant(scenario, seed=seed)
        end = plant.run()
        outcome["rule"] = end if scenario.horizon is None else float(plant.left)

    def env_episode() -> None:
        env.reset(seed=seed)
        while True:
            _, _, terminated, truncated, info = env.step(env.rule_action(rule))
            if terminated or truncated:
                break
        outcome["env"] = info["makespan"] if scenario.horizon is None else float(env.plant.left)

    rule_episode()
    env_episode()
    assert outcome["rule"] == outcome["env"], outcome
    rule_times, env_times = [], []
    for _ in range(repeat):
        rule_times.append(timed(rule_episode))
        env_times.append(timed(env_episode))
    rule_s, env_s = statistics.median(rule_times), statistics.median(env_times)
    steps = env.decisions
    print(
        f"| {label} | {rule} | {steps} | {1000 * rule_s:.1f} | {1000 * env_s:.1f} | "
        f"{steps / env_s:,.0f} | {env_s / rule_s:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="ft and la only, 5 repeats")
    parser.add_argument("--cpsat", type=float, default=None, metavar="S", help="add CP-SAT with S seconds per instance")
    parser.add_argument("--repeat", type=int, default=None, help="timed repeats per way (default 20, quick 5)")
    args = parser.parse_args()
    names = sorted(best_known([JOBSHOP / "bounds.json"]))
    if args.quick:
        names = [n for n in names if n.startswith(("ft", "la"))]
    quality(names, args.cpsat)
    repeat = args.repeat or (5 if args.quick else 20)
    print("\nEnv speed: one episode driven by the rule inside the model vs the env given the rule's choices\n")
    print("| episode | rule | decisions | rule-driven ms | env ms | env steps/s | ratio env/rule |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name in ("ft10", "ta01") if args.quick else ("ft10", "ta01", "la40"):
        speed(f"{name} (job shop)", instance_to_scenario(load_instance(JOBSHOP / f"{name}.txt")), "mwkr", repeat)
    open_plant = load_scenario(ROOT / "scenarios" / "examples" / "job_shop.yaml")
    short = open_plant.model_copy(update={"horizon": 5000.0, "warmup": 0.0})
    speed("examples/job_shop.yaml, 5000 min", short, "spt", max(3, repeat // 4))


if __name__ == "__main__":
    main()
