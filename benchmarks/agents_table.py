"""The zoo agents against the dispatching rules: the tables of the README's agents section.

    python benchmarks/agents_table.py [--samples K] [--count N] [--seeds S] [--throughput] [--skip ...]

- random 10x10 and 15x15: ``--count`` unseen instances (seeds 1..N; training draws its own
  seeds from the run's stream and validation uses 100000+), mean makespan of each rule and of
  the zoo agent (greedy), and the agent's paired difference to the best rule;
- Taillard ta01-ta10 (15x15): mean gap to the best known makespan, greedy and best of K
  sampled rollouts, beside the best rule and the published learned results;
- the stochastic machining shop (scenarios/examples/job_shop.yaml, full horizon): mean
  tardiness over ``--seeds`` seeds, paired against the best rule (95% t-interval);
- ``--throughput``: training env steps/s with 1 and 2 envs (SubprocVecEnv for 2).

Every figure is measured here, in this process; nothing is copied from elsewhere except the
published results, which are labelled with their source.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.evaluate import evaluate_instances, evaluate_scenario, parse_agent, summarize  # noqa: E402
from twin.jobshop.bounds import best_known  # noqa: E402
from twin.jobshop.instances import generate_instance, load_instance  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402

ZOO = ROOT / "agents" / "zoo"
RULES = ("mwkr", "mopnr", "fifo", "spt", "lpt", "cr")
PLANT_RULES = ("edd", "atc", "cr", "spt", "fifo")
ZHANG_2020 = (
    'Zhang et al., "Learning to Dispatch for Job Shop Scheduling via Deep Reinforcement Learning", NeurIPS 2020'
)
CORSINI_2024 = 'Corsini et al., "Self-Labeling the Job Shop Scheduling Problem", NeurIPS 2024 (arXiv:2401.11849)'
PUBLISHED = [
    (f"L2D, greedy ({ZHANG_2020})", 26.0),
    (f"L2D, greedy, re-run by {CORSINI_2024}", 24.4),
    (f"SPT / MWR / MOR rules, re-run by {CORSINI_2024}", "26.1 / 19.1 / 20.4"),
    (f"SPN, greedy ({CORSINI_2024})", 13.8),
    (f"SPN, best of 128 samples ({CORSINI_2024})", 7.3),
]


def _print(summary, title: str, value: str = "mean", scale: float = 1.0) -> None:  # type: ignore[no-untyped-def]
    print(f"\n{title}\n")
    print("| agent | episodes | mean | 95% CI | gap % | vs best rule (paired diff, 95% CI) | ms/decision |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in summary.to_dict("records"):
        gap = "" if math.isnan(row["gap_mean"]) else f"{100 * row['gap_mean']:.1f}"
        diff = (
            ""
            if math.isnan(row["diff_mean"])
            else f"{row['diff_mean']:+.2f} [{row['diff_ci_low']:+.2f}, {row['diff_ci_high']:+.2f}]"
        )
        ci = "" if math.isnan(row["ci_low"]) else f"[{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
        ms = 1000 * row["wall_time_per_decision_s"]
        print(f"| {row['method']} | {row['episodes']} | {row['mean']:.2f} | {ci} | {gap} | {diff} | {ms:.3f} |")


def random_sets(count: int) -> None:
    for size, model in ((10, "jobshop_10x10"), (15, "jobshop_15x15")):
        path = ZOO / model / "model.zip"
        agents = [parse_agent(f"rule:{rule}") for rule in RULES]
        if path.is_file():
            agents.append(parse_agent(f"model:{path}"))
        instances = [generate_instance(size, size, seed=seed) for seed in range(1, count + 1)]
        results, _ = evaluate_instances(instances, agents)
        _print(summarize(results), f"Random {size}x{size}, {count} unseen instances (seeds 1-{count}): makespan")


def taillard(samples: int) -> None:
    files = [ROOT / "scenarios" / "jobshop" / f"ta{i:02d}.txt" for i in range(1, 11)]
    best = best_known([ROOT / "scenarios" / "jobshop" / "bounds.json"])
    agents = [parse_agent(f"rule:{rule}") for rule in RULES]
    for model in ("jobshop_15x15", "jobshop_10x10"):
        path = ZOO / model / "model.zip"
        if path.is_file():
            agents += [parse_agent(f"model:{path}"), parse_agent(f"model:{path}@{samples}")]
    results, _ = evaluate_instances([load_instance(f) for f in files], agents, best)
    _print(summarize(results), "Taillard ta01-ta10 (15x15): makespan, gap to the best known makespan")
    print("\nPublished learned results on ta01-ta10 (mean gap %), for comparison:")
    for label, gap in PUBLISHED:
        print(f"- {label}: {gap}")


def plant(seeds: int) -> None:
    path = ZOO / "plant_tardiness" / "model.zip"
    agents = [parse_agent(f"rule:{rule}") for rule in PLANT_RULES]
    if path.is_file():
        agents.append(parse_agent(f"model:{path}"))
    scenario = load_scenario(ROOT / "scenarios" / "examples" / "job_shop.yaml")
    results, _ = evaluate_scenario(scenario, agents, list(range(1, seeds + 1)), "tardiness_mean")
    _print(summarize(results), f"Stochastic machining shop, full horizon, seeds 1-{seeds}: mean tardiness (min)")


def throughput() -> None:
    from agents.config import load_config
    from agents.train import train

    config = load_config(ZOO / "jobshop_10x10.yaml")
    print("\nTraining throughput, 10x10 random instances, MaskablePPO + candidate policy, 8192 steps:\n")
    print("| envs | vec env | env steps/s (incl. PPO updates) |")
    print("| ---: | --- | ---: |")
    for n_envs, vec in ((1, "dummy"), (2, "subproc")):
        run = config.model_copy(
            update={"total_steps": 8192, "n_envs": n_envs, "vec_env": vec, "checkpoint_every": 10**9}
        )
        run.validation.every = 10**9
        with tempfile.TemporaryDirectory() as folder:
            card = train(run, Path(folder) / "out")
        print(f"| {n_envs} | {vec} | {card['steps_per_s']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="random instances per size")
    parser.add_argument("--samples", type=int, default=32, help="K of the sampling mode on Taillard")
    parser.add_argument("--seeds", type=int, default=200, help="seeds of the stochastic plant")
    parser.add_argument("--throughput", action="store_true", help="also measure training steps/s")
    parser.add_argument("--skip", nargs="*", default=[], choices=["random", "taillard", "plant"])
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    if "random" not in args.skip:
        random_sets(args.count)
    if "taillard" not in args.skip:
        taillard(args.samples)
    if "plant" not in args.skip:
        plant(args.seeds)
    if args.throughput:
        throughput()
    cards = {p.parent.name: json.loads(p.read_text()) for p in sorted(ZOO.glob("*/model_card.json"))}
    if cards:
        print("\nZoo models:\n\n| model | steps | wall time (s) | steps/s | parameters |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, card in cards.items():
            row = (name, card["steps"], f"{card['wall_time_s']:.0f}", card["steps_per_s"], card["parameters"])
            print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
