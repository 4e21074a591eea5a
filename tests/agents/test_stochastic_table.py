"""The stochastic table's paired line: the floor agent against the setting's best rule and
the deterministic agent."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _table() -> Any:
    spec = importlib.util.spec_from_file_location("stochastic_table", ROOT / "benchmarks" / "stochastic_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stochastic_table", module)
    spec.loader.exec_module(module)
    return module


def test_the_agent_is_paired_with_the_best_rule_of_its_setting() -> None:
    table = _table()
    values = {
        ("CV 0.5", "rule:mwkr"): [10.0, 20.0, 30.0],
        ("CV 0.5", "rule:spt"): [12.0, 22.0, 33.0],
        ("CV 0.5", "agent for the floor"): [9.0, 18.0, 27.0],  # mwkr minus 1, 2, 3
        ("CV 0.2", "rule:spt"): [0.0, 0.0, 0.0],  # another setting: not a rival
    }
    line = table.paired_line("CV 0.5", values)
    # differences -1, -2, -3: mean -2, sd 1, t(0.975, 2) = 4.303, half-width 4.303 / sqrt(3) = 2.48
    assert line == "CV 0.5: agent for the floor minus mwkr -2.00 (95% CI -4.48 to +0.48)"
    values["CV 0.5", "agent"] = [9.0, 18.0, 28.0]  # the deterministic agent: differences 0, 0, -1
    line = table.paired_line("CV 0.5", values)
    assert line.endswith(", minus agent -0.33 (95% CI -1.77 to +1.10)")
