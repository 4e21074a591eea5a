"""Mutation fuzzer of scenario files: every mutant through `twin validate` and `twin run`.

Each mutant starts from an example or validation scenario (``scenarios/examples``,
``scenarios/validation``; shrunk to a short horizon, one replication and small orders so a
valid mutant runs in well under a second) and changes it once: a key deleted or renamed, a
value of the wrong type, a NaN/inf/huge/negative/zero number, an empty list or mapping, a
reference to a station that does not exist, a key given twice, a YAML tag, an alias (shared
node) or an alias bomb, garbage bytes, a truncated file, an empty file, or a directory.

Both commands run in this process through Typer's test runner, each under a wall-clock alarm.
What must hold for every mutant:

* the exit status is 0 or 2: never a traceback (any other exception), never a hang (the alarm);
* `validate` and `run` agree, except that `run` may refuse what only running shows (exit 2
  from a run that stalls);
* a mutant whose change makes it invalid by construction (NaN, inf, a duplicate key, a tag,
  garbage, an unknown key or station, an empty file, a directory) is refused;
* an accepted mutant really is valid: it loads again to the same scenario from its resolved
  YAML, every number in it is finite, and its run's KPIs lie in their ranges (shares of
  time in [0, 1]; throughput, WIP and OEE >= 0; OEE may pass 1 when draws run shorter than the mean).

Usage: ``.venv/bin/python benchmarks/fuzz_scenarios.py [--count 400] [--seed 0]``. It prints
a table of mutation kinds with how many were refused, accepted and broken; any broken mutant
is listed with its text and the exit code 1. The suite runs a small fixed-seed sample
(``tests/test_fuzz.py``).
"""

from __future__ import annotations

import argparse
import collections
import copy
import math
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("scenarios/examples/*.yaml"), *ROOT.glob("scenarios/validation/*.yaml")])

MUST_REFUSE = frozenset(
    {"nan", "inf", "duplicate_key", "tag", "garbage", "unknown_key", "unknown_station", "empty", "directory", "bomb"}
)
"""Mutation kinds whose every mutant is invalid by construction."""


@dataclass
class Mutant:
    """One mutated scenario: its kind, where it changed, and its text (None for a directory)."""

    kind: str
    where: str
    text: str | None


@dataclass
class Outcome:
    """What the two commands did with a mutant; ``broken`` says what must not happen."""

    mutant: Mutant
    validate: int
    run: int
    broken: list[str] = field(default_factory=list)


def shrink(data: dict[str, Any]) -> dict[str, Any]:
    """A scenario that runs fast: horizon at most 200, no warm-up, one replication, small orders."""
    data = copy.deepcopy(data)
    if data.get("horizon") is not None:
        data["horizon"] = min(float(data["horizon"]), 200.0)
    data["warmup"] = 0
    data["replications"] = 1
    for product in data.get("products", {}).values():
        for order in product.get("release") or []:
            order["quantity"] = min(int(order.get("quantity", 1)), 20)
    return data


def bases() -> list[tuple[str, dict[str, Any]]]:
    """The shrunk source scenarios, by file name."""
    return [(path.stem, shrink(yaml.safe_load(path.read_text(encoding="utf-8")))) for path in SOURCES]


def _places(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """``(path, parent, key)`` of every value in plain data."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        where = f"{path}.{key}" if isinstance(node, dict) else f"{path}[{key}]"
        yield where.lstrip("."), node, key
        yield from _places(value, where)


def _pick(rng: np.random.Generator, data: Any, want: Callable[[Any], bool] = lambda _: True) -> tuple[str, Any, Any]:
    places = [p for p in _places(data) if want(p[1][p[2]])]
    return places[int(rng.integers(len(places)))]


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


WRONG_TYPES: list[Any] = ["fast", True, False, None, [1, 2], {"x": 1}, "1e4x", ""]
NUMBERS: list[Any] = [float("nan"), float("inf"), float("-inf"), 1e308, 10**30, -1, -1e-9, 0, -0.0, 1e-300, 2**63]
TAGS = ["!!set {a, b}", "!!binary aGk=", '!!python/object/apply:os.system ["true"]', "!!omap [a: 1]", "!!str"]
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh", strict=False)
)


def _tree_mutant(kind: str, data: dict[str, Any], rng: np.random.Generator) -> Mutant:
    data = copy.deepcopy(data)
    if kind == "delete":
        where, parent, key = _pick(rng, data)
        del parent[key]
    elif kind == "unknown_key":
        where, parent, key = _pick(rng, data, lambda v: isinstance(v, dict) and bool(v))
        mapping = parent[key]
        old = list(mapping)[int(rng.integers(len(mapping)))]
        if where in ("products", "stations", "operators"):  # a name of the user's: rename a field of it
            inner = mapping[old]
            if isinstance(inner, dict) and inner:
                mapping, where, old = inner, f"{where}.{old}", next(iter(inner))
        mapping[f"{old}_x"] = mapping.pop(old)
        where = f"{where}.{old}"
        if any(part in where for part in ("design", "matrix", "process_time", "times", "distances", "assemble")):
            kind = "rename"  # a renamed name of the user's (a family, a station) may stay valid
    elif kind in ("wrong_type", "nan", "inf", "number"):
        where, parent, key = _pick(rng, data, _number if kind != "wrong_type" else lambda v: not isinstance(v, dict))
        choices = {
            "wrong_type": WRONG_TYPES,
            "nan": [float("nan")],
            "inf": [float("inf"), float("-inf")],
            "number": NUMBERS[3:],
        }[kind]
        parent[key] = choices[int(rng.integers(len(choices)))]
    elif kind == "empty_container":
        where, parent, key = _pick(rng, data, lambda v: isinstance(v, dict | list) and bool(v))
        parent[key] = type(parent[key])()
    elif kind == "unknown_station":
        routes = [(name, p["route"]) for name, p in data["products"].items() if p.get("route")]
        name, route = routes[int(rng.integers(len(routes)))]
        index = int(rng.integers(len(route)))
        route[index] = "nowhere" if isinstance(route[index], str) else {**route[index], "station": "nowhere"}
        where = f"products.{name}.route[{index}]"
    elif kind == "alias":
        first, parent, key = _pick(rng, data, lambda v: isinstance(v, dict | list))
        second, other, other_key = _pick(rng, data, lambda v: isinstance(v, dict | list))
        if first.startswith(second) or second.startswith(first):
            return _tree_mutant("delete", data, rng)
        other[other_key] = parent[key]  # one node, two places: dumped as an anchor and an alias
        where = f"{second} = *{first}"
    else:
        raise ValueError(kind)
    return Mutant(kind, where, _dump(data))


def _text_mutant(kind: str, text: str, rng: np.random.Generator) -> Mutant:
    lines = text.splitlines()
    if kind == "duplicate_key":
        keys = [i for i, line in enumerate(lines) if ":" in line and not line.lstrip().startswith(("-", "#"))]
        i = keys[int(rng.integers(len(keys)))]
        indent = len(lines[i]) - len(lines[i].lstrip())
        key = lines[i].strip().split(":")[0]
        # The copy goes just before the key's own line: in the same mapping, whatever follows.
        lines.insert(i, f"{' ' * indent}{key}: 1")
        return Mutant(kind, f"line {i + 1}: {key}", "\n".join(lines) + "\n")
    if kind == "tag":
        keys = [i for i, line in enumerate(lines) if line.rstrip().endswith(":") is False and ": " in line]
        i = keys[int(rng.integers(len(keys)))]
        head = lines[i].split(": ")[0]
        tag = TAGS[int(rng.integers(len(TAGS)))]
        tag = f"!!str {'{'}a: 1{'}'}" if tag == "!!str" else tag
        lines[i] = f"{head}: {tag}"
        return Mutant(kind, f"line {i + 1}", "\n".join(lines) + "\n")
    if kind == "garbage":
        raw = bytearray(text.encode())
        for _ in range(int(rng.integers(1, 6))):  # control characters YAML refuses, bytes that are no UTF-8
            bad = [*range(0, 9), 11, 12, *range(14, 32), 0x7F, 0xC3, 0xFF]
            raw[int(rng.integers(len(raw)))] = bad[int(rng.integers(len(bad)))]
        return Mutant(kind, "bytes", raw.decode("utf-8", "surrogateescape"))
    if kind == "truncated":
        cut = int(rng.integers(1, max(len(text) - 1, 2)))
        return Mutant(kind, f"at {cut}", text[:cut])
    if kind == "empty":
        return Mutant(kind, "file", "" if rng.random() < 0.5 else "# nothing\n")
    if kind == "bomb":
        return Mutant(kind, "aliases", BOMB + "name: *h\n")
    if kind == "directory":
        return Mutant(kind, "path", None)
    raise ValueError(kind)


TREE_KINDS = (
    "delete",
    "unknown_key",
    "wrong_type",
    "nan",
    "inf",
    "number",
    "empty_container",
    "unknown_station",
    "alias",
)
TEXT_KINDS = ("duplicate_key", "tag", "garbage", "truncated", "empty", "bomb", "directory")


def mutants(count: int, seed: int) -> list[Mutant]:
    """``count`` mutants, the same for the same seed."""
    rng = np.random.default_rng(seed)
    sources = bases()
    kinds = (*TREE_KINDS, *TEXT_KINDS)
    found = []
    for _ in range(count):
        name, data = sources[int(rng.integers(len(sources)))]
        kind = kinds[int(rng.integers(len(kinds)))]
        mutant = _tree_mutant(kind, data, rng) if kind in TREE_KINDS else _text_mutant(kind, _dump(data), rng)
        mutant.where = f"{name}: {mutant.where}"
        found.append(mutant)
    return found


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hang


def _invoke(args: list[str], timeout_s: int) -> tuple[int, BaseException | None]:
    from typer.testing import CliRunner

    from twin.cli import app

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        result = CliRunner().invoke(app, args)
    except _Hang as hang:
        return -1, hang
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if isinstance(result.exception, _Hang):
        return -1, result.exception
    error = None if isinstance(result.exception, SystemExit | type(None)) else result.exception
    return result.exit_code, error


def _finite_numbers(node: Any) -> bool:
    if isinstance(node, dict):
        return all(_finite_numbers(v) for v in node.values())
    if isinstance(node, list):
        return all(_finite_numbers(v) for v in node)
    return not isinstance(node, float) or math.isfinite(node)


def _really_valid(path: Path, out: Path) -> list[str]:
    """Why an accepted mutant is not valid after all (empty when it is)."""
    import pandas as pd

    import twin
    from twin.scenario import parse_scenario, scenario_to_yaml

    problems = []
    scenario = twin.load_scenario(path)
    again = parse_scenario(yaml.safe_load(scenario_to_yaml(scenario)))
    if again != scenario:
        problems.append("its resolved YAML loads to another scenario")
    if not _finite_numbers(scenario.to_dict()):
        problems.append("a number in it is not finite")
    for run in out.glob("*/kpis.parquet"):
        kpis = pd.read_parquet(run)
        shares = [c for c in kpis.columns if c.endswith((".utilization", ".blocked", ".starved", ".down"))]
        values = kpis[shares].to_numpy(float)
        if ((values < -1e-9) | (values > 1 + 1e-9)).any():
            problems.append("a share of time outside [0, 1]")
        for name in ("throughput", "wip_mean", "completed", *(c for c in kpis.columns if c.endswith(".oee"))):
            if name in kpis and (kpis[name] < 0).any():
                problems.append(f"{name} below 0")
    return problems


def check(mutant: Mutant, folder: Path, timeout_s: int = 60) -> Outcome:
    """Run one mutant through `twin validate` and `twin run` in ``folder``."""
    path = folder / "mutant.yaml"
    if mutant.text is None:
        path.mkdir()
    else:
        path.write_bytes(mutant.text.encode("utf-8", "surrogateescape"))
    out = folder / "runs"
    validate, v_error = _invoke(["validate", str(path)], timeout_s)
    run, r_error = _invoke(["run", str(path), "--out", str(out)], timeout_s)
    outcome = Outcome(mutant, validate, run)
    for label, code, error in (("validate", validate, v_error), ("run", run, r_error)):
        if code == -1:
            outcome.broken.append(f"{label}: no answer within {timeout_s} s")
        elif error is not None:
            outcome.broken.append(f"{label}: {type(error).__name__}: {error}")
        elif code not in (0, 2):
            outcome.broken.append(f"{label}: exit {code}")
    if outcome.broken:
        return outcome
    if validate == 2 and run == 0:
        outcome.broken.append("run accepted what validate refused")
    if validate == 0 and mutant.kind in MUST_REFUSE:
        outcome.broken.append(f"accepted a {mutant.kind} mutant")
    if validate == 0 and run == 0:
        outcome.broken += _really_valid(path, out)
    return outcome


def fuzz(count: int, seed: int, timeout_s: int = 60) -> list[Outcome]:
    """Every outcome of ``count`` mutants drawn with ``seed``."""
    outcomes = []
    for mutant in mutants(count, seed):
        with tempfile.TemporaryDirectory() as folder:
            outcomes.append(check(mutant, Path(folder), timeout_s))
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400, help="mutants to try (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations (default 0)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per command before it counts as a hang")
    args = parser.parse_args()
    os.environ.setdefault("COLUMNS", "160")
    outcomes = fuzz(args.count, args.seed, args.timeout)
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for outcome in outcomes:
        row = table[outcome.mutant.kind]
        row["mutants"] += 1
        row["broken" if outcome.broken else "accepted" if outcome.validate == 0 else "refused"] += 1
        row["run refused only"] += int(outcome.validate == 0 and outcome.run == 2)
    columns = ("mutants", "refused", "accepted", "run refused only", "broken")
    print(f"{'kind':<18}" + "".join(f"{c:>18}" for c in columns))
    for kind in sorted(table):
        print(f"{kind:<18}" + "".join(f"{table[kind][c]:>18}" for c in columns))
    total = collections.Counter[str]()
    for row in table.values():
        total.update(row)
    print(f"{'all':<18}" + "".join(f"{total[c]:>18}" for c in columns))
    broken = [o for o in outcomes if o.broken]
    for outcome in broken:
        print(f"\nBROKEN {outcome.mutant.kind} ({outcome.mutant.where}): {'; '.join(outcome.broken)}")
        print(outcome.mutant.text if outcome.mutant.text is not None else "<directory>")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
