"""Charts carry their data under plain field names and show a legend for every colour."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard import charts


def fields(spec: Any) -> list[str]:
    """Every ``field`` named in an Altair spec (nested)."""
    if isinstance(spec, dict):
        found = [spec["field"]] if isinstance(spec.get("field"), str) else []
        return found + [f for value in spec.values() for f in fields(value)]
    if isinstance(spec, list):
        return [f for value in spec for f in fields(value)]
    return []


def test_a_sweep_line_over_a_dotted_parameter_has_its_data() -> None:
    """Altair reads `stations.m2.buffer` as a nested path (an empty chart, 'Infinite extent'):
    the chart must name plain fields and hold one finite value per point."""
    rows = pd.DataFrame(
        {
            "stations.m2.buffer": [1, 2, 4],
            "mean": [0.40, 0.45, 0.47],
            "ci_low": [0.38, 0.43, 0.46],
            "ci_high": [0.42, 0.47, 0.48],
        }
    )
    spec = charts.sweep_line(rows, "stations.m2.buffer", "Throughput (jobs/min)").to_dict()
    assert not [f for f in fields(spec) if "." in f]
    (data,) = spec["datasets"].values()
    assert [point["x"] for point in data] == [1, 2, 4]
    assert [point["mean"] for point in data] == [0.40, 0.45, 0.47]
    assert "stations.m2.buffer" in str(spec["layer"][0]["encoding"]["x"]["title"])


def test_a_gantt_of_many_jobs_groups_their_colours_in_a_legend() -> None:
    ops = pd.DataFrame(
        {"Machine": "m0", "job": range(30), "operation": 0, "start": range(30), "end": [t + 1 for t in range(30)]}
    )
    spec = charts.gantt(ops, "Machine", "job", "schedule", "min", "Machine", "Job").to_dict()
    color = spec["encoding"]["color"]
    assert color["legend"] is not None and color["field"] == "colour group"
    assert len(color["scale"]["domain"]) == 10 and color["scale"]["domain"][0] == "0 to 2"
    few = charts.gantt(ops.head(5), "Machine", "job", "schedule", "min", "Machine", "Job").to_dict()
    assert few["encoding"]["color"]["scale"]["domain"] == [0, 1, 2, 3, 4]
