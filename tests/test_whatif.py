"""What-if overrides and named runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import scenario
from twin.errors import ScenarioError
from twin.scenario import load_scenario
from twin.scenario.distributions import scale_distribution
from twin.studies.store import find_runs, read_meta
from twin.studies.whatif import run_whatif, whatif_overrides


@pytest.mark.parametrize(
    ("spec", "scaled"),
    [
        (2.0, 4.0),  # a bare number is a constant
        ({"dist": "exponential", "mean": 1.5}, {"dist": "exponential", "mean": 3.0}),
        (
            {"dist": "triangular", "low": 1, "mode": 2, "high": 4},
            {"dist": "triangular", "low": 2, "mode": 4, "high": 8},
        ),
        ({"dist": "gamma", "shape": 2, "scale": 1.5}, {"dist": "gamma", "shape": 2, "scale": 3.0}),  # shape stays
        (
            {"dist": "empirical", "values": [1, 2], "weights": [0.5, 0.5]},
            {"dist": "empirical", "values": [2, 4], "weights": [0.5, 0.5]},
        ),
    ],
)
def test_scale_distribution_scales_times_only(spec: object, scaled: object) -> None:
    assert scale_distribution(spec, 2.0) == scaled


def test_scale_distribution_rejects_a_non_positive_factor() -> None:
    with pytest.raises(ValueError, match="got 0"):
        scale_distribution(1.0, 0)


LINE = scenario(
    {"a": {"process_time": 1.0, "buffer": 2}, "b": {"process_time": 0.5}},
    {"p": {"arrival": {"dist": "exponential", "mean": 1.25}, "route": ["a", "b"]}},
    horizon=100,
)


def test_overrides_name_only_what_changes() -> None:
    overrides = whatif_overrides(
        LINE, machines={"a": 1, "b": 2}, buffers={"a": 2, "b": None}, rules={"a": "spt", "b": "fifo"}, demand=1.25
    )
    assert overrides == {
        "stations.b.machines": 2,
        "stations.a.dispatching": "spt",
        "products.p.arrival": {"dist": "exponential", "mean": 1.0},
    }


def test_overrides_reject_an_unknown_station() -> None:
    with pytest.raises(KeyError, match="nowhere"):
        whatif_overrides(LINE, machines={"nowhere": 2})


def test_run_whatif_stores_a_named_run_with_events(tmp_path: Path) -> None:
    run = run_whatif(LINE, {"stations.a.buffer": 5}, tmp_path, "longer conveyor", replications=2)
    meta = read_meta(run)
    assert (meta["name"], meta["overrides"], meta["replications"]) == ("longer conveyor", {"stations.a.buffer": 5}, 2)
    assert (run / "events.parquet").is_file()
    assert load_scenario(run / "scenario.yaml").stations["a"].buffer == 5


def test_run_whatif_with_an_invalid_change_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"stations\.a\.machines"):
        run_whatif(LINE, {"stations.a.machines": 0}, tmp_path, "broken")
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
    with pytest.raises(Exception, match="no complete run"):
        find_runs([tmp_path])
