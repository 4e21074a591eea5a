"""Steps per second of twin/Dispatch-v0 against JSSEnv on the same job-shop instances, one run.

Both envs take the first valid action at every step, so what is timed is the env, not a
policy. **twin**: ``DispatchEnv`` in ``mode="job"`` on the instance, action 0 (the first job
of the deciding station's queue, in order of entry), with the full observation, mask and
reward of every decision; the episode is asserted to make the schedule of the rule ``fifo``
run inside the model (its makespan equals ``Plant(...).run()``). Only the warm-up episode
resets with a seed, as JSSEnv's never do: Gymnasium builds a new generator for a seed (about
50 us), and the instance has no random times, so every episode makes the same schedule.

**JSSEnv** (Tassel et al. 2021, the ``jssenv`` package on PyPI): its own env on the same
instance file, each action the first legal one of its mask. JSSEnv is not a dependency of the
twin: give the interpreter of an environment that has it with ``--jssenv-python``; its
episodes run in a child process that stays up, timed there, alternated with the twin's so
that machine noise hits both alike.

A step is one decision of the env: the twin asks only where a choice exists (a queue of two
or more jobs), JSSEnv at every operation and no-op, so the twin also needs fewer steps per
episode; both columns are printed. Figures are medians of ``--repeat`` episodes after one
warm-up; **ratio** = twin steps/s / JSSEnv steps/s (target >= 1; the README has the figures
measured).

Usage::

    python benchmarks/env_speed.py --jssenv-python /path/to/venv-with-jssenv/bin/python
    python benchmarks/env_speed.py              # the twin alone
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin.envs.dispatch import DispatchEnv  # noqa: E402
from twin.jobshop.instances import instance_to_scenario, load_instance  # noqa: E402
from twin.sim.plant import Plant  # noqa: E402

JOBSHOP = ROOT / "scenarios" / "jobshop"

CHILD = """
import json, sys, time
from JSSEnv.envs.jss_env import JssEnv
envs = {}
for line in sys.stdin:
    path = line.strip()
    env = envs.get(path) or envs.setdefault(path, JssEnv({"instance_path": path}))
    start = time.perf_counter()
    obs = env.reset()
    obs = obs[0] if isinstance(obs, tuple) else obs
    steps, done = 0, False
    while not done:
        action = int(obs["action_mask"].argmax())
        obs, _, done, *_ = env.step(action)
        steps += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"steps": steps, "seconds": seconds, "makespan": float(env.current_time_step)}), flush=True)
"""


def twin_episode(env: DispatchEnv, seed: int | None) -> tuple[int, float, float]:
    """One episode of first valid actions: steps, seconds, makespan (``seed``: reseed the
    env, as only the first episode does; JSSEnv is never reseeded)."""
    start = time.perf_counter()
    env.reset(seed=seed)
    while True:
        _, _, terminated, truncated, info = env.step(0)
        if terminated or truncated:
            break
    return env.decisions, time.perf_counter() - start, float(info["makespan"])


def measure(name: str, repeat: int, child: subprocess.Popen[str] | None) -> dict[str, float]:
    """Median steps/s of both envs on instance ``name``."""
    path = JOBSHOP / f"{name}.txt"
    scenario = instance_to_scenario(load_instance(path), rule="fifo")
    env = DispatchEnv(scenario, max_queue=16)
    own = Plant(scenario, seed=scenario.seed).run()
    twin_rates, jss_rates = [], []
    twin_steps = jss_steps = 0
    for attempt in range(repeat + 1):
        twin_steps, seconds, makespan = twin_episode(env, None if attempt else scenario.seed)
        assert makespan == own, f"{name}: the env's episode ({makespan}) is not fifo's own run ({own})"
        if attempt:
            twin_rates.append(twin_steps / seconds)
        if child is not None:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(f"{path}\n")
            child.stdin.flush()
            result = json.loads(child.stdout.readline())
            jss_steps = int(result["steps"])
            if attempt:
                jss_rates.append(jss_steps / result["seconds"])
    return {
        "twin_steps": twin_steps,
        "twin_rate": statistics.median(twin_rates),
        "jss_steps": jss_steps,
        "jss_rate": statistics.median(jss_rates) if jss_rates else float("nan"),
    }


def main() -> int:
    """Parse options, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jssenv-python", type=Path, help="an interpreter that can import JSSEnv")
    parser.add_argument("--repeat", type=int, default=20, help="timed episodes per env and instance")
    parser.add_argument("--instances", default="ft10,ta01", help="instances of scenarios/jobshop (comma-separated)")
    args = parser.parse_args()
    child = None
    if args.jssenv_python is not None:
        child = subprocess.Popen(
            [str(args.jssenv_python), "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
    print(f"Env steps per second, median of {args.repeat} episodes (after one warm-up), first valid actions")
    print()
    print("| instance | twin steps/episode | twin steps/s | JSSEnv steps/episode | JSSEnv steps/s | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    try:
        for name in args.instances.split(","):
            m = measure(name, args.repeat, child)
            print(
                f"| {name} | {m['twin_steps']:.0f} | {m['twin_rate']:,.0f} | {m['jss_steps']:.0f} | "
                f"{m['jss_rate']:,.0f} | {m['twin_rate'] / m['jss_rate']:.2f} |"
            )
    finally:
        if child is not None:
            assert child.stdin is not None
            child.stdin.close()
            child.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
