"""The one place the dashboard caches: :mod:`dashboard.data` results, keyed on the paths and
modification times of what they read, so a new run, a renamed run or an edited file shows at
once, and a page opened again answers from memory.

The private cached functions take a ``key`` argument they never use: it is there to be part of
Streamlit's cache key (the modification times of what the function reads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, study_data
from twin.scenario import Scenario

__all__ = [
    "clear",
    "compare_table",
    "events",
    "ranking",
    "replication_table",
    "run_scenario",
    "runs_table",
    "scenario_library",
    "studies_table",
    "study_table",
    "verdicts_table",
]


def clear() -> None:
    """Forget every cached result (after the dashboard itself renamed, tagged or deleted)."""
    st.cache_data.clear()


def _mtimes(folder: Path, pattern: str) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob(pattern))) if folder.is_dir() else ()


@st.cache_data(show_spinner=False, max_entries=8)
def _scenario_library(folder: str, key: object) -> list[data.ScenarioEntry]:
    return data.scenario_library(Path(folder))


def scenario_library(folder: Path) -> list[data.ScenarioEntry]:
    """:func:`dashboard.data.scenario_library`, cached until a file changes."""
    return _scenario_library(str(folder), (_mtimes(folder, "*.yaml"), _mtimes(folder, "*.yml")))


def _meta_key(root: Path) -> tuple[tuple[str, int], ...]:
    """The store's signature plus the modification times of the runs' meta.json directly
    under it (a rename or a new tag changes only that file)."""
    if not root.is_dir():
        return ()
    return (*data.store_signature(root), *_mtimes(root, "*/meta.json"))


@st.cache_data(show_spinner=False, max_entries=8)
def _runs_table(root: str, key: object) -> pd.DataFrame:
    return data.runs_table(Path(root))


def runs_table(root: Path) -> pd.DataFrame:
    """:func:`dashboard.data.runs_table`, cached until a run is added, removed or renamed."""
    return _runs_table(str(root), _meta_key(root))


@st.cache_data(show_spinner=False, max_entries=8)
def _studies_table(root: str, key: object) -> pd.DataFrame:
    return study_data.studies_table(Path(root))


def studies_table(root: Path) -> pd.DataFrame:
    """:func:`dashboard.study_data.studies_table`, cached until the store changes."""
    return _studies_table(str(root), data.store_signature(root))


def _run_key(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    return tuple(
        (str(p), (p / "kpis.parquet").stat().st_mtime_ns, (p / "meta.json").stat().st_mtime_ns)
        for p in paths
        if (p / "kpis.parquet").exists() and (p / "meta.json").exists()
    )


@st.cache_data(show_spinner=False, max_entries=32)
def _compare_table(paths: tuple[str, ...], names: tuple[tuple[str, str], ...], key: object) -> pd.DataFrame:
    return data.compare_table([Path(p) for p in paths], dict(names))


def compare_table(paths: list[Path], names: dict[str, str]) -> pd.DataFrame:
    """:func:`dashboard.data.compare_table`, cached per selection of runs."""
    return _compare_table(tuple(map(str, paths)), tuple(sorted(names.items())), _run_key(paths))


@st.cache_data(show_spinner=False, max_entries=32)
def _verdicts_table(paths: tuple[str, ...], names: tuple[tuple[str, str], ...], key: object) -> pd.DataFrame:
    return data.verdicts_table([Path(p) for p in paths], dict(names))


def verdicts_table(paths: list[Path], names: dict[str, str]) -> pd.DataFrame:
    """:func:`dashboard.data.verdicts_table`, cached per selection of runs."""
    return _verdicts_table(tuple(map(str, paths)), tuple(sorted(names.items())), _run_key(paths))


@st.cache_data(show_spinner=False, max_entries=32)
def _replication_table(
    paths: tuple[str, ...], kpis: tuple[str, ...], labels: tuple[tuple[str, str], ...], key: object
) -> pd.DataFrame:
    return data.replication_table([Path(p) for p in paths], list(kpis), dict(labels))


def replication_table(paths: list[Path], kpis: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """:func:`dashboard.data.replication_table`, cached per selection."""
    return _replication_table(tuple(map(str, paths)), tuple(kpis), tuple(sorted(labels.items())), _run_key(paths))


@st.cache_data(show_spinner=False, max_entries=32)
def _ranking(paths: tuple[str, ...], kpi: str, labels: tuple[tuple[str, str], ...], key: object) -> Any:
    from twin.studies.ranking import rank_runs

    return rank_runs([Path(p) for p in paths], kpi, dict(labels))


def ranking(paths: list[Path], kpi: str, labels: dict[str, str]) -> Any:
    """:func:`twin.studies.ranking.rank_runs`, cached per selection and KPI.

    Raises:
        ValueError: as :func:`twin.studies.ranking.rank` (too few replications, no direction).
    """
    return _ranking(tuple(map(str, paths)), kpi, tuple(sorted(labels.items())), _run_key(paths))


@st.cache_data(show_spinner=False, max_entries=16)
def _study_table(folder: str, key: object) -> tuple[list[str], pd.DataFrame]:
    return study_data.study_table(Path(folder))


def study_table(folder: Path) -> tuple[list[str], pd.DataFrame]:
    """:func:`dashboard.study_data.study_table`, cached until a point is added."""
    return _study_table(str(folder), data.store_signature(folder))


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
