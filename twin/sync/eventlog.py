"""The plant event log (docs/architecture.md, "Event log", a contract): the one owner of its format.

A log is one row per event, CSV with a header or Parquet, with the columns ``time``,
``event``, ``job``, ``product``, ``station``, ``machine`` and optionally ``due``, ``source`` and
``seq``; extra columns are kept. :func:`read_log` turns a file into the **canonical frame**:

- ``time`` float64. Numbers stay as they are (already in the scenario's time unit). ISO 8601
  timestamps are converted to ``time_unit`` counted from the earliest timestamp of the file,
  which is kept as ``frame.attrs["origin"]`` (ISO text, UTC when the file gives offsets), so
  time 0 is the first event and the clock time of day can still be recovered.
- ``event`` one of :data:`EVENTS`; ``job``, ``product``, ``station``, ``machine`` text, ``""``
  when empty (a job event without a product takes its job's product from the job's other rows).
- ``due`` float64 (NaN when absent), in the same time base as ``time``.
- ``source`` (text) and ``seq`` (Int64) when the file has them.
- rows stably sorted by time; the index holds each row's number in the file as a spreadsheet
  shows it (the header is row 1, so the first event is row 2; a Parquet file counts the same).

Bad input raises :class:`LogError`, one line per problem as ``FILE:ROW: column: what is wrong
(got X)``. :func:`write_log` writes a canonical frame back (CSV or Parquet by suffix, in one
rename), and :func:`events_to_log` turns the twin's own ``Result.events`` into this format.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import Problem, ScenarioError, show
from twin.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "EVENTS",
    "JOB_EVENTS",
    "MACHINE_EVENTS",
    "MAX_LOG_BYTES",
    "OPTIONAL_COLUMNS",
    "TIME_UNITS",
    "LogError",
    "events_to_log",
    "log_suffix",
    "read_log",
    "time_unit_factor",
    "write_log",
]

EVENTS = (
    "arrive",
    "enter",
    "setup",
    "start",
    "finish",
    "exit",
    "scrap",
    "down",
    "up",
    "transport_start",
    "transport_end",
    "rework",
    "assembled",
    "maintenance",
)
"""The event names: the contract's nine, then those of the optional features
(docs/architecture.md, "Event vocabulary"): a job handed to transport and delivered, sent back
for rework, consumed as a component by an assembly, and a machine going into maintenance
(``up`` when it comes out)."""

JOB_EVENTS = frozenset((*EVENTS[:7], "transport_start", "transport_end", "rework", "assembled"))
"""Events that concern a job (``job`` required)."""

MACHINE_EVENTS = frozenset(("down", "up", "maintenance"))
"""Events that concern a machine only (``job`` empty)."""

_NEEDS_STATION = frozenset(
    (
        "enter",
        "setup",
        "start",
        "finish",
        "scrap",
        "down",
        "up",
        "maintenance",
        "transport_start",
        "rework",
        "assembled",
    )
)
_NEEDS_MACHINE = frozenset(("setup", "start", "finish", "down", "up", "maintenance", "assembled"))

COLUMNS = ("time", "event", "job", "product", "station", "machine")
"""Columns every log has (``product`` may be empty except on ``arrive``)."""

OPTIONAL_COLUMNS = ("due", "source", "seq")
"""Columns a log may have: the job's due date (on ``arrive``), the sending device and its counter."""

TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
"""Seconds per time unit, for converting timestamps; a few spellings more are accepted."""

_UNIT_ALIASES = {
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "minute": "min",
    "minutes": "min",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
}

MAX_LOG_BYTES = 4 * 1024**3
"""Largest log file read (4 GiB): beyond it a log is split or filtered first."""

MAX_PROBLEMS = 20
"""Problems listed before the rest are counted in one line."""

_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
_FIRST_DATA_ROW = 2


class LogError(ScenarioError):
    """An event log cannot be read; ``problems`` holds one ``FILE:ROW: column: ...`` line each.

    A :class:`~twin.errors.ScenarioError` so that every command reports it the same way (exit 2)."""


def time_unit_factor(time_unit: str) -> float:
    """Seconds per ``time_unit`` (``s``, ``min``, ``h``, ``d`` and their long names).

    Raises:
        ValueError: an unknown unit.
    """
    unit = _UNIT_ALIASES.get(time_unit.strip().lower(), time_unit.strip().lower())
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit (got {time_unit!r}); use one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[unit]


def log_suffix(path: Path) -> str:
    """The log format of ``path`` by its name: ``csv`` or ``parquet``.

    Raises:
        ValueError: a suffix that is neither.
    """
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise ValueError(f"unknown log format (got {path.name!r}); use a name ending in {', '.join(_SUFFIXES)}")


def _problem(where: str, row: object, column: str, message: str, got: object = None) -> Problem:
    return Problem(f"{where}:{row}: {column}", message, None if got is None else show(got))


def _row_of(problem: Problem) -> int:
    found = re.search(r":(\d+): ", problem.path + " ")
    return int(found.group(1)) if found else 0


def _raise(problems: list[Problem]) -> None:
    """Raise the problems found, in row order, the first :data:`MAX_PROBLEMS` of them."""
    if problems:
        problems = sorted(problems, key=_row_of)
        extra = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS]
        if extra > 0:
            shown.append(Problem(shown[-1].path.split(":")[0], f"... and {extra} more problems"))
        raise LogError(shown)


def _check_file(path: Path) -> None:
    where = str(path)
    if not path.exists():
        raise LogError([Problem(where, "no such file")])
    if path.is_dir():
        raise LogError([Problem(where, "is a folder, not a log file")])
    if not path.is_file():
        raise LogError([Problem(where, "not a regular file")])
    size = path.stat().st_size
    if size > MAX_LOG_BYTES:
        raise LogError(
            [Problem(where, f"larger than the {MAX_LOG_BYTES // 1024**3} GiB a log may be", f"{size} bytes")]
        )
    if size == 0:
        raise LogError([Problem(where, "empty file: a log needs a header and at least one event")])


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    where = str(path)
    try:
        kind = log_suffix(path)
    except ValueError as error:
        raise LogError([Problem(where, str(error))]) from None
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise LogError([Problem(where, "empty file: a log needs a header and at least one event")]) from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, line, saw = found.groups()
            raise LogError([Problem(f"{where}:{line}", f"expected {expected} fields like the header", saw)]) from None
        raise LogError([Problem(where, f"not a CSV file: {error}")]) from None
    except UnicodeDecodeError as error:
        raise LogError([Problem(where, f"not UTF-8 text ({error.reason} at byte {error.start})")]) from None
    except (OSError, ValueError) as error:
        raise LogError([Problem(where, f"cannot read as {kind}: {error}")]) from None


def _text(values: pd.Series) -> pd.Series:
    """A column as stripped text, "" for missing values (numbers from Parquet read as text)."""
    import pandas as pd

    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & (values == np.floor(values))
        text = values.astype(object).where(~whole, values.astype("Int64").astype(str))
        return text.astype(str).where(values.notna(), "").str.strip()
    if pd.api.types.is_string_dtype(values.dtype) and not values.hasnans:
        return values.astype(str).str.strip()  # a CSV read as text: no missing cells
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def _numbers(text: pd.Series, empty: np.ndarray) -> np.ndarray:
    """Text as floats, NaN where empty or not a number (numpy's parser first: fast when all
    parse, as in a well-formed log)."""
    import pandas as pd

    filled = np.where(empty, "nan", text.to_numpy(dtype=object))
    try:
        return filled.astype(float)
    except ValueError:
        found: np.ndarray = pd.to_numeric(pd.Series(filled), errors="coerce").to_numpy(dtype=float)
        return found


def _times(
    raw: pd.Series, rows: np.ndarray, where: str, column: str, origin: Any, factor: float, required: bool
) -> tuple[np.ndarray, Any, list[Problem]]:
    """Numbers or ISO timestamps as float times; ``origin`` (a Timestamp) is set by the first
    call that sees timestamps and reused for later columns."""
    import pandas as pd

    problems: list[Problem] = []
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        stamps = pd.to_datetime(raw)
        empty = stamps.isna().to_numpy()
        kind = "timestamp"
    elif pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
        empty = np.isnan(values)
        kind = "number"
    else:
        text = _text(raw)
        empty = (text == "").to_numpy()
        numbers = _numbers(text, empty)
        is_number = ~np.isnan(numbers)
        if origin is None and is_number.sum() >= (~empty & ~is_number).sum():
            kind, values = "number", numbers
            for i in np.flatnonzero(~empty & ~is_number):
                problems.append(_problem(where, rows[i], column, "not a number", text.iloc[i]))
        else:
            kind = "timestamp"
            stamps = pd.to_datetime(text.where(~empty, None), format="ISO8601", errors="coerce", utc=_has_offset(text))
            for i in np.flatnonzero(~empty & stamps.isna().to_numpy()):
                message = (
                    "not an ISO 8601 timestamp like the others"
                    if origin is not None
                    else "not a number or an ISO 8601 timestamp"
                )
                problems.append(_problem(where, rows[i], column, message, text.iloc[i]))
    if kind == "timestamp":
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC")
        if origin is None:
            origin = stamps.min()
        elif (origin.tzinfo is None) != (getattr(stamps.dt, "tz", None) is None):
            problems.append(Problem(f"{where}: {column}", "timestamps with and without a UTC offset mixed"))
            return np.full(len(raw), np.nan), origin, problems
        values = ((stamps - origin).dt.total_seconds() / factor).to_numpy(dtype=float, na_value=np.nan)
    elif origin is not None:
        for i in np.flatnonzero(~empty)[:MAX_PROBLEMS]:
            problems.append(_problem(where, rows[i], column, "a number where the times are timestamps", raw.iloc[i]))
    if required:
        for i in np.flatnonzero(empty):
            problems.append(_problem(where, rows[i], column, "missing"))
    bad = ~empty & ~np.isfinite(values)
    for i in np.flatnonzero(bad & ~np.isnan(values)):
        problems.append(_problem(where, rows[i], column, "not a finite number", raw.iloc[i]))
    return values, origin, problems


def _has_offset(text: pd.Series) -> bool:
    """Whether any timestamp carries a UTC offset (then all are read as UTC)."""
    return bool(text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).any())


def read_log(path: str | Path, *, time_unit: str = "min") -> pd.DataFrame:
    """Read an event log file into the canonical frame (see the module doc).

    Args:
        path: a ``.csv`` (or ``.csv.gz``) file with a header, or a ``.parquet`` file.
        time_unit: the unit timestamps are converted to (``s``, ``min``, ``h``, ``d``);
            numeric times are taken as they are.

    Raises:
        LogError: the file is missing, a folder, not a regular file, empty, too large, of an
            unknown format, or has a missing column, an unknown event, a bad time or due date,
            or a job event without its job, station or machine (one line per problem).
    """
    import pandas as pd

    path = Path(path)
    where = str(path)
    try:
        factor = time_unit_factor(time_unit)
    except ValueError as error:
        raise LogError([Problem("--time-unit", str(error))]) from None
    _check_file(path)
    table = _read_table(path)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise LogError(
            [Problem(f"{where}:1", f"missing column '{c}'", ", ".join(map(str, table.columns))) for c in missing]
        )
    if table.empty:
        raise LogError([Problem(where, "no events: the log has a header but no rows")])
    rows = np.arange(len(table)) + _FIRST_DATA_ROW
    problems: list[Problem] = []
    times, origin, found = _times(table["time"], rows, where, "time", None, factor, required=True)
    problems += found
    event = _text(table["event"]).str.lower()
    known = event.isin(EVENTS).to_numpy()
    for i in np.flatnonzero(~known):
        got = table["event"].iloc[i]
        close = difflib.get_close_matches(str(event.iloc[i]), EVENTS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; one of {', '.join(EVENTS)}"
        problems.append(_problem(where, rows[i], "event", f"unknown event{hint}", got))
    frame = pd.DataFrame(index=pd.Index(rows, name="row"))
    frame["time"] = times
    frame["event"] = event.array
    for column in ("job", "product", "station", "machine"):
        frame[column] = _text(table[column]).array
    problems += _required_cells(frame, where)
    if "due" in table.columns:
        due, _, found = _times(table["due"], rows, where, "due", origin, factor, required=False)
        problems += found
        frame["due"] = due
    else:
        frame["due"] = np.nan
    if "source" in table.columns:
        frame["source"] = _text(table["source"]).array
    if "seq" in table.columns:
        seq = pd.to_numeric(_text(table["seq"]).replace("", None), errors="coerce")
        for i in np.flatnonzero((seq.isna() & (_text(table["seq"]) != "")).to_numpy()):
            problems.append(_problem(where, rows[i], "seq", "not an integer", table["seq"].iloc[i]))
        frame["seq"] = seq.round().astype("Int64").to_numpy()
    for column in table.columns:
        if column not in frame.columns:
            frame[column] = table[column].to_numpy()
    _raise(problems)
    _fill_products(frame)
    frame = frame.sort_values("time", kind="stable")
    for column in ("event", "job", "product", "station", "machine"):
        frame[column] = frame[column].astype(str)
    if origin is not None:
        frame.attrs["origin"] = origin.isoformat()
    frame.attrs["source"] = where
    return frame


def _required_cells(frame: pd.DataFrame, where: str) -> list[Problem]:
    """Cells a row's event needs: a job on job events, a product on arrivals, a station and
    machine where the event happens on one."""
    problems = []
    event = frame["event"]
    checks = (
        ("job", event.isin(JOB_EVENTS)),
        ("product", event == "arrive"),
        ("station", event.isin(_NEEDS_STATION)),
        ("machine", event.isin(_NEEDS_MACHINE)),
    )
    for column, needed in checks:
        bad = needed & (frame[column] == "")
        for row, name in zip(frame.index[bad.to_numpy()], event[bad], strict=True):
            problems.append(Problem(f"{where}:{row}: {column}", f"required on '{name}' rows (empty)"))
    return problems


def _fill_products(frame: pd.DataFrame) -> None:
    """Give job rows without a product their job's product (from its other rows)."""
    empty = (frame["product"] == "") & (frame["job"] != "")
    if not empty.any():
        return
    known = frame.loc[frame["product"] != "", ["job", "product"]].drop_duplicates("job")
    mapping = dict(zip(known["job"], known["product"], strict=True))
    frame.loc[empty, "product"] = frame.loc[empty, "job"].map(mapping).fillna("").to_numpy()


def write_log(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a canonical frame to ``path`` (CSV or Parquet by its suffix), in one rename.

    Raises:
        ValueError: an unknown suffix, or a frame without the contract's columns.
    """
    from twin.studies.store import atomic_file

    path = Path(path)
    kind = log_suffix(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"not an event log: missing columns {missing}")
    ordered = [*COLUMNS, *[c for c in frame.columns if c not in COLUMNS]]
    out = frame[ordered].reset_index(drop=True)
    with atomic_file(path) as temporary:
        if kind == "parquet":
            out.to_parquet(temporary, index=False)
        else:
            out.to_csv(temporary, index=False, compression="gzip" if path.name.lower().endswith(".gz") else None)
    return path


def _due_dates(events: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Due date of each ``ARRIVE`` row of a twin log, from the scenario (NaN without one):
    arrival plus the product's slack, or the due date of the order released at that time."""
    arrive = events[events["event"] == "ARRIVE"]
    due = np.full(len(arrive), np.nan)
    for name, product in scenario.products.items():
        mine = (arrive["product"] == name).to_numpy()
        if product.due_date is not None:
            due[mine] = arrive["time"].to_numpy()[mine] + product.due_date.slack
        elif product.release:
            by_time: dict[float, list[float]] = {}
            for order in product.release:
                by_time.setdefault(order.at, []).extend([math.nan if order.due is None else order.due] * order.quantity)
            times = arrive["time"].to_numpy()[mine]
            picked = [by_time[t].pop(0) if by_time.get(t) else math.nan for t in times]
            due[mine] = picked
    return due


def events_to_log(events: pd.DataFrame, scenario: Scenario, replication: int = 0) -> pd.DataFrame:
    """The twin's own event table (``Result.events``, docs/architecture.md "Event vocabulary")
    as a canonical log frame, for one replication.

    Job ids become text, machines their index within the station as text; a machine entering
    the ``down`` (or ``maintenance``) state gives a ``down`` (``maintenance``) row and its next
    change to a working state an ``up`` row; job events of the optional features keep their
    names in lower case (``transport_start``, ``rework``, ...); the other
    state records are left out (a plant's log does not have them). ``due`` comes from the
    scenario (slack or order due date) on ``arrive`` rows.

    Raises:
        ValueError: ``events`` holds no rows of ``replication``.
    """
    import pandas as pd

    mine = events[events["replication"] == replication]
    if mine.empty:
        raise ValueError(f"no events of replication {replication} (got {sorted(set(events['replication']))})")
    mine = mine[mine["event"] != "VEHICLE"]  # a floor's log names no vehicles
    if mine.empty:
        raise ValueError(f"no events of replication {replication} (got {sorted(set(events['replication']))})")
    is_state = (mine["event"] == "STATE").to_numpy()
    jobs = mine[~is_state]
    states = mine[is_state]
    job_rows = pd.DataFrame(
        {
            "time": jobs["time"].to_numpy(float),
            "event": jobs["event"].str.lower().to_numpy(),
            "job": jobs["job"].astype(str).to_numpy(),
            "product": jobs["product"].to_numpy(),
            "station": jobs["station"].to_numpy(),
            "machine": np.where(jobs["machine"].to_numpy() >= 0, jobs["machine"].astype(str).to_numpy(), ""),
            "due": np.nan,
            "_order": np.flatnonzero(~is_state),
        }
    )
    arrive = (job_rows["event"] == "arrive").to_numpy()
    job_rows.loc[arrive, "due"] = _due_dates(jobs, scenario)
    ordered = states.assign(_order=np.flatnonzero(is_state)).sort_values(["station", "machine", "time"], kind="stable")
    state = ordered["state"].to_numpy()
    out = np.isin(state, ("down", "maintenance"))
    same_machine = (ordered["station"].to_numpy()[1:] == ordered["station"].to_numpy()[:-1]) & (
        ordered["machine"].to_numpy()[1:] == ordered["machine"].to_numpy()[:-1]
    )
    up = np.zeros(len(ordered), bool)
    up[1:] = out[:-1] & same_machine & ~out[1:]
    picked = ordered[out | up]
    machine_rows = pd.DataFrame(
        {
            "time": picked["time"].to_numpy(float),
            "event": np.where(out[out | up], state[out | up], "up"),
            "job": "",
            "product": "",
            "station": picked["station"].to_numpy(),
            "machine": picked["machine"].astype(str).to_numpy(),
            "due": np.nan,
            "_order": picked["_order"].to_numpy(),
        }
    )
    log = pd.concat([job_rows, machine_rows], ignore_index=True)
    # The model logs a machine's state after the job events of the same instant; on the floor
    # a machine comes back up before it starts the next job, and fails after the job events
    # of its instant (a phase ending at that instant ends first).
    log["_tie"] = np.where(log["event"] == "up", 0, np.where(log["job"] == "", 2, 1))
    log = log.sort_values(["time", "_tie", "_order"], kind="stable")
    log = log.drop(columns=["_order", "_tie"]).reset_index(drop=True)
    log.index = pd.Index(np.arange(len(log)) + _FIRST_DATA_ROW, name="row")
    for column in ("event", "job", "product", "station", "machine"):
        log[column] = log[column].astype(str)
    return log
