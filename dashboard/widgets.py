"""Streamlit pieces the pages share: verdict cards, downloads, a deletion that asks first,
and the error a user sees instead of a traceback."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.exports import csv_bytes, excel_bytes, file_stem
from twin.measure.labels import format_number
from twin.studies.report import format_change

__all__ = ["DEBUG", "FRIENDLY", "confirm_delete", "downloads", "friendly_error", "short_change", "verdict_cards"]

FRIENDLY = "This page hit a problem it cannot handle"
"""How the error every page shows instead of a traceback begins."""

DEBUG = "TWIN_DASHBOARD_DEBUG"
"""Environment variable: set, errors are raised as they are (tests, development)."""


def friendly_error(error: Exception) -> None:
    """Show ``error`` as a short message for people, the traceback folded away for a bug
    report; re-raise it when :data:`DEBUG` is set."""
    if os.environ.get(DEBUG):
        raise error
    st.error(
        f"{FRIENDLY}: {type(error).__name__}: {error}. Nothing you stored was changed; "
        "try another selection or reload the page."
    )
    with st.expander("Details for a bug report"):
        st.code("".join(traceback.format_exception(error)), language="text")


_DELTA_COLOR = {"better": "normal", "worse": "normal", "changed": "off", "no significant change": "off", "n/a": "off"}


def verdict_cards(table: pd.DataFrame, run: str, kpis: Sequence[str], columns: int = 4) -> None:
    """One card (``st.metric``) per KPI for ``run`` against the baseline (rows of a
    :func:`dashboard.data.verdicts_table`): the run's mean, its change in the KPI's units and
    in percent with the 95% interval, green when good for the KPI, red when bad, grey when
    not significant."""
    rows = {str(r["kpi"]): r for r in table[table["run_id"] == run].to_dict("records")}
    shown = [k for k in kpis if k in rows]
    for start in range(0, len(shown), columns):
        cells = st.columns(columns)
        for cell, kpi in zip(cells, shown[start : start + columns], strict=False):
            row = rows[kpi]
            effect = str(row["effect"])
            # st.metric colours a rise green ("normal") or red ("inverse"): a rise is good
            # for KPIs that should go up, bad for those that should go down.
            color = _DELTA_COLOR.get(effect, "off")
            if color == "normal" and row["direction"] == "down":
                color = "inverse"
            cell.metric(
                str(row["kpi_label"]),
                format_number(row["mean"]),
                delta=short_change(row),
                delta_color=color,  # type: ignore[arg-type]
                border=True,
                help=f"{effect.capitalize()}. Change: {format_change(row, str(row['unit']))}. "
                f"Baseline: {format_number(row['baseline_mean'])} {row['unit']}.".replace(" .", "."),
            )


def short_change(row: Mapping[Any, Any]) -> str:
    """A change for a card: ``+0.021 (+4.2%)``; the 95% intervals are in its tooltip."""
    diff, pct = row["diff"], row["pct"]
    if not isinstance(diff, float) or diff != diff:
        return "n/a"
    text = f"{'+' if diff > 0 else '-' if diff < 0 else '±'}{format_number(abs(diff))}"
    return text + (f" ({pct:+.3g}%)" if isinstance(pct, float) and pct == pct else "")


def downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """Download buttons for ``frame``: CSV and Excel, named after ``name``, each made when
    clicked; a click does not rerun the page (nothing on it changes, and a rerun during the
    download could drop the file's request)."""
    stem = file_stem(name)
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "CSV",
        lambda: csv_bytes(frame),
        f"{stem}.csv",
        "text/csv",
        key=f"csv-{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Excel",
        lambda: excel_bytes({name: frame}),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx-{key}",
        icon=":material/download:",
        on_click="ignore",
    )


def confirm_delete(what: str, folders: Sequence[Path], action: Callable[[], None], key: str) -> None:
    """A delete button that asks first: ``Delete ...`` shows what goes and a confirmation;
    only ``Yes, delete`` calls ``action`` (an atomic store deletion)."""
    asked = f"confirm-{key}"
    if not st.session_state.get(asked):
        if st.button(f"Delete {what}", key=f"delete-{key}", icon=":material/delete:", disabled=not folders):
            st.session_state[asked] = True
            st.rerun()
        return
    st.warning(
        f"Delete {what}? This removes {len(folders)} folder(s) from the run store for good: "
        + ", ".join(f"`{f.name}`" for f in folders[:5])
        + (f" and {len(folders) - 5} more" if len(folders) > 5 else "")
    )
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Yes, delete", key=f"yes-{key}", type="primary"):
        action()
        st.session_state[asked] = False
        st.rerun()
    if no.button("Cancel", key=f"no-{key}"):
        st.session_state[asked] = False
        st.rerun()
