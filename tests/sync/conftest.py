"""A week of the example plant simulated by Ciw, shared by the sync tests (simulated once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plants import WEEK, PlantLog, simulate_plant, two_product_line


@pytest.fixture(scope="session")
def week() -> PlantLog:
    """One week of :func:`tests.plants.two_product_line`, seed 3."""
    return simulate_plant(two_product_line(), WEEK, seed=3)


@pytest.fixture(scope="session")
def week_csv(week: PlantLog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "week.csv"
    week.log.to_csv(path, index=False)
    return path
