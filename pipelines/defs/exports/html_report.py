"""The merchant's HTML report: one self-contained file (Plotly inlined) that opens offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from pipelines import settings
from pipelines.defs.exports.report_data import MerchantWeek
from pipelines.defs.exports.translations import Catalogue
from pipelines.defs.exports.workbook import (
    KPI_ROWS,
    Column,
    action_columns,
    exception_columns,
    recurring_columns,
)

_STYLE = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .note { color: #666; font-style: italic; }
table { border-collapse: collapse; margin: 1rem 0 2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #ddebf7; } td.number { text-align: right; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; } .charts > div { flex: 1 1 480px; }
"""


def family_chart(report: MerchantWeek, words: Catalogue) -> go.Figure:
    """Exceptions per family, this week against last week."""
    families = report.exceptions_by_family
    labels = [words.label(family) for family in families["family"]]
    figure = go.Figure(
        [
            go.Bar(name=words.text("this_week"), x=labels, y=families["this_week"].tolist()),
            go.Bar(name=words.text("last_week"), x=labels, y=families["last_week"].tolist()),
        ]
    )
    figure.update_layout(
        title=words.text("by_family"),
        barmode="group",
        yaxis_title=words.text("exceptions"),
        template="plotly_white",
        height=420,
    )
    return figure


def trend_chart(report: MerchantWeek, words: Catalogue) -> go.Figure:
    """The share of orders with an exception over the last weeks."""
    trend = report.kpis_by_week
    figure = go.Figure(
        go.Scatter(
            x=trend["week"].tolist(),
            y=trend["exception_rate"].fillna(0).tolist(),
            mode="lines+markers",
            name=words.text("exception_rate"),
        )
    )
    figure.update_layout(
        title=words.text("trend"), yaxis_tickformat=".0%", template="plotly_white", height=420
    )
    return figure


def write_html(report: MerchantWeek, words: Catalogue, path: Path) -> None:
    timezone_note = words.text("timezone_note", timezone=settings.reporting_timezone())
    charts = [
        # Plotly's JavaScript goes inline once, with the first chart, so the file works offline.
        family_chart(report, words).to_html(
            full_html=False, include_plotlyjs=True, div_id="chart-families"
        ),
        trend_chart(report, words).to_html(
            full_html=False, include_plotlyjs=False, div_id="chart-trend"
        ),
    ]
    title = f"{words.text('title')} · {report.merchant.merchant_name} · {report.week}"
    body = "\n".join(
        [
            f"<h1>{escape(words.text('title'))}</h1>",
            f"<p>{escape(words.text('merchant'))}: <strong>"
            f"{escape(report.merchant.merchant_name)}</strong> · {escape(words.text('week'))}: "
            f"{escape(report.week)}</p>",
            f"<p class='note'>{escape(timezone_note)}</p>",
            _kpi_table(report, words),
            "<div class='charts'>" + "".join(f"<div>{chart}</div>" for chart in charts) + "</div>",
            f"<h2>{escape(words.text('sheet_exceptions'))}</h2>",
            _table(report.exceptions, exception_columns(words), words),
            f"<h2>{escape(words.text('sheet_recurring'))}</h2>",
            _table(report.recurring_issues, recurring_columns(words), words),
            f"<h2>{escape(words.text('sheet_actions'))}</h2>",
            _table(report.suggested_actions, action_columns(words), words),
        ]
    )
    page = (
        f"<!DOCTYPE html>\n<html lang='{words.language}'>\n<head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")


def _kpi_table(report: MerchantWeek, words: Catalogue) -> str:
    this_week, last_week = report.kpis(report.week), report.kpis(report.last_week)
    rows = []
    for key, kind in KPI_ROWS:
        now, before = this_week[key], last_week[key]
        change = None if now is None or before is None else now - before
        cells = [
            _format_kpi(now, kind),
            _format_kpi(before, kind),
            _format_change(change, kind, words),
        ]
        rows.append(
            f"<tr><th>{escape(words.text(key))}</th>"
            + "".join(f"<td class='number'>{cell}</td>" for cell in cells)
            + "</tr>"
        )
    header = "".join(
        f"<th>{escape(words.text(key))}</th>" for key in ("kpi", "this_week", "last_week", "change")
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _format_kpi(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if kind == "count" else f"{value:.1%}"


def _format_change(change: float | None, kind: str, words: Catalogue) -> str:
    """Counts change by a number, rates by percentage points (10% → 12% is +2.0 pp)."""
    if change is None:
        return "–"
    if kind == "count":
        return f"{change:+,.0f}"
    return f"{change * 100:+.1f} {escape(words.text('points'))}"


def _table(frame: pd.DataFrame, columns: Sequence[Column], words: Catalogue) -> str:
    records = frame.to_dict("records")
    if not records:
        return f"<p class='note'>{escape(words.text('no_rows'))}</p>"
    header = "".join(f"<th>{escape(words.text(column.header))}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(_cell(column.value(record), column.kind) for column in columns) + "</tr>"
        for record in records
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any, kind: str) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return "<td></td>"
    if kind == "datetime":
        return f"<td>{pd.Timestamp(value):%Y-%m-%d %H:%M}</td>"
    if kind == "int":
        return f"<td class='number'>{int(value):,}</td>"
    if kind == "number":
        return f"<td class='number'>{float(value):,.1f}</td>"
    return f"<td>{escape(str(value))}</td>"
