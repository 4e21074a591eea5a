"""The one place the dashboard caches: :mod:`dashboard.data` results, keyed on the paths and
modification times of what they read, so a new run or an edited file shows at once.

The private cached functions take a ``key`` argument they never use: it is there to be part of
Streamlit's cache key (the modification times of what the function reads).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import data
from twin.scenario import Scenario

__all__ = [
    "compare_table",
    "events",
    "replication_table",
    "run_scenario",
    "runs_table",
    "scenario_library",
    "sweep_table",
    "sweeps_table",
]


def _mtimes(folder: Path, pattern: str) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob(pattern))) if folder.is_dir() else ()


@st.cache_data(show_spinner=False, max_entries=8)
def _scenario_library(folder: str, key: object) -> list[data.ScenarioEntry]:
    return data.scenario_library(Path(folder))


def scenario_library(folder: Path) -> list[data.ScenarioEntry]:
    """:func:`dashboard.data.scenario_library`, cached until a file changes."""
    return _scenario_library(str(folder), (_mtimes(folder, "*.yaml"), _mtimes(folder, "*.yml")))


@st.cache_data(show_spinner=False, max_entries=8)
def _runs_table(root: str, key: object) -> pd.DataFrame:
    return data.runs_table(Path(root))


def runs_table(root: Path) -> pd.DataFrame:
    """:func:`dashboard.data.runs_table`, cached until a run is added or removed."""
    return _runs_table(str(root), data.store_signature(root))


@st.cache_data(show_spinner=False, max_entries=8)
def _sweeps_table(root: str, key: object) -> pd.DataFrame:
    return data.sweeps_table(Path(root))


def sweeps_table(root: Path) -> pd.DataFrame:
    """:func:`dashboard.data.sweeps_table`, cached until the store changes."""
    return _sweeps_table(str(root), data.store_signature(root))


def _run_key(paths: list[Path]) -> tuple[tuple[str, int], ...]:
    return tuple((str(p), (p / "kpis.parquet").stat().st_mtime_ns) for p in paths if (p / "kpis.parquet").exists())


@st.cache_data(show_spinner=False, max_entries=32)
def _compare_table(paths: tuple[str, ...], names: tuple[tuple[str, str], ...], key: object) -> pd.DataFrame:
    return data.compare_table([Path(p) for p in paths], dict(names))


def compare_table(paths: list[Path], names: dict[str, str]) -> pd.DataFrame:
    """:func:`dashboard.data.compare_table`, cached per selection of runs."""
    return _compare_table(tuple(map(str, paths)), tuple(sorted(names.items())), _run_key(paths))


@st.cache_data(show_spinner=False, max_entries=32)
def _replication_table(
    paths: tuple[str, ...], kpis: tuple[str, ...], labels: tuple[tuple[str, str], ...], key: object
) -> pd.DataFrame:
    return data.replication_table([Path(p) for p in paths], list(kpis), dict(labels))


def replication_table(paths: list[Path], kpis: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """:func:`dashboard.data.replication_table`, cached per selection."""
    return _replication_table(tuple(map(str, paths)), tuple(kpis), tuple(sorted(labels.items())), _run_key(paths))


@st.cache_data(show_spinner=False, max_entries=16)
def _sweep_table(folder: str, key: object) -> tuple[list[str], pd.DataFrame]:
    return data.sweep_table(Path(folder))


def sweep_table(folder: Path) -> tuple[list[str], pd.DataFrame]:
    """:func:`dashboard.data.sweep_table`, cached until a point is added."""
    return _sweep_table(str(folder), data.store_signature(folder))


@st.cache_data(show_spinner=False, max_entries=16)
def _run_scenario(run: str) -> Scenario:
    return data.run_scenario(Path(run))


def run_scenario(run: Path) -> Scenario:
    """The scenario of a run (runs never change once written)."""
    return _run_scenario(str(run))


@st.cache_data(show_spinner=False, max_entries=8)
def _events(run: str, replication: int) -> pd.DataFrame:
    return pd.read_parquet(Path(run) / "events.parquet", filters=[("replication", "==", replication)])


def events(run: Path, replication: int) -> pd.DataFrame:
    """The event log of one replication of a run."""
    return _events(str(run), replication)
