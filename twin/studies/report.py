"""A one-page HTML report of a comparison, for a manager to read, print or mail.

One self-contained file (no scripts, no external files; charts are inline SVG drawn with
Matplotlib): the verdict sentences, a card per KPI coloured by whether the change is good
for that KPI, the KPI table with 95% intervals and percent changes, and a bar chart per main
KPI. Printing it (or "Save as PDF" in a browser) gives one A4 page for up to a few runs.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from twin.measure.labels import finite, format_interval, format_number, kpi_label, kpi_unit
from twin.studies.verdicts import sentence

__all__ = ["EFFECT_COLORS", "comparison_report", "format_change"]

EFFECT_COLORS = {
    "better": "#1b7f3b",
    "worse": "#c62828",
    "changed": "#1f4e9a",
    "no significant change": "#8a8a8a",
    "n/a": "#8a8a8a",
    "baseline": "#8a8a8a",
}
"""Colour of a verdict: green when the change is good for the KPI, red when bad, grey when
not significant (blue: significant for a KPI without a good direction)."""

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 24px; max-width: 1000px; }
h1 { font-size: 20px; margin: 0 0 4px; } .meta { color: #666; font-size: 12px; margin-bottom: 12px; }
p.verdict { font-size: 15px; margin: 6px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.card { border: 2px solid; border-radius: 6px; padding: 6px 10px; min-width: 180px; flex: 1; }
.card .kpi { font-size: 12px; color: #555; } .card .value { font-size: 18px; font-weight: bold; }
.card .change { font-size: 13px; font-weight: bold; }
table { border-collapse: collapse; font-size: 12px; width: 100%; margin: 10px 0; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.charts svg { max-width: 100%; height: auto; } .notes { color: #666; font-size: 11px; }
@media print { body { margin: 8mm; } @page { size: A4; margin: 8mm; } }
"""


def format_change(row: Mapping[Any, Any], unit: str) -> str:
    """A change as people read it: ``+0.021 jobs/min (+4.2%, 95% CI +3.1 to +5.3%)``, the
    absolute change with its interval where a percent is undefined (a baseline of 0)."""
    diff, pct, low, high = (float(row[k]) for k in ("diff", "pct", "pct_low", "pct_high"))
    if not finite(diff):
        return "n/a"
    sign = "+" if diff > 0 else "-" if diff < 0 else "±"
    text = f"{sign}{format_number(abs(diff))} {unit}".rstrip()
    if finite(pct):
        interval = f", 95% CI {low:+.3g} to {high:+.3g}%" if finite(low) and finite(high) else ""
        return text + f" ({pct:+.3g}%{interval})"
    interval = format_interval(float(row["diff_low"]), float(row["diff_high"]))
    return text + (f" (95% CI {interval})" if interval else "")


def _chart(table: pd.DataFrame, kpis: Sequence[str], labels: dict[str, str], time_unit: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = list(dict.fromkeys(table["run_id"]))
    fig, axes = plt.subplots(1, len(kpis), figsize=(3.2 * len(kpis), 0.5 + 0.38 * len(runs) + 1.0), squeeze=False)
    for ax, kpi in zip(axes[0], kpis, strict=True):
        rows = table[table["kpi"] == kpi].set_index("run_id").loc[runs]
        means = rows["mean"].to_numpy(float)
        low = (means - rows["ci_low"].fillna(rows["mean"]).to_numpy(float)).clip(min=0)
        high = (rows["ci_high"].fillna(rows["mean"]).to_numpy(float) - means).clip(min=0)
        colors = [EFFECT_COLORS[str(e)] for e in rows["effect"]]
        ax.barh([labels.get(r, r)[:28] for r in runs], means, xerr=[low, high], color=colors, capsize=3)
        ax.set_title(kpi_label(kpi, time_unit), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.invert_yaxis()
        if ax is not axes[0][0]:
            ax.set_yticklabels([])
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg")
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]


def comparison_report(
    table: pd.DataFrame,
    labels: dict[str, str],
    kpis: Sequence[str],
    time_unit: str,
    title: str = "Comparison of runs",
    now: datetime | None = None,
) -> str:
    """The report as one HTML document.

    Args:
        table: a :func:`twin.studies.verdicts.verdict_table` (the first run is the baseline).
        labels: run id to the name shown.
        kpis: the KPIs to show, in order (the cards, the table and the charts).
    """
    runs = list(dict.fromkeys(table["run_id"]))
    shown = [k for k in kpis if k in set(table["kpi"])]
    escape = html.escape
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<div class='meta'>Baseline: {escape(labels.get(runs[0], runs[0]))} · {len(runs)} runs · made {stamp}</div>",
    ]
    for run in runs[1:]:
        parts.append(f"<p class='verdict'>{escape(sentence(table, run, labels, shown, time_unit))}</p>")
    if len(runs) > 1:
        parts.append("<div class='cards'>")
        rows = {str(r["kpi"]): r for r in table[table["run_id"] == runs[1]].to_dict("records")}
        for kpi in shown:
            row = rows[kpi]
            color = EFFECT_COLORS[str(row["effect"])]
            unit = kpi_unit(kpi, time_unit)
            parts.append(
                f"<div class='card' style='border-color:{color}'>"
                f"<div class='kpi'>{escape(kpi_label(kpi, time_unit))}</div>"
                f"<div class='value'>{escape(format_number(row['mean']))} {escape(unit)}</div>"
                f"<div class='change' style='color:{color}'>{escape(format_change(row, unit))}</div>"
                f"<div class='kpi'>{escape(str(row['effect']))}</div></div>"
            )
        parts.append("</div>")
    header = "".join(
        f"<th>{escape(labels.get(r, r))}{' (baseline)' if i == 0 else ''}</th>" for i, r in enumerate(runs)
    )
    header += "".join(f"<th>{escape(labels.get(r, r))}: change</th>" for r in runs[1:])
    parts.append(f"<table><tr><th>KPI</th>{header}</tr>")
    index = table.set_index(["kpi", "run_id"])
    for kpi in shown:
        unit = kpi_unit(kpi, time_unit)
        cells = []
        for r in runs:
            row = dict(index.loc[(kpi, r)])
            cells.append(f"{format_number(row['mean'])} {format_interval(row['ci_low'], row['ci_high'])}".strip())
        changes = []
        for r in runs[1:]:
            row = dict(index.loc[(kpi, r)])
            color = EFFECT_COLORS[str(row["effect"])]
            changes.append(f"<td style='color:{color}'>{escape(format_change(row, unit))}</td>")
        parts.append(
            f"<tr><td>{escape(kpi_label(kpi, time_unit))}</td>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells)
            + "".join(changes)
            + "</tr>"
        )
    parts.append("</table>")
    if shown:
        parts.append(f"<div class='charts'>{_chart(table, shown[:4], labels, time_unit)}</div>")
    parts.append(
        "<p class='notes'>Means over replications with 95% confidence intervals: Student-t, or on the log (logit "
        "for shares) scale where the t-interval would cross 0 (or 1). Changes against the baseline: paired over "
        "replications that share random numbers, otherwise Welch; percent changes from the log of the ratio of "
        "means. A change is significant when its 95% interval excludes 0 (the percent interval where the "
        "baseline is positive); green is good for that KPI, red bad, grey not significant.</p></body></html>"
    )
    return "\n".join(parts)
