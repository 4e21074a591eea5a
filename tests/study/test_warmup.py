"""Welch's method and the MSER warm-up suggestion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twin.cli import app
from twin.scenario import parse_scenario
from twin.studies.warmup import moving_average, mser, welch


def test_mser_cuts_an_initial_ramp() -> None:
    """A ramp over the first 20 points, then noise around 10: MSER cuts near the ramp's end."""
    rng = np.random.default_rng(0)
    series = np.concatenate([np.linspace(0, 10, 20), 10 + rng.normal(0, 0.5, 180)])
    cut = mser(series)
    assert cut is not None and 15 <= cut <= 25


def test_mser_refuses_a_series_that_never_settles() -> None:
    """A steady climb has no steady state: no suggestion."""
    assert mser(np.arange(100.0)) is None


def test_moving_average_is_welchs() -> None:
    """Centred window of half-width w, shrinking at the start, last w points dropped."""
    values = np.arange(10.0)
    assert moving_average(values, 2).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def test_empty_start_needs_a_warmup(tmp_path: Path) -> None:
    """An M/M/1 at load 0.8 starts empty: the mean WIP starts low, and a warm-up is suggested
    inside the first half; the command writes the plot."""
    mm1 = {
        "name": "mm1",
        "horizon": 2000,
        "replications": 30,
        "products": {"p": {"arrival": {"dist": "exponential", "mean": 1.25}, "route": ["s"]}},
        "stations": {"s": {"process_time": {"dist": "exponential", "mean": 1.0}}},
    }
    study = welch(parse_scenario(mm1), bins=100, window=3)
    assert study.mean_wip[0] < 0.5 * study.mean_wip[len(study.mean_wip) // 2 :].mean()
    assert study.suggested is not None and 0 < study.suggested < 1000
    path = tmp_path / "mm1.yaml"
    import yaml

    path.write_text(yaml.safe_dump(mm1))
    done = CliRunner().invoke(app, ["warmup", str(path), "--replications", "5", "--plot", str(tmp_path / "w.png")])
    assert done.exit_code == 0, done.stderr
    assert "suggested warm-up" in done.stdout or "has not settled" in done.stdout
    assert (tmp_path / "w.png").stat().st_size > 1000


def test_settling_point_is_past_the_rise() -> None:
    """A slow ramp to 10 over 80 points, then noise: the warm-up ends where the curve has
    reached its level, never on the rising part (where MSER could stop)."""
    from twin.studies.warmup import settling_point

    rng = np.random.default_rng(1)
    t = np.arange(200.0)
    curve = moving_average(np.minimum(t / 80, 1) * 10 + rng.normal(0, 0.3, 200), 5)
    cut = settling_point(curve)
    assert cut is not None and 70 <= cut <= 85
    assert settling_point(moving_average(np.arange(100.0), 5)) is None  # a steady climb never settles


@pytest.mark.slow
def test_suggestion_barely_depends_on_the_replication_count() -> None:
    """The motor plant's warm-up with 3 and with 10 replications: within 20% of each other
    (MSER gave 576 and 1037 min)."""
    from tests.study.conftest import ROOT
    from twin.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios/examples/motor_plant.yaml")
    few, many = (welch(scenario, r).suggested for r in (3, 10))
    assert few is not None and many is not None
    assert abs(few - many) <= 0.2 * max(few, many)


def test_json_writes_no_plot_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mm1 = {
        "name": "mm1",
        "horizon": 500,
        "products": {"p": {"arrival": {"dist": "exponential", "mean": 1.25}, "route": ["s"]}},
        "stations": {"s": {"process_time": {"dist": "exponential", "mean": 1.0}}},
    }
    import json

    import yaml

    path = tmp_path / "mm1.yaml"
    path.write_text(yaml.safe_dump(mm1))
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["warmup", str(path), "--replications", "3", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["plot"] is None and not list(tmp_path.glob("*.png"))
