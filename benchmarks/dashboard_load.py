"""How long the dashboard's pages take with a big store: 1,000 runs and 20 studies.

Builds a store (default: 800 what-if runs and 20 sweeps of 10 points, 1,000 runs in all; one
small simulated result of the example assembly line written again and again, each with its
own overrides and name), then runs every page through Streamlit's AppTest in this process:
once cold (empty Streamlit cache: the first visitor of the morning) and three times warm
(the cache filled: everyone after), taking the best warm time. The reference is the same
app over an empty store, measured in the same run, so the ratios hold on a busy machine.
Targets: Compare and a study page under 2 s warm.

    .venv/bin/python benchmarks/dashboard_load.py [--runs 1000] [--studies 20] [--store DIR]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import twin  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402
from twin.studies.store import new_run_id, write_run, write_sweep  # noqa: E402

PAGES = [
    ("Overview", "views/overview.py", {}),
    ("Compare (two newest runs)", "views/compare.py", {}),
    ("Studies (a sweep of 10 points)", "views/studies.py", {}),
    ("Runs", "views/runs.py", {}),
    ("Run detail", "views/run_detail.py", {}),
    ("Editor", "views/editor.py", {}),
]


def build_store(root: Path, runs: int, studies: int, points: int = 10) -> None:
    """``studies`` sweeps of ``points`` points and enough what-if runs to make ``runs``."""
    scenario = load_scenario(ROOT / "scenarios/examples/assembly_line.yaml", ["horizon=1480"])
    result = twin.simulate(scenario, replications=10, keep_events=False)
    for s in range(studies):
        sweep_id = new_run_id(f"{scenario.name}-sweep-{s}")
        folder = root / sweep_id
        plan = {
            "sweep_id": sweep_id, "scenario": scenario.name, "plan_key": f"bench-{s}",
            "vary": {"stations.rotor_press.buffer": list(range(points))}, "zip": False, "replications": 10,
            "seed": scenario.seed, "created": f"2026-01-{s + 1:02d}T00:00:00+00:00", "status": "complete",
            "points": [],
        }  # fmt: skip
        for p in range(points):
            run_id = f"{sweep_id}-p{p:03d}"
            overrides = {"stations.rotor_press.buffer": p}
            write_run(result, folder, overrides=overrides, run_id=run_id, extra_meta={"sweep_id": sweep_id, "point": p})
            plan["points"].append({"index": p, "overrides": overrides, "run_id": run_id})
        write_sweep(folder, plan)
    for i in range(runs - studies * points):
        write_run(result, root, overrides={"stations.end_shield.buffer": i % 9}, extra_meta={"name": f"what-if {i}"})


def page_time(page: str, query: dict[str, str]) -> float:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "dashboard/app.py"), default_timeout=600)
    app.run()
    app.switch_page(page)
    for name, value in query.items():
        app.query_params[name] = value
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"{page}: {app.exception[0].value}")
    return elapsed


def timings(store: Path) -> dict[str, tuple[float, float]]:
    """Per page: (cold, best warm) seconds over ``store``."""
    import streamlit as st

    os.environ["TWIN_RUNS"] = str(store)
    st.cache_data.clear()
    result = {}
    for title, page, query in PAGES:
        cold = page_time(page, query)
        warm = min(page_time(page, query) for _ in range(3))
        result[title] = (cold, warm)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--studies", type=int, default=20)
    parser.add_argument("--store", type=Path, help="reuse (or build) this store instead of a temporary one")
    args = parser.parse_args()
    os.environ.update(TWIN_SCENARIOS=str(ROOT / "scenarios/examples"), TWIN_DASHBOARD_DEBUG="1")
    os.environ["STREAMLIT_LOGGER_LEVEL"] = "error"  # AppTest's "no runtime" notices
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.store or Path(scratch) / "runs"
        if not root.is_dir() or not any(root.iterdir()):
            started = time.perf_counter()
            build_store(root, args.runs, args.studies)
            print(f"built a store of {args.runs} runs, {args.studies} studies in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)  # fmt: skip
        empty = Path(scratch) / "empty"
        empty.mkdir()
        reference = timings(empty)
        big = timings(root)
    print(f"Dashboard pages, store of {args.runs:,} runs and {args.studies} studies (AppTest, this process)\n")
    print("| page | cold (s) | warm (s) | warm / empty store | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    for title, (cold, warm) in big.items():
        target = "< 2 s warm" if title.startswith(("Compare", "Studies")) else ""
        ok = " ok" if target and warm < 2 else (" MISSED" if target else "")
        print(f"| {title} | {cold:.2f} | {warm:.2f} | {warm / reference[title][1]:.1f}x | {target}{ok} |")


if __name__ == "__main__":
    main()
