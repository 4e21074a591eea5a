"""Grid, Optuna and RL side by side on the example lines' buffer-allocation problem.

For each line: the exhaustive grid over the designs that spend the whole budget (ground truth),
Optuna's TPE with a quarter of the grid's evaluations as its trial budget, and MaskablePPO
trained on twin/Design-v0. Each method gets its own evaluator (no shared cache), so the
evaluations and wall times are its own. Prints a Markdown table per line: best design, its
objective (mean over the scenario's replications, common random numbers), the gap to the
grid's best, distinct designs simulated, wall time.

    python benchmarks/design_table.py [--lines balanced,unbalanced] [--workers 2] [--timesteps 12000]

Timings come from a shared 2-core machine: compare them within one run, not across runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.design_rl import DesignRLConfig, rl_search
from agents.design_search import SearchResult, grid_search, optuna_search
from twin.scenario import load_scenario
from twin.studies.design import DesignEvaluator, DesignSpace

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


def _row(result: SearchResult, reference: float) -> str:
    best = result.best
    design = ", ".join(f"{v:g}" for v in best.values)
    gap = 100 * (reference - best.objective) / reference
    low, high = best.objective_ci
    return (
        f"| {result.method} | ({design}) | {best.objective:.4f} ± {(high - low) / 2:.4f} | {gap:.2f} "
        f"| {result.evaluations} | {result.wall_time_s:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="balanced,unbalanced", help="Example lines to run.")
    parser.add_argument("--workers", type=int, default=2, help="Processes for grid and Optuna.")
    parser.add_argument("--timesteps", type=int, default=DesignRLConfig.timesteps, help="RL training steps.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of Optuna's sampler and the agent.")
    args = parser.parse_args()
    for line in args.lines.split(","):
        scenario = load_scenario(EXAMPLES / f"{line}_line.yaml")
        space = DesignSpace.of(scenario)
        with DesignEvaluator(space, workers=args.workers) as evaluator:
            grid = grid_search(evaluator, maximal=True)
        with DesignEvaluator(space, workers=args.workers) as evaluator:
            optuna = optuna_search(evaluator, trials=grid.evaluations // 4, seed=args.seed, batch=args.workers)
        with DesignEvaluator(space) as evaluator:
            rl = rl_search(evaluator, DesignRLConfig(timesteps=args.timesteps, seed=args.seed))
        print(f"\n{scenario.name}: options {', '.join(p.split('.')[1] for p in space.paths)}, budget {space.budget:g}")
        print(f"({scenario.replications} replications of {scenario.horizon:g} {scenario.time_unit} per design)\n")
        print("| method | best design | throughput (95% CI) | gap to grid % | evaluations | wall s |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for result in (grid, optuna, rl):
            print(_row(result, grid.best.objective))


if __name__ == "__main__":
    main()
