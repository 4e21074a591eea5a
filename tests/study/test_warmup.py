"""Welch's method and the MSER warm-up suggestion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
