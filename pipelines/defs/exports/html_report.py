"""The merchant's HTML report: one small self-contained file that opens offline and reads on
a phone (charts are inline SVG, tables scroll sideways inside their own box)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import settings
from pipelines.defs.exports import svg_charts
from pipelines.defs.exports.report_data import MerchantWeek
from pipelines.defs.exports.translations import Catalogue
from pipelines.defs.exports.workbook import (
    KPI_ROWS,
    Column,
    action_columns,
    coverage_columns,
    exception_columns,
    glossary,
    glossary_columns,
    recurring_columns,
    risk_lists,
    risk_notes,
)

_STYLE = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 1rem auto; padding: 0 1rem; max-width: 1100px; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.4rem; }
.note { color: #666; font-style: italic; }
.warning { background: #fff4ce; border-left: 4px solid #e0a800; padding: 0.5rem 0.8rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0.8rem 0 1.5rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #ddebf7; } td.number { text-align: right; white-space: nowrap; }
td { max-width: 24rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.charts > figure { flex: 1 1 320px; margin: 0; }
/* a phone: tables keep their natural width and scroll sideways in their box, long texts wrap */
@media (max-width: 600px) {
  body { font-size: 15px; } th, td { padding: 0.25rem 0.4rem; }
  .scroll table { width: max-content; } td { max-width: 15rem; }
}
"""


def family_chart(report: MerchantWeek, words: Catalogue) -> str:
    """Exceptions per family, this week against last week."""
    families = report.exceptions_by_family
    return svg_charts.grouped_bars(
        words.text("by_family"),
        [words.label(family) for family in families["family"]],
        [
            svg_charts.Series(
                words.text("this_week"), families["this_week"].tolist(), svg_charts.THIS_WEEK
            ),
            svg_charts.Series(
                words.text("last_week"), families["last_week"].tolist(), svg_charts.LAST_WEEK
            ),
        ],
        label=lambda value: f"{value:,.0f}",
    )


def trend_chart(report: MerchantWeek, words: Catalogue) -> str:
    """The share of orders with an exception over the last weeks, on an axis from zero."""
    trend = report.kpis_by_week
    rates = [None if pd.isna(rate) else float(rate) for rate in trend["exception_rate"]]
    return svg_charts.line(
        words.text("trend"),
        trend["week"].tolist(),
        svg_charts.Series(words.text("exception_rate"), rates, svg_charts.THIS_WEEK),
        label=lambda value: f"{value:.1%}",
        axis_label=svg_charts.percent_tick,
    )


def write_html(report: MerchantWeek, words: Catalogue, path: Path) -> None:
    timezone_note = words.text("timezone_note", timezone=settings.reporting_timezone())
    title = f"{words.text('title')} · {report.merchant.merchant_name} · {report.week}"
    provisional = ""
    if report.is_provisional:
        note = words.text("provisional_note", share=f"{report.share_visible:.0%}")
        provisional = f"<p class='warning'>{escape(note)}</p>"
    body = "\n".join(
        [
            f"<h1>{escape(words.text('title'))}</h1>",
            f"<p>{escape(words.text('merchant'))}: <strong>"
            f"{escape(report.merchant.merchant_name)}</strong> · {escape(words.text('week'))}: "
            f"{escape(report.week)}</p>",
            f"<p class='note'>{escape(timezone_note)}</p>",
            provisional,
            _scroll(_kpi_table(report, words)),
            "<div class='charts'>"
            f"<figure id='chart-families'>{family_chart(report, words)}</figure>"
            f"<figure id='chart-trend'>{trend_chart(report, words)}</figure></div>",
            f"<h2>{escape(words.text('sheet_exceptions'))}</h2>",
            _table(report.exceptions, exception_columns(words), words),
            f"<h2>{escape(words.text('sheet_recurring'))}</h2>",
            _table(report.recurring_issues, recurring_columns(words), words),
            f"<h2>{escape(words.text('sheet_actions'))}</h2>",
            _table(report.suggested_actions, action_columns(words), words),
            *_risk(report, words),
            *_coverage(report, words),
            f"<h2>{escape(words.text('sheet_glossary'))}</h2>",
            _table(glossary(words), glossary_columns(words), words),
        ]
    )
    page = (
        f"<!DOCTYPE html>\n<html lang='{words.language}'>\n<head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")


def _risk(report: MerchantWeek, words: Catalogue) -> list[str]:
    """At risk next week: what the figures mean, then the top open orders and SKUs."""
    parts = [f"<h2 id='risk'>{escape(words.text('sheet_risk'))}</h2>"]
    parts += [f"<p class='note'>{escape(note)}</p>" for note in risk_notes(report, words)]
    for _, title, frame, columns, empty in risk_lists(report, words):
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(
            _table(frame, columns, words) if len(frame) else f"<p class='note'>{escape(empty)}</p>"
        )
    return parts


def _coverage(report: MerchantWeek, words: Catalogue) -> list[str]:
    """Only when some rule could not judge all of the merchant's orders."""
    if report.coverage.empty:
        return []
    return [
        f"<h2>{escape(words.text('sheet_coverage'))}</h2>",
        f"<p class='note'>{escape(words.text('coverage_note'))}</p>",
        _table(report.coverage, coverage_columns(words), words),
    ]


def _scroll(table: str) -> str:
    return f"<div class='scroll'>{table}</div>"


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
    return _scroll(f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>")


def _cell(value: Any, kind: str) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return "<td></td>"
    if kind == "datetime":
        return f"<td>{pd.Timestamp(value):%Y-%m-%d %H:%M}</td>"
    if kind == "date":
        return f"<td>{pd.Timestamp(value):%Y-%m-%d}</td>"
    if kind == "percent":
        return f"<td class='number'>{float(value):.1%}</td>"
    if kind == "int":
        return f"<td class='number'>{int(value):,}</td>"
    if kind == "number":
        return f"<td class='number'>{float(value):,.1f}</td>"
    return f"<td>{escape(str(value))}</td>"
