"""Best of K: rollouts one after another against rollouts stepped together.

    python benchmarks/sampling_speed.py [--samples K] [--jobs J] [--machines M] [--model PATH]

On one generated instance (Taillard-style, seed 1), K sampled rollouts of a zoo model:

- one by one: :func:`agents.sampling.rollout` K times in the plant's env (the policy called
  once per decision per rollout: the old best-of-K);
- plant envs together: :func:`agents.sampling.sample_envs`, K SimPy envs stepped side by
  side, the policy called once per step of the batch;
- array model together: :func:`agents.sampling.sample_shop`, K copies in one ShopBatch
  (non-delay and active decisions).

Prints the wall time of each and its speed-up over one by one, measured in this run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.methods import load_any_model  # noqa: E402
from agents.sampling import generators, rollout, sample_envs, sample_shop  # noqa: E402
from twin.envs.dispatch import DispatchEnv  # noqa: E402
from twin.jobshop.instances import generate_instance  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--machines", type=int, default=15)
    parser.add_argument("--model", type=Path, default=ROOT / "agents" / "zoo" / "jobshop_15x15" / "model.zip")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    model = load_any_model(args.model)
    instance = generate_instance(args.jobs, args.machines, seed=1)
    k = args.samples
    started = time.perf_counter()
    alone = [rollout(model, DispatchEnv(instance), 0, g)[0]["makespan"] for g in generators(0, k)]
    reference = time.perf_counter() - started
    rows = [("one by one, plant env", reference, min(alone))]
    started = time.perf_counter()
    together = sample_envs(model, [DispatchEnv(instance) for _ in range(k)], 0)
    rows.append(("plant envs together", time.perf_counter() - started, together.makespan))
    assert together.makespans.tolist() == alone, "batched plant rollouts differ from one by one"
    for kind in ("non_delay", "active"):
        started = time.perf_counter()
        shop = sample_shop(model, instance, k, 0, kind)  # type: ignore[arg-type]
        rows.append((f"array model together, {kind}", time.perf_counter() - started, shop.makespan))
    print(f"\nBest of {k} on a {args.jobs}x{args.machines} instance, {args.model.parent.name}\n")
    print("| rollouts | wall time (s) | speed-up | best makespan |")
    print("| --- | ---: | ---: | ---: |")
    for name, wall, best in rows:
        print(f"| {name} | {wall:.2f} | {reference / wall:.1f}x | {best:g} |")


if __name__ == "__main__":
    main()
