"""The event-log format: reading files into the canonical frame, the errors for bad files,
and the twin's own log written through ``twin run --log`` and read back."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.helpers import scenario
from twin.cli import app
from twin.measure.experiment import simulate
from twin.sync.eventlog import EVENTS, LogError, events_to_log, read_log, write_log

HEADER = "time,event,job,product,station,machine\n"


def write(tmp_path: Path, text: str, name: str = "plant.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD = [
    # a misspelt event names its row as a spreadsheet shows it (header = row 1) and a guess
    (
        HEADER + "1,arrive,a,p,,\n2,strat,a,,s,0\n",
        ["plant.csv:3: event: unknown event; did you mean 'start'? (got 'strat')"],
    ),
    # a time that is neither a number nor a timestamp
    (HEADER + "1,arrive,a,p,,\nsoon,enter,a,p,s,\n", ["plant.csv:3: time: not a number (got 'soon')"]),
    # an empty time
    (HEADER + ",arrive,a,p,,\n", ["plant.csv:2: time: missing"]),
    # a missing column is named, with the columns the file has
    ("time,event,job,product,station\n1,arrive,a,p,\n", ["plant.csv:1: missing column 'machine'"]),
    # an arrival needs its product, a start its station and machine
    (HEADER + "1,arrive,a,,,\n", ["plant.csv:2: product: required on 'arrive' rows"]),
    (HEADER + "1,start,a,p,,\n", ["plant.csv:2: station: required on 'start' rows", "machine: required on 'start'"]),
    # a job event without its job
    (HEADER + "1,finish,,p,s,0\n", ["plant.csv:2: job: required on 'finish' rows"]),
    # a ragged row
    (HEADER + "1,arrive,a,p,,\n2,enter,a,p,s,,extra,more\n", ["plant.csv:3: expected 6 fields like the header"]),
    # a header and nothing else
    (HEADER, ["plant.csv: no events"]),
    # an empty file
    ("", ["plant.csv: empty file"]),
    # timestamps and numbers mixed: the minority is wrong
    (HEADER + "2024-01-01T08:00,arrive,a,p,,\n2024-01-01T08:01,enter,a,p,s,\n3,start,a,p,s,0\n", ["plant.csv:4: time"]),
    # a due date that is not a time
    ("time,event,job,product,station,machine,due\n1,arrive,a,p,,,later\n", ["plant.csv:2: due: not a number"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_logs_name_row_column_and_value(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LogError) as raised:
        read_log(path)
    message = str(raised.value)
    for part in expected:
        assert part in message
    assert "Traceback" not in message


def test_every_problem_is_listed_in_row_order(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "1,arrive,a,,,\n2,bogus,a,p,s,0\ny,start,a,p,s,0\n4,exit,a,p,,\n")
    with pytest.raises(LogError) as raised:
        read_log(path)
    rows = [p.path.split(":")[1] for p in raised.value.problems]
    assert rows == ["2", "3", "4"]


def test_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="is a folder"):
        read_log(tmp_path)
    with pytest.raises(LogError, match="no such file"):
        read_log(tmp_path / "missing.csv")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(LogError, match="not a regular file"):
        read_log(fifo)
    with pytest.raises(LogError, match="unknown log format"):
        read_log(write(tmp_path, HEADER + "1,arrive,a,p,,\n", "plant.xlsx"))


def test_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin.sync.eventlog.MAX_LOG_BYTES", 10)
    with pytest.raises(LogError, match="larger than"):
        read_log(write(tmp_path, HEADER + "1,arrive,a,p,,\n"))


def test_canonical_frame(tmp_path: Path) -> None:
    """Types, empty cells as "", products filled from the job, stable time order, extra
    columns kept, row numbers in the index."""
    text = (
        "time,event,job,product,station,machine,due,operator\n"
        "5,enter,7,,cut,,,ann\n"
        "1,arrive,7,gear,,,30,bob\n"
        "5,start,7,,cut,m1,,ann\n"
    )
    frame = read_log(write(tmp_path, text))
    assert list(frame.columns) == ["time", "event", "job", "product", "station", "machine", "due", "operator"]
    assert frame["time"].dtype == np.float64 and frame["due"].dtype == np.float64
    assert list(frame.index) == [3, 2, 4]
    assert list(frame["event"]) == ["arrive", "enter", "start"]
    assert list(frame["product"]) == ["gear", "gear", "gear"]
    assert list(frame["machine"]) == ["", "", "m1"]
    assert frame["due"].iloc[0] == 30 and np.isnan(frame["due"].iloc[1])
    assert set(frame["event"]) <= set(EVENTS)


def test_timestamps_convert_from_the_first(tmp_path: Path) -> None:
    text = (
        "time,event,job,product,station,machine,due\n"
        "2024-03-01T08:02:00Z,enter,a,p,s,,\n"
        "2024-03-01T08:00:00Z,arrive,a,p,,,2024-03-01T10:00:00Z\n"
        "2024-03-01T09:00:00+01:00,start,a,p,s,0,\n"
    )
    frame = read_log(write(tmp_path, text), time_unit="h")
    assert frame.attrs["origin"].startswith("2024-03-01T08:00:00")
    times = dict(zip(frame["event"], frame["time"], strict=True))
    assert times == pytest.approx({"arrive": 0.0, "enter": 2 / 60, "start": 0.0})
    assert frame.loc[frame["event"] == "arrive", "due"].iloc[0] == pytest.approx(2.0)
    minutes = read_log(write(tmp_path, text), time_unit="min")
    assert sorted(minutes["time"]) == pytest.approx([0.0, 0.0, 2.0])
    with pytest.raises(LogError, match="--time-unit: unknown time unit"):
        read_log(write(tmp_path, text), time_unit="fortnight")


def test_parquet_and_csv_round_trip(tmp_path: Path) -> None:
    s = scenario(
        {
            "a": {"process_time": {"dist": "exponential", "mean": 0.8}, "failures": {"ttf": 20, "ttr": 2}},
            "b": {"process_time": 0.5},
        },
        {"p": {"arrival": {"dist": "exponential", "mean": 1.0}, "route": ["a", "b"], "due_date": {"slack": 10}}},
        horizon=200,
    )
    log = events_to_log(simulate(s, replications=1).events, s)
    for name in ("log.csv", "log.parquet"):
        path = write_log(log, tmp_path / name)
        back = read_log(path)
        pd.testing.assert_frame_equal(back.reset_index(drop=True), log.reset_index(drop=True), check_dtype=False)
    assert not list(tmp_path.glob(".*partial"))


def test_twin_log_follows_the_vocabulary() -> None:
    """Machines as their index, down/up from DOWN records, due dates from the slack."""
    s = scenario(
        {"a": {"machines": 2, "process_time": 1.0, "failures": {"ttf": 7.5, "ttr": 1.0, "basis": "calendar"}}},
        {"p": {"arrival": 1.0, "route": ["a"], "due_date": {"slack": 4}}},
        horizon=30,
    )
    log = events_to_log(simulate(s, replications=1).events, s)
    assert log["time"].is_monotonic_increasing
    downs, ups = log[log["event"] == "down"], log[log["event"] == "up"]
    assert list(downs["time"]) == [7.5, 7.5, 16.0, 16.0, 24.5, 24.5]
    assert list(ups["time"]) == [8.5, 8.5, 17.0, 17.0, 25.5, 25.5]
    assert set(downs["machine"]) == {"0", "1"} and set(downs["job"]) == {""}
    arrive = log[log["event"] == "arrive"]
    assert np.allclose(arrive["due"] - arrive["time"], 4.0)
    assert log.loc[log["event"] != "arrive", "due"].isna().all()


def test_twin_run_log_option(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "twin.parquet"
    done = runner.invoke(app, ["run", "scenarios/validation/mm1.yaml", "--replications", "2", "--log", str(out)])
    assert done.exit_code == 0, done.output
    frame = read_log(out)
    assert {"arrive", "enter", "start", "finish", "exit"} <= set(frame["event"])
    bad = runner.invoke(app, ["run", "scenarios/validation/mm1.yaml", "--log", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2 and "--log: unknown log format" in bad.output
    missing = runner.invoke(app, ["run", "scenarios/validation/mm1.yaml", "--log", str(tmp_path / "no" / "x.csv")])
    assert missing.exit_code == 2 and "folder does not exist" in missing.output
