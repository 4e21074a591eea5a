"""Evaluation tables in the run store: written whole, read back, ranked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from twin.jobshop.evaluation import evaluate, leaderboard, rule_method
from twin.jobshop.instances import load_instance
from twin.jobshop.schedules import ScheduledOperation, check_schedule
from twin.studies.store import (
    find_evaluations,
    list_runs,
    load_results,
    load_schedules,
    read_evaluation,
    write_evaluation,
)

ROOT = Path(__file__).resolve().parents[1]
FT06 = load_instance(ROOT / "scenarios/jobshop/ft06.txt")


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    methods = {"rule:fifo": rule_method("fifo"), "rule:mwkr": rule_method("mwkr")}
    return evaluate([FT06], methods, {"ft06": 55})


def test_evaluate_scores_rules_against_the_best_known_makespan(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    results, schedules = tables
    mwkr = results.set_index("method").loc["rule:mwkr"]
    assert mwkr["makespan"] == 61  # as `twin jobshop ft06.txt --rule mwkr` (README)
    assert mwkr["gap"] == pytest.approx(61 / 55 - 1)
    assert mwkr["kind"] == "rule"
    assert mwkr["decisions"] == 36  # one per operation
    for method, frame in schedules.groupby("method"):
        ops = [tuple(r) for r in frame[["job", "operation", "machine", "start", "end"]].itertuples(index=False)]
        assert check_schedule(FT06, [ScheduledOperation(*op) for op in ops]) == [], method


def test_written_evaluations_read_back_and_rank(tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    results, schedules = tables
    folder = write_evaluation(results, schedules, tmp_path, "rules", {"note": "test"})
    assert find_evaluations(tmp_path) == [folder]
    assert read_evaluation(folder)["methods"] == ["rule:fifo", "rule:mwkr"]
    assert read_evaluation(folder)["note"] == "test"
    loaded = load_results([folder])
    assert loaded["evaluation"].unique().tolist() == [folder.name]
    board = leaderboard(loaded)
    assert board["method"].tolist() == ["rule:mwkr", "rule:fifo"]  # smaller gap first
    assert len(load_schedules(folder, "ft06")) == 2 * 36
    assert not list(tmp_path.glob(f"{folder.parent.name}/.*"))  # no partial folder left


def test_an_evaluation_is_never_taken_for_a_run(tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    write_evaluation(*tables, tmp_path)
    assert list_runs(tmp_path).empty


def test_write_evaluation_names_missing_columns(tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    results, schedules = tables
    with pytest.raises(ValueError, match="'gap'"):
        write_evaluation(results.drop(columns=["gap"]), schedules, tmp_path)
    assert find_evaluations(tmp_path) == []
