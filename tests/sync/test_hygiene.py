"""The hygiene pass on logs with the faults real logs have: each is counted exactly and the
repaired log tells the same story as the clean one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.plants import WEEK, PlantLog
from twin.sync.calibrate import calibrate_log
from twin.sync.eventlog import read_log, write_log
from twin.sync.history import build_history
from twin.sync.hygiene import repair_log


def _dirty(log: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """1% of the finish rows dropped (of operations the job moved on from), 40 rows written
    twice, 150 neighbouring pairs swapped; returns the file order and the finishes dropped."""
    rng = np.random.default_rng(seed)
    history = build_history(log)
    moved = history.visits[history.visits["leave"].notna() & history.visits["finish"].notna()]
    finishes = log.index[(log["event"] == "finish").to_numpy()]
    keyed = log.loc[finishes].set_index(["job", "station"]).index
    movable = finishes[keyed.isin(moved.set_index(["job", "station"]).index)]
    dropped = rng.choice(movable, len(finishes) // 100, replace=False)
    kept = log.drop(index=dropped)
    doubled = pd.concat([kept, kept.iloc[rng.choice(len(kept), 40, replace=False)]])
    order = np.arange(len(doubled))
    swap = rng.choice(len(order) - 2, 150, replace=False)
    order[swap], order[swap + 1] = order[swap + 1], order[swap]
    return doubled.iloc[order].reset_index(drop=True), len(dropped)


def test_dropped_duplicated_and_shuffled_rows_are_counted(week: PlantLog, tmp_path: Path) -> None:
    clean = read_log(write_log(week.log, tmp_path / "clean.csv"))
    dirty, dropped = _dirty(clean.reset_index(drop=True))
    frame = read_log(write_log(dirty, tmp_path / "dirty.csv"))
    repaired, report = repair_log(frame)
    assert report.duplicates == 40
    assert report.start_without_finish == dropped
    assert report.reordered > 0
    assert report.finish_without_start == 0 and report.cut_at_start == 0
    before, after = build_history(repair_log(clean)[0]).visits, build_history(repaired).visits
    assert len(before) == len(after)
    assert after["synthetic"].sum() == dropped
    key = ["job", "station", "visit"]
    real = after[~after["synthetic"]].set_index(key).sort_index()
    same = before.set_index(key).loc[real.index]
    pd.testing.assert_series_equal(real["finish"], same["finish"])
    assert (repaired["repair"] == "start without finish").sum() == dropped
    found = calibrate_log(tmp_path / "dirty.csv")
    assert (found.hygiene.duplicates, found.hygiene.start_without_finish) == (40, dropped)
    assert found.scenario.stations["paint"].machines == 4 and found.scenario.stations["mill"].buffer == 5
    assert found.report()["hygiene"]["repaired"] == 40 + dropped


def test_a_window_cut_out_of_a_longer_log(week: PlantLog) -> None:
    """Jobs in the plant at the cut arrive at the log's first time; those open at the end are
    counted; both agree with Ciw's records."""
    cut = WEEK / 2
    part = week.log[week.log["time"] > cut].reset_index(drop=True)
    repaired, report = repair_log(part)
    jobs = week.jobs
    inside = (jobs["arrive"] <= cut) & (jobs["leave"].isna() | (jobs["leave"] > cut))
    assert report.cut_at_start == int(inside.sum())
    assert report.open_at_end == int(jobs["leave"].isna().sum())
    history = build_history(repaired)
    assert history.jobs["cut"].sum() == report.cut_at_start
    assert history.visits[["enter"]].notna().all().all()
    assert (history.visits["start"].dropna() >= history.visits.loc[history.visits["start"].notna(), "enter"]).all()


def _log(rows: list[tuple[float, str, str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["time", "event", "job", "product", "station", "machine"])
    frame["due"] = np.nan
    frame.index = pd.Index(np.arange(len(frame)) + 2, name="row")
    return frame


def test_outage_rows_and_silent_machines() -> None:
    frame = _log(
        [
            (0, "arrive", "a", "p", "", ""),
            (0, "enter", "a", "p", "s", ""),
            (0, "start", "a", "p", "s", "m1"),
            (1, "up", "", "", "s", "m2"),
            (2, "down", "", "", "s", "m1"),
            (3, "down", "", "", "s", "m1"),
            (4, "up", "", "", "s", "m1"),
            (5, "up", "", "", "s", "m1"),
            (6, "finish", "a", "p", "s", "m1"),
            (6, "exit", "a", "p", "", ""),
        ]
    )
    repaired, report = repair_log(frame, declared_machines={"s": 3})
    assert (report.repeated_downs, report.up_without_down, report.down_at_start) == (1, 1, 1)
    assert report.silent_machines == {"s": 1}
    assert report.outage_only_machines == ["s/m2"]
    outages = build_history(repaired).outages
    assert sorted(zip(outages["machine"], outages["down"], outages["up"], strict=True)) == [("m1", 2, 4), ("m2", 0, 1)]


def test_finish_without_start_starts_when_job_and_machine_are_free() -> None:
    frame = _log(
        [
            (0, "arrive", "a", "p", "", ""),
            (0, "enter", "a", "p", "s", ""),
            (0, "start", "a", "p", "s", "m"),
            (1, "arrive", "b", "p", "", ""),
            (1, "enter", "b", "p", "s", ""),
            (3, "finish", "a", "p", "s", "m"),
            (3, "exit", "a", "p", "", ""),
            (5, "finish", "b", "p", "s", "m"),
            (5, "exit", "b", "p", "", ""),
        ]
    )
    repaired, report = repair_log(frame)
    assert report.finish_without_start == 1
    added = repaired[repaired["repair"] != ""]
    assert list(added[["time", "event", "job"]].itertuples(index=False, name=None)) == [(3.0, "start", "b")]
    with pytest.raises(ValueError, match="empty"):
        build_history(frame.iloc[:0])
