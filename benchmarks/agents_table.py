"""The zoo agents against the dispatching rules: the tables of the README's agents section.

    python benchmarks/agents_table.py [--samples K] [--count N] [--seeds S] [--throughput] [--skip ...]
        [--groups 15x15,20x15,...] [--per-group N] [--improve S] [--heldout]

- random 10x10 and 15x15: ``--count`` unseen instances (seeds 1..N; training draws its own
  seeds from the run's stream and validation uses 100000+), mean makespan of each rule and of
  the zoo agent (greedy), and the agent's paired difference to the best rule;
- Taillard ta01-ta10 (15x15): mean gap to the best known makespan, greedy and best of K
  sampled rollouts, beside the best rule and the published learned results;
- the stochastic machining shop (scenarios/examples/job_shop.yaml, full horizon): mean
  tardiness over ``--seeds`` seeds, paired against the best rule (95% t-interval);
- ``--throughput``: training env steps/s with 1 and 2 envs (SubprocVecEnv for 2);
- ``--groups``: per Taillard size group (15x15 is ta01-ta10, 20x15 ta11-ta20, ... 100x20
  ta71-ta80; the first ``--per-group`` of each), greedy and best-of-K gaps to the best known
  makespans of the zoo agents (the plant's non-delay env, and the self-labelled model's
  active decisions), of the best rule and of ``+improve:S`` (CP-SAT from the best of them),
  beside SPN's published per-group means, with the wall time per instance. ta11-ta80 are in
  ``scenarios/jobshop/heldout/`` with their bounds (ta71-ta80 against their machine-load
  lower bounds: see that folder's README);
- ``--heldout``: the held-out check, on benchmark families never looked at while developing
  (abz, orb, la, swv, yn): every agent's mean gap beside the best rule's.

Every figure is measured here, in this process; nothing is copied from elsewhere except the
published results, which are labelled with their source.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from agents.evaluate import evaluate_instances, evaluate_scenario, parse_agent, summarize  # noqa: E402
from twin.jobshop.bounds import best_known  # noqa: E402
from twin.jobshop.instances import generate_instance, load_instance  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402

ZOO = ROOT / "agents" / "zoo"
RULES = ("mwkr", "mopnr", "fifo", "spt", "lpt", "cr")
PLANT_RULES = ("edd", "atc", "atcd", "cr", "spt", "fifo")
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


SPN_GROUPS = {
    "15x15": (13.8, 7.3),
    "20x15": (15.0, 9.3),
    "20x20": (15.2, 9.9),
    "30x15": (17.1, 11.0),
    "30x20": (18.5, 13.4),
    "50x15": (10.1, 5.5),
    "50x20": (11.5, 8.4),
    "100x20": (5.9, 2.3),
}
"""SPN's greedy and best-of-128 mean gaps (%) per Taillard group (Corsini et al. 2024)."""
SELF_LABELLED = ZOO / "jobshop_selflabel" / "model.zip"


HELDOUT = ROOT / "scenarios" / "jobshop" / "heldout"
"""ta11-ta80, swv01-swv20 and yn1-yn4: never looked at while developing or training."""
TAILLARD_GROUPS = {
    "15x15": (1, ROOT / "scenarios" / "jobshop"),
    "20x15": (11, HELDOUT),
    "20x20": (21, HELDOUT),
    "30x15": (31, HELDOUT),
    "30x20": (41, HELDOUT),
    "50x15": (51, HELDOUT),
    "50x20": (61, HELDOUT),
    "100x20": (71, HELDOUT),
}
"""First instance and folder of each Taillard size group (ten instances each)."""


def _group_instances(group: str, per_group: int) -> tuple[list[Any], dict[str, float]]:
    """The first ``per_group`` Taillard instances of a size group and their best known makespans."""
    if group not in TAILLARD_GROUPS:
        raise SystemExit(f"--groups: unknown group {group!r} (known: {', '.join(TAILLARD_GROUPS)})")
    first, folder = TAILLARD_GROUPS[group]
    files = [folder / f"ta{i:02d}.txt" for i in range(first, first + min(per_group, 10))]
    return [load_instance(f) for f in files], best_known([folder / "bounds.json"])


def groups(names: list[str], per_group: int, samples: int, improve: float, which: list[str]) -> None:
    """Per size group: our gaps beside SPN's (module doc)."""
    from agents.methods import Decisions, best_rule_method, improve_method, model_method
    from twin.jobshop.evaluation import Method

    print(f"\nPer Taillard size group: mean gap %, greedy / best of {samples}, and s per instance\n")
    print(
        "| group | instances | reference | method | greedy gap % | best of K gap % | s/instance (greedy, K) "
        "| SPN greedy | SPN best of 128 |"
    )
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    models: list[tuple[str, Path, Decisions]] = []
    if "zoo" in which and (ZOO / "jobshop_15x15" / "model.zip").is_file():
        models.append(("jobshop_15x15 (plant, non-delay)", ZOO / "jobshop_15x15" / "model.zip", "plant"))
    if "selflabel" in which and SELF_LABELLED.is_file():
        models.append(("jobshop_selflabel (active)", SELF_LABELLED, "active"))
    for group in names:
        instances, reference = _group_instances(group, per_group)
        label = f"{instances[0].name}-{instances[-1].name}, best known"
        spn = SPN_GROUPS.get(group, (math.nan, math.nan))
        rows: list[tuple[str, Method | None, Method | None]] = []
        if "rules" in which:
            rows.append(("best rule", best_rule_method(), None))
        for name, path, decisions in models:
            greedy, sampled = (
                model_method(path, 0, decisions=decisions),
                model_method(path, samples, decisions=decisions),
            )
            rows.append((name, greedy, sampled))
        best_method: Method | None = None
        best_gap = math.inf
        for name, first, second in rows:
            cells, walls = [], []
            for method in (first, second):
                if method is None:
                    cells.append("")
                    continue
                gaps = []
                started = time.perf_counter()
                for instance in instances:
                    gaps.append(method(instance, 0).makespan / reference[instance.name] - 1)
                walls.append(f"{(time.perf_counter() - started) / len(instances):.2f}")
                gap = 100 * float(np.mean(gaps))
                cells.append(f"{gap:.1f}")
                if gap < best_gap:
                    best_gap, best_method = gap, method
            row = [
                group,
                str(len(instances)),
                label,
                name,
                cells[0],
                cells[1],
                ", ".join(walls),
                str(spn[0]),
                str(spn[1]),
            ]
            print("| " + " | ".join(row) + " |")
        if improve and best_method is not None:
            polished = improve_method(best_method, improve)
            started = time.perf_counter()
            gaps = [polished(i, 0).makespan / reference[i.name] - 1 for i in instances]
            wall = (time.perf_counter() - started) / len(instances)
            gap = 100 * float(np.mean(gaps))
            name = f"best of the above +improve:{improve:g}"
            print(f"| {group} | {len(instances)} | {label} | {name} | {gap:.1f} | | {wall:.2f} | | |")


def heldout() -> None:
    """The held-out check: benchmark families not used in development, agents beside the best rule."""
    files = [
        f for f in sorted((ROOT / "scenarios" / "jobshop").glob("*.txt")) if f.stem.startswith(("abz", "orb", "la"))
    ]
    files += [f for f in sorted(HELDOUT.glob("*.txt")) if f.stem.startswith(("swv", "yn"))]
    best = best_known([ROOT / "scenarios" / "jobshop" / "bounds.json", HELDOUT / "bounds.json"])
    agents = [parse_agent(f"rule:{rule}") for rule in RULES]
    for model in ("jobshop_15x15", "jobshop_10x10"):
        if (ZOO / model / "model.zip").is_file():
            agents.append(parse_agent(f"model:{ZOO / model / 'model.zip'}"))
    if SELF_LABELLED.is_file():
        agents.append(parse_agent(f"model:{SELF_LABELLED}+active"))
    results, _ = evaluate_instances([load_instance(f) for f in files], agents, best)
    title = f"Held-out families ({len(files)} instances: abz, orb, la, swv, yn): gap to the best known"
    _print(summarize(results), title)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="random instances per size")
    parser.add_argument("--samples", type=int, default=32, help="K of the sampling mode on Taillard")
    parser.add_argument("--seeds", type=int, default=200, help="seeds of the stochastic plant")
    parser.add_argument("--throughput", action="store_true", help="also measure training steps/s")
    parser.add_argument("--skip", nargs="*", default=[], choices=["random", "taillard", "plant"])
    parser.add_argument("--groups", default="", help="size groups, e.g. 15x15,20x15,20x20,30x15")
    parser.add_argument("--per-group", type=int, default=10, help="Taillard instances per group (the first N of ten)")
    parser.add_argument("--improve", type=float, default=10.0, help="CP-SAT seconds after the best method (0: off)")
    parser.add_argument("--heldout", action="store_true", help="the held-out families check")
    parser.add_argument("--models", default="rules,zoo,selflabel", help="rows of --groups: rules, zoo, selflabel")
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
    if args.groups:
        which = args.models.split(",")
        groups(args.groups.split(","), args.per_group, args.samples, args.improve, which)
    if args.heldout:
        heldout()
    cards = {p.parent.name: json.loads(p.read_text()) for p in sorted(ZOO.glob("*/model_card.json"))}
    if cards:
        print("\nZoo models (self-labelled: steps are the decisions cloned):\n")
        print("| model | steps | wall time (s) | steps/s | parameters |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, card in cards.items():
            row = (name, card["steps"], f"{card['wall_time_s']:.0f}", card["steps_per_s"], card["parameters"])
            print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
