"""What a log shows about the plant: structure, and a fitted distribution for every random element.

Each function reads a :class:`~twin.sync.history.History` and returns plain findings;
:mod:`twin.sync.calibrate` turns them into a scenario. Times are the log's.

- **structure**: stations (in route order), machines per station, each product's route (the
  most common among its complete jobs; the share of the others is reported);
- **arrivals**: inter-arrival times per product (the gap after the last arrival right-censored
  by the end of the log) and whether the rate varies with the time of day;
- **process times**: ``finish - start`` minus the machine's downtime inside it, per station and
  product; operations still running at the end are right-censored; products whose times do
  not differ (Kruskal-Wallis) or that have too few are pooled per station;
- **failures**: time to repair ``up - down``; time to failure both in calendar time and in
  processing time since the last repair; the basis whose fit gives the failure instants the
  higher likelihood (AIC) is kept (a failure while not processing rules ``busy`` out);
- **scrap** rates per station, **setups** per change of family where ``setup`` rows exist,
  **buffer capacities** where blocking shows them: a finished job held on its machine, or an
  arrival held at the entrance, while the next buffer is at its largest observed level.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.sync.fitting import Fit, fit_distribution
from twin.sync.history import History, machine_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MIN_OWN_FIT",
    "BufferFinding",
    "FailureFinding",
    "Fitted",
    "Structure",
    "arrivals",
    "buffers",
    "downtime_between",
    "failures",
    "process_times",
    "scrap_rates",
    "setups",
    "structure",
    "time_of_day",
]

MIN_OWN_FIT = 30
"""A product needs this many operations at a station for a fit of its own (else pooled)."""

POOLED_P_VALUE = 0.01
"""Products' process times at a station are pooled unless Kruskal-Wallis rejects at this level."""

_TIE = 1e-9
"""Relative time difference below which two log times are the same instant."""


@dataclass(frozen=True)
class Fitted:
    """A fitted distribution for one scenario path, with the sample behind it."""

    path: str
    """Scenario path, e.g. ``stations.cut.process_time`` or ``products.gear.arrival``."""
    fit: Fit
    sample: np.ndarray = field(repr=False)
    """Uncensored values (for histograms)."""
    note: str = ""
    """Pooling and other choices made for this value."""

    def comment(self) -> str:
        """The scenario file comment: sample size and goodness of fit."""
        parts = [f"n={self.fit.n}"]
        if self.fit.censored:
            parts.append(f"{self.fit.censored} censored")
        parts.append(self.fit.family)
        if self.fit.ks is not None:
            parts.append(f"KS={self.fit.ks:.3f}")
        parts += [text for text in (self.fit.note, self.note) if text]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, **self.fit.to_json(), "pooling": self.note}


@dataclass(frozen=True)
class Structure:
    """Stations, machines and routes."""

    stations: list[str]
    machines: dict[str, list[str]]
    routes: dict[str, list[str]]
    route_share: dict[str, float]
    """Share of each product's complete jobs that followed its route."""
    jobs: dict[str, int]
    """Jobs seen per product."""


def _cumulative(starts: np.ndarray, ends: np.ndarray) -> Any:
    """F(t) = time inside the disjoint intervals [starts, ends] up to t (starts ascending)."""
    lengths = ends - starts
    before = np.concatenate(([0.0], np.cumsum(lengths)))

    def at(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(starts, t, side="right") - 1
        inside = np.where(
            i >= 0, np.clip(t - starts[np.maximum(i, 0)], 0, lengths[np.maximum(i, 0)] if len(lengths) else 0), 0
        )
        result: np.ndarray = np.where(i >= 0, before[np.maximum(i, 0)], 0.0) + inside
        return result

    return at


def downtime_between(history: History, keys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Down time of machine ``keys[i]`` inside ``[a[i], b[i]]`` (outages still open run to the end)."""
    out = np.zeros(len(keys))
    outages = history.outages
    if outages.empty:
        return out
    okey = machine_key(outages["station"], outages["machine"]).to_numpy()
    for key in np.unique(okey):
        mine = okey == key
        starts = outages["down"].to_numpy()[mine]
        ends = np.fmin(outages["up"].fillna(history.end).to_numpy()[mine], history.end)
        order = np.argsort(starts)
        at = _cumulative(starts[order], ends[order])
        rows = keys == key
        if rows.any():
            out[rows] = at(b[rows]) - at(a[rows])
    return out


def structure(history: History) -> Structure:
    """Stations, machines per station and each product's route (see the module doc)."""
    visits = history.visits
    jobs = history.jobs
    complete = jobs.index[(jobs["exit"].notna() | jobs["assembled"].notna()) & ~jobs["cut"]]
    routes, share = _common_routes(visits[visits["job"].isin(complete)], jobs)
    counts = jobs.groupby("product").size()
    for product in counts.index:
        if product not in routes:
            partial, _ = _common_routes(visits[visits["product"] == product], jobs, longest=True)
            if product in partial:
                routes[str(product)] = partial[product]
                share[str(product)] = 0.0
    order = _route_order([routes[p] for p in sorted(routes, key=lambda p: -int(counts.get(p, 0)))])
    machines = history.machines()
    order += [s for s in machines if s not in order]
    return Structure(order, machines, routes, share, {str(p): int(n) for p, n in counts.items()})


def _common_routes(
    visits: pd.DataFrame, jobs: pd.DataFrame, longest: bool = False
) -> tuple[dict[str, list[str]], dict[str, float]]:
    """Per product the most common station sequence of its jobs (or the longest seen) and its
    share, vectorised: each job's sequence is a row of station codes, and rows are counted."""
    import pandas as pd

    if visits.empty:
        return {}, {}
    codes, names = pd.factorize(visits["station"])
    job_codes, job_names = pd.factorize(visits["job"])
    step = visits.groupby(job_codes, sort=False).cumcount().to_numpy()
    table = np.full((len(job_names), int(step.max()) + 1), -1, dtype=np.int64)
    table[job_codes, step] = codes
    product = jobs["product"].reindex(job_names).to_numpy()
    routes: dict[str, list[str]] = {}
    share: dict[str, float] = {}
    for name in np.unique(product):
        mine = table[product == name]
        unique, counts = np.unique(mine, axis=0, return_counts=True)
        pick = int(np.argmax((unique >= 0).sum(axis=1))) if longest else int(np.argmax(counts))
        routes[str(name)] = [str(names[c]) for c in unique[pick] if c >= 0]
        share[str(name)] = float(counts[pick] / len(mine))
    return routes, share


def _route_order(routes: list[list[str]]) -> list[str]:
    """Stations in an order that keeps every route's order where the routes agree (a
    topological order of "comes right after"), ties broken by first appearance."""
    seen: list[str] = []
    after: dict[str, set[str]] = {}
    for route in routes:
        for i, station in enumerate(route):
            if station not in seen:
                seen.append(station)
            after.setdefault(station, set())
            if i and route[i - 1] != station:
                after[station].add(route[i - 1])
    order: list[str] = []
    while len(order) < len(seen):
        ready = [s for s in seen if s not in order and after[s] <= set(order)]
        order.append(ready[0] if ready else next(s for s in seen if s not in order))
    return order


def arrivals(history: History) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Inter-arrival times per product and the right-censored gap after its last arrival."""
    jobs = history.jobs
    seen = jobs[~jobs["cut"] & jobs["arrive"].notna()]
    found = {}
    for product, group in seen.groupby("product"):
        times = np.sort(group["arrive"].to_numpy(float))
        found[str(product)] = (np.diff(times), np.array([history.end - times[-1]]))
    return found


def time_of_day(times: np.ndarray, start: float, end: float, day: float, clock: float) -> dict[str, Any] | None:
    """Whether arrivals at ``times`` come at a rate that varies with the hour of the day.

    ``day`` is the length of a day in the log's unit and ``clock`` the time of day (in the same
    unit) at time 0. None when the log spans less than two days or has too few arrivals.
    A chi-square test of hourly counts against the hours' exposure (p < 0.001 and a peak at
    least 1.5 times the quietest hour) says it varies.
    """
    from scipy import stats

    if end - start < 2 * day or len(times) < 24 * 5:
        return None
    hour = day / 24
    grid = np.arange(start, end, hour / 10) + hour / 20
    exposure = np.bincount(((grid + clock) % day // hour).astype(int), minlength=24) * (hour / 10)
    counts = np.bincount(((times + clock) % day // hour).astype(int), minlength=24)
    rates = counts / np.maximum(exposure, 1e-300)
    expected = exposure / exposure.sum() * counts.sum()
    used = expected > 0
    p = float(stats.chisquare(counts[used], expected[used]).pvalue)
    low, high = float(rates[used].min()), float(rates[used].max())
    varies = p < 1e-3 and high >= 1.5 * max(low, 1e-300)
    return {
        "varies": bool(varies),
        "p_value": p,
        "hourly_rate": [float(r) for r in rates],
        "peak_hour": int(np.argmax(rates)),
        "quiet_hour": int(np.argmin(np.where(used, rates, np.inf))),
    }


def _operations(history: History) -> pd.DataFrame:
    """Visits with their process time (downtime taken out) or censored elapsed time."""
    visits = history.visits
    keys = machine_key(visits["station"], visits["machine"]).to_numpy()
    start = visits["start"].to_numpy(float)
    finish = visits["finish"].to_numpy(float)
    running = np.isnan(finish) & ~np.isnan(start) & np.isnan(visits["leave"].to_numpy(float))
    until = np.where(running, history.end, finish)
    valid = ~np.isnan(start) & ~np.isnan(until)
    down = np.zeros(len(visits))
    down[valid] = downtime_between(history, keys[valid], start[valid], until[valid])
    return visits.assign(_time=until - start - down, _running=running, _valid=valid & ~visits["synthetic"].to_numpy())


def process_times(history: History, routes: dict[str, list[str]]) -> tuple[list[Fitted], dict[str, str]]:
    """Fitted process times: ``stations.<s>.process_time`` where pooled, else
    ``products.<p>.process_time.<s>``; and per station how it was decided."""
    from scipy import stats

    ops = _operations(history)
    ops = ops[ops["_valid"]]
    fitted: list[Fitted] = []
    decisions: dict[str, str] = {}
    for station, at in ops.groupby("station", sort=False):
        products = [p for p in routes if station in routes[p]]
        samples = {p: at.loc[(at["product"] == p) & ~at["_running"], "_time"].to_numpy() for p in products}
        censored = {p: at.loc[(at["product"] == p) & at["_running"], "_time"].to_numpy() for p in products}
        big = [p for p in products if len(samples[p]) >= MIN_OWN_FIT]
        differ = False
        p_value = None
        if len(big) >= 2:
            p_value = float(stats.kruskal(*[samples[p] for p in big]).pvalue)
            differ = p_value < POOLED_P_VALUE
        own = big if differ else []
        rest = [p for p in products if p not in own]
        for product in own:
            fit = fit_distribution(samples[product], censored[product])
            fitted.append(Fitted(f"products.{product}.process_time.{station}", fit, samples[product]))
        if rest:
            pooled = np.concatenate([samples[p] for p in rest]) if rest else np.array([])
            if len(pooled):
                note = "" if len(products) == 1 else f"pooled over {', '.join(rest)}"
                fit = fit_distribution(pooled, np.concatenate([censored[p] for p in rest]))
                fitted.append(Fitted(f"stations.{station}.process_time", fit, pooled, note))
        if len(products) > 1:
            test = (
                f"Kruskal-Wallis p={p_value:.3g}"
                if p_value is not None
                else "too few operations per product to compare"
            )
            decisions[str(station)] = f"per product ({test})" if own else f"pooled ({test})"
    return fitted, decisions


def _processing(history: History) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per machine: its operations' [start, finish] intervals, in time order."""
    visits = history.visits
    rows = visits[visits["start"].notna()]
    keys = machine_key(rows["station"], rows["machine"]).to_numpy()
    start = rows["start"].to_numpy(float)
    finish = rows["finish"].fillna(history.end).to_numpy(float)
    found = {}
    for key in np.unique(keys):
        mine = keys == key
        order = np.argsort(start[mine])
        found[str(key)] = (start[mine][order], finish[mine][order])
    return found


@dataclass(frozen=True)
class FailureFinding:
    """Fitted failures of one station (its machines pooled)."""

    ttf: Fitted
    ttr: Fitted
    basis: str
    aic: dict[str, float]
    """AIC of the failure instants under each basis (``busy`` absent when ruled out)."""
    reason: str


def failures(history: History) -> dict[str, FailureFinding]:
    """Time to failure (basis chosen by fit) and time to repair per station; planned
    ``maintenance`` outages are not failures and are left out."""
    outages = history.outages
    outages = outages[outages["kind"] == "down"]
    if outages.empty:
        return {}
    processing = _processing(history)
    found: dict[str, FailureFinding] = {}
    for station, group in outages.groupby("station", sort=False):
        ttr, ttr_censored, calendar, calendar_censored, busy, busy_censored = [], [], [], [], [], []
        during_work = True
        for machine, mine in group.groupby("machine", sort=False):
            mine = mine.sort_values("down")
            down = mine["down"].to_numpy(float)
            up = mine["up"].to_numpy(float)
            cut = mine["cut"].to_numpy(bool)
            done = ~np.isnan(up) & ~cut
            ttr.append(up[done] - down[done])
            ttr_censored.append(history.end - down[np.isnan(up)])
            starts, ends = processing.get(f"{station}\x1f{machine}", (np.array([]), np.array([])))
            busy_at = _cumulative(starts, np.minimum(ends, history.end))
            ups = up[:-1]
            gaps = ~np.isnan(ups)
            calendar.append(down[1:][gaps] - ups[gaps])
            busy.append(busy_at(down[1:][gaps]) - busy_at(ups[gaps]))
            if not np.isnan(up[-1]):
                calendar_censored.append(np.array([history.end - up[-1]]))
                busy_censored.append(busy_at(np.array([history.end])) - busy_at(np.array([up[-1]])))
            i = np.searchsorted(starts, down[1:][gaps], side="right") - 1
            inside = (
                (i >= 0) & (down[1:][gaps] <= ends[np.maximum(i, 0)] * (1 + _TIE) + _TIE)
                if len(starts)
                else np.zeros(gaps.sum(), bool)
            )
            during_work &= bool(np.all(inside))
        repair = (
            fit_distribution(np.concatenate(ttr), np.concatenate(ttr_censored)) if np.concatenate(ttr).size else None
        )
        cal_x = np.concatenate(calendar)
        if repair is None or cal_x.size == 0:
            continue
        cal = fit_distribution(cal_x, np.concatenate(calendar_censored) if calendar_censored else ())
        aic = {"calendar": min(cal.aic.values()) if cal.aic else math.nan}
        best, chosen = "calendar", cal
        sample = cal_x
        reason = "a failure happened while a machine was not processing" if not during_work else ""
        if during_work:
            busy_x = np.concatenate(busy)
            positive = busy_x[busy_x > 0]
            if positive.size == busy_x.size and busy_x.size:
                b = fit_distribution(busy_x, np.concatenate(busy_censored) if busy_censored else ())
                aic["busy"] = min(b.aic.values()) if b.aic else math.nan
                if aic["busy"] < aic["calendar"]:
                    best, chosen, sample = "busy", b, busy_x
                reason = f"AIC busy {aic['busy']:.1f} vs calendar {aic['calendar']:.1f}"
        found[str(station)] = FailureFinding(
            Fitted(f"stations.{station}.failures.ttf", chosen, sample, f"{best} time"),
            Fitted(f"stations.{station}.failures.ttr", repair, np.concatenate(ttr)),
            best,
            aic,
            reason,
        )
    return found


def scrap_rates(history: History) -> dict[str, tuple[float, int, int]]:
    """Per station: (scrap probability per finished operation, scrapped, finished)."""
    visits = history.visits
    finished = visits[visits["finish"].notna()].groupby("station").size()
    scrapped = visits[visits["scrap"].notna()].groupby("station").size()
    return {
        str(s): (float(scrapped.get(s, 0)) / int(n), int(scrapped.get(s, 0)), int(n)) for s, n in finished.items() if n
    }


def setups(history: History, family: dict[str, str]) -> dict[str, list[Fitted]]:
    """Per station with ``setup`` rows: fitted setup times per (from family, to family) with
    at least :data:`MIN_OWN_FIT` changes, the rest pooled as ``default``."""
    visits = history.visits
    with_setup = visits.groupby("station")["setup"].apply(lambda s: bool(s.notna().any()))
    found: dict[str, list[Fitted]] = {}
    for station in with_setup.index[with_setup.to_numpy()]:
        at = visits[(visits["station"] == station) & visits["start"].notna()].sort_values(["machine", "start"])
        fam = at["product"].map(lambda p: family.get(p, p)).to_numpy()
        same_machine = np.zeros(len(at), bool)
        same_machine[1:] = at["machine"].to_numpy()[1:] == at["machine"].to_numpy()[:-1]
        previous = np.where(same_machine, np.concatenate(([""], fam[:-1])), "")
        keys = machine_key(at["station"], at["machine"]).to_numpy()
        began = at["setup"].to_numpy(float)
        start = at["start"].to_numpy(float)
        has = ~np.isnan(began) & ~at["synthetic"].to_numpy()
        duration = np.zeros(len(at))
        duration[has] = start[has] - began[has] - downtime_between(history, keys[has], began[has], start[has])
        change = same_machine & ((previous != fam) | has)
        pairs = Counter(zip(previous[change], fam[change], strict=True))
        fits: list[Fitted] = []
        rest = np.zeros(len(at), bool)
        for (a, b), count in pairs.items():
            mine = change & (previous == a) & (fam == b)
            if count >= MIN_OWN_FIT:
                fits.append(
                    Fitted(f"stations.{station}.setup.matrix.{a}.{b}", fit_distribution(duration[mine]), duration[mine])
                )
            elif a != b:
                rest |= mine
        if rest.any():
            fits.append(
                Fitted(
                    f"stations.{station}.setup.default",
                    fit_distribution(duration[rest]),
                    duration[rest],
                    "pooled over rare changes",
                )
            )
        found[str(station)] = fits
    return found


@dataclass(frozen=True)
class BufferFinding:
    """What blocking into a station shows about its buffer."""

    capacity: int | None
    """Largest queue seen, when blocking occurred; None when it did not."""
    blocked: int
    """Jobs held upstream (on a machine, or at the entrance) for room at this station."""
    max_queue: int
    level_at_blocking: dict[int, int]
    """How often the queue stood at each level when a hold began."""


def _queue_levels(visits: pd.DataFrame, station: str) -> tuple[np.ndarray, np.ndarray]:
    """Times and queue lengths (jobs entered, not yet taken by a machine) at ``station``."""
    at = visits[visits["station"] == station]
    taken = at["setup"].fillna(at["start"]).to_numpy(float)
    enter = at["enter"].to_numpy(float)
    times = np.concatenate([enter[~np.isnan(enter)], taken[~np.isnan(taken) & ~np.isnan(enter)]])
    steps = np.concatenate([np.ones((~np.isnan(enter)).sum()), -np.ones((~np.isnan(taken) & ~np.isnan(enter)).sum())])
    order = np.lexsort((steps, times))  # at one instant, departures before arrivals
    return times[order], np.cumsum(steps[order])


def buffers(history: History) -> dict[str, BufferFinding]:
    """Per station: blocking into it and the buffer capacity it shows (see the module doc)."""
    visits = history.visits
    job = visits["job"].to_numpy()
    next_same = np.zeros(len(visits), bool)
    next_same[:-1] = job[1:] == job[:-1]
    next_station = np.concatenate((visits["station"].to_numpy()[1:], [""]))
    finish = visits["finish"].to_numpy(float)
    leave = visits["leave"].to_numpy(float)
    held = next_same & (leave - finish > _TIE * np.maximum(1.0, np.abs(finish)))
    first = ~np.concatenate(([False], next_same[:-1]))
    arrive = history.jobs["arrive"].reindex(visits["job"]).to_numpy(float)
    enter = visits["enter"].to_numpy(float)
    waited = first & (enter - arrive > _TIE * np.maximum(1.0, np.abs(enter)))
    holds = [(next_station[held], finish[held]), (visits["station"].to_numpy()[waited], arrive[waited])]
    found = {}
    for station in visits["station"].unique():
        times, levels = _queue_levels(visits, station)
        began = np.concatenate([t[s == station] for s, t in holds])
        max_queue = int(levels.max()) if len(levels) else 0
        if began.size == 0:
            found[str(station)] = BufferFinding(None, 0, max(max_queue, 0), {})
            continue
        i = np.searchsorted(times, began, side="right") - 1
        at_hold = np.where(i >= 0, levels[np.maximum(i, 0)], 0).astype(int)
        found[str(station)] = BufferFinding(max_queue, int(began.size), max_queue, dict(Counter(at_hold.tolist())))
    return found
