"""Compare opens on runs of one scenario (issue 12: it used to mix an assembly-line what-if
with a job-shop run and call their differences significant)."""

from __future__ import annotations

import pandas as pd

from dashboard.data import default_selection, mixed_scenarios


def test_default_selection_stays_within_the_newest_runs_scenario() -> None:
    runs = pd.DataFrame(
        {"run_id": ["new-shop", "line-b", "older-shop", "line-a"], "scenario": ["shop", "line", "shop", "line"]}
    )
    chosen = default_selection(runs)
    assert chosen == ["older-shop", "new-shop"]
    assert mixed_scenarios(runs, chosen) == []
    assert mixed_scenarios(runs, ["line-a", "new-shop"]) == ["line", "shop"]
