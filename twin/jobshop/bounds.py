"""Best known makespans: the ``bounds.json`` files shipped beside job-shop instances.

A bounds file maps instance names to ``optimum``, ``lower_bound``, ``upper_bound`` (the best
known makespan), sizes and a reference. Every command and page that reports a gap reads
them through :func:`best_known`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["BOUNDS_FILE", "best_known", "load_bounds"]

BOUNDS_FILE = "bounds.json"
"""Name of the bounds file in a folder of instances."""


def load_bounds(path: str | Path) -> dict[str, dict[str, Any]]:
    """The bounds file (``bounds.json``): per instance ``optimum``, ``lower_bound``,
    ``upper_bound`` (best known makespan), sizes and reference.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not a JSON mapping.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a bounds file must be a JSON mapping of instance names")
    return data


def best_known(files: Iterable[str | Path]) -> dict[str, float]:
    """The best known makespan (``upper_bound``) of every instance in the given bounds files,
    skipping files that are missing or unreadable; later files win for a name in several."""
    found: dict[str, float] = {}
    for path in files:
        try:
            bounds = load_bounds(path)
        except (OSError, ValueError):
            continue
        for name, entry in bounds.items():
            value = entry.get("upper_bound") if isinstance(entry, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                found[name] = float(value)
    return found
