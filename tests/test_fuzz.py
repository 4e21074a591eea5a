"""The mutation fuzzer of scenario files (benchmarks/fuzz_scenarios.py) on a small fixed
sample: every mutant exits 0 or 2 from `twin validate` and `twin run`, never a traceback or a
hang, invalid-by-construction mutants are refused, and accepted ones really are valid."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_scenarios", ROOT / "benchmarks" / "fuzz_scenarios.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_scenarios"] = module
    spec.loader.exec_module(module)
    return module


FUZZ = _fuzzer()
SAMPLE = FUZZ.mutants(20, seed=12)


def test_mutants_are_reproducible() -> None:
    first = [(m.kind, m.where, m.text) for m in FUZZ.mutants(30, seed=7)]
    assert first == [(m.kind, m.where, m.text) for m in FUZZ.mutants(30, seed=7)]
    assert len({kind for kind, _, _ in first}) >= 10  # the sample covers most kinds


@pytest.mark.parametrize("index", range(len(SAMPLE)))
def test_mutant_is_refused_cleanly_or_really_valid(tmp_path: Path, index: int) -> None:
    mutant = SAMPLE[index]
    outcome = FUZZ.check(mutant, tmp_path, timeout_s=60)
    assert not outcome.broken, (mutant.kind, mutant.where, outcome.broken, mutant.text)
    assert {outcome.validate, outcome.run} <= {0, 2}


def test_the_checker_catches_a_wrongly_accepted_mutant(tmp_path: Path) -> None:
    """A mutant that must be refused but validates is reported as broken (the check can fail)."""
    valid = FUZZ.Mutant("nan", "pretend", FUZZ._dump(FUZZ.bases()[0][1]))
    outcome = FUZZ.check(valid, tmp_path, timeout_s=60)
    assert outcome.broken == ["accepted a nan mutant"]
