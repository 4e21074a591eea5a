"""How long the Compare page takes to load its data from a store of 1,000 runs.

Builds a store of N runs (default 1,000: one small simulated result written N times, each
with its own overrides and name, as What-if runs are), then times, cold (no Streamlit cache),
what the Compare page reads on opening: the run list (one DuckDB query over every
meta.json), the sweep list, and the comparison and per-replication tables of its default
selection (the two newest runs); then the same for larger selections. Each figure is the best
of three; the target is under 2 s for the page's data.

    python benchmarks/dashboard_load.py [--runs 1000] [--store DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import twin  # noqa: E402
from dashboard import data  # noqa: E402
from twin.measure.kpi import MAIN_KPIS  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402
from twin.studies.store import write_run  # noqa: E402


def build_store(root: Path, runs: int) -> None:
    """``runs`` runs of the example assembly line (10 replications each, 54 KPIs)."""
    scenario = load_scenario(ROOT / "scenarios/examples/assembly_line.yaml", ["horizon=1480"])
    result = twin.simulate(scenario, replications=10, keep_events=False)
    for i in range(runs):
        write_run(result, root, overrides={"stations.rotor_press.buffer": i % 9}, extra_meta={"name": f"what-if {i}"})


def best(action: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def page_data(root: Path, selected: int) -> None:
    """What the Compare page loads: the lists, then the tables of ``selected`` runs."""
    runs = data.runs_table(root)
    data.sweeps_table(root)
    chosen = runs.head(selected)
    paths = [Path(p) for p in chosen["path"]]
    names = dict(zip(chosen["run_id"], chosen["name"], strict=True))
    table = data.compare_table(paths, names)
    labels = dict(zip(table["run_id"], table["label"], strict=False))
    data.replication_table(paths, list(MAIN_KPIS), labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--store", type=Path, help="reuse (or build) this store instead of a temporary one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.store or Path(scratch) / "runs"
        if not root.is_dir() or len(list(root.iterdir())) < args.runs:
            started = time.perf_counter()
            build_store(root, args.runs - (len(list(root.iterdir())) if root.is_dir() else 0))
            print(f"built a store of {args.runs} runs in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        count = len(data.runs_table(root))
        print(f"Compare page data, store of {count} runs (best of 3, cold: no Streamlit cache)\n")
        print("| what | seconds |")
        print("| --- | ---: |")
        print(f"| run list (all meta.json, one DuckDB query) | {best(lambda: data.runs_table(root)):.3f} |")
        for selected in (2, 20, 100):
            print(
                f"| page data: lists + {selected} runs compared | {best(lambda s=selected: page_data(root, s)):.3f} |"
            )


if __name__ == "__main__":
    main()
