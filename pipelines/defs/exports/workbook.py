"""The merchant's Excel workbook: summary with charts, the week's exceptions, recurring
issues and suggested actions. Excel is what merchants open first, so charts are native
Excel charts that read the visible cells of the summary sheet (no hidden data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines import settings
from pipelines.defs.exports.naming import week_monday
from pipelines.defs.exports.report_data import LATE_RISK_THRESHOLD, MerchantWeek
from pipelines.defs.exports.translations import Catalogue

# (key, kind): counts compare by difference, rates by percentage points.
KPI_ROWS: tuple[tuple[str, str], ...] = (
    ("orders", "count"),
    ("orders_with_exception", "count"),
    ("exceptions", "count"),
    ("exception_rate", "rate"),
    ("open_exceptions", "count"),
    ("overdue_exceptions", "count"),
    ("sla_met_share", "rate"),
    ("success_rate", "rate"),
    ("recurrence_rate", "rate"),
    ("special_requests", "count"),
)


@dataclass(frozen=True)
class Column:
    """One column of a sheet: header key, how to read a row, and how to write the cell."""

    header: str
    value: Callable[[dict[str, Any]], Any]
    kind: str = "text"  # text | int | number | datetime | date | percent
    width: int = 14


def exception_status(row: dict[str, Any], words: Catalogue) -> str:
    if row["is_overdue"]:
        return words.text("overdue")
    return words.text("open") if row["is_open"] else words.text("closed")


def yes_no(value: Any, words: Catalogue) -> str:
    if value is None or value != value:
        return ""
    return words.text("yes") if value else words.text("no")


def exception_columns(words: Catalogue) -> list[Column]:
    return [
        Column("order_id", lambda r: r["order_id"], width=18),
        Column("exception_type", lambda r: words.label(r["exception_type"]), width=20),
        Column("family", lambda r: words.label(r["family"])),
        Column("priority", lambda r: r["priority"], width=8),
        Column("owner_team", lambda r: words.label(r["owner_team"])),
        Column("placed_at", lambda r: r["placed_at"], "datetime", 17),
        Column("detected_at", lambda r: r["detected_at"], "datetime", 17),
        Column("resolved_at", lambda r: r["resolved_at"], "datetime", 17),
        Column("resolution", lambda r: words.label(r["resolution"])),
        Column("handling_hours", lambda r: r["handling_hours"], "number", 12),
        Column("is_within_sla", lambda r: yes_no(r["is_within_sla"], words), width=10),
        Column("status", lambda r: exception_status(r, words), width=10),
        Column(
            "suggested_action",
            lambda r: words.action(r["root_cause"], r["suggested_action"]),
            width=40,
        ),
    ]


def recurring_columns(words: Catalogue) -> list[Column]:
    return [
        Column("key_type", lambda r: words.label(r["key_type"]), width=16),
        Column("recurrence_key", lambda r: r["recurrence_label"], width=30),
        Column("family", lambda r: words.label(r["family"])),
        Column("exception_type", lambda r: words.label(r["exception_type"]), width=20),
        Column("occurrences", lambda r: r["occurrences"], "int", 10),
        Column("first_detected_at", lambda r: r["first_detected_at"], "datetime", 17),
        Column("last_detected_at", lambda r: r["last_detected_at"], "datetime", 17),
        Column("last_week_seen", lambda r: r["last_week"], width=10),
    ]


def action_columns(words: Catalogue) -> list[Column]:
    return [
        Column("exception_type", lambda r: words.label(r["exception_type"]), width=20),
        Column("family", lambda r: words.label(r["family"])),
        Column("kind", lambda r: words.label(r["kind"])),
        Column("priority", lambda r: r["priority"], width=8),
        Column("owner_team", lambda r: words.label(r["owner_team"])),
        Column("exceptions", lambda r: r["exceptions"], "int", 10),
        Column("open_exceptions", lambda r: r["open_exceptions"], "int", 10),
        Column("overdue_exceptions", lambda r: r["overdue_exceptions"], "int", 10),
        Column("root_cause", lambda r: words.label(r["root_cause"]), width=30),
        Column(
            "suggested_action",
            lambda r: words.action(r["root_cause"], r["suggested_action"]),
            width=40,
        ),
    ]


def coverage_columns(words: Catalogue) -> list[Column]:
    return [
        Column("exception_type", lambda r: words.label(r["exception_type"]), width=20),
        Column("family", lambda r: words.label(r["family"])),
        Column("orders", lambda r: r["orders"], "int", 10),
        Column("orders_assessed", lambda r: r["orders_assessed"], "int", 12),
        Column("assessed_share", lambda r: r["assessed_share"], "percent", 12),
    ]


def risk_order_columns(words: Catalogue) -> list[Column]:
    return [
        Column("order_id", lambda r: r["order_id"], width=18),
        Column("placed_at", lambda r: r["placed_at"], "datetime", 17),
        Column("risk_type", lambda r: words.label(r["risk_type"]), width=16),
        Column("stage", lambda r: words.label(r["stage"]), width=12),
        Column("route", lambda r: r["route"], width=24),
        Column("carrier", lambda r: words.label(r["carrier"]), width=12),
        Column("due_at", lambda r: r["due_at"], "datetime", 17),
        Column("late_probability", lambda r: r["late_probability"], "percent", 12),
        Column("owner_team", lambda r: words.label(r["owner_team"])),
        Column(
            "suggested_action",
            lambda r: words.risk_action(r["risk_type"]),
            width=40,
        ),
    ]


def risk_sku_columns(words: Catalogue) -> list[Column]:
    return [
        Column("sku", lambda r: r["sku"], width=16),
        Column("warehouse", lambda r: r["warehouse_id"], width=12),
        Column("available", lambda r: r["available"], "int", 10),
        Column("forecast_daily_demand", lambda r: r["forecast_daily_demand"], "number", 12),
        Column("days_of_cover", lambda r: r["days_of_cover"], "number", 10),
        Column("lead_time_days", lambda r: r["lead_time_days"], "number", 10),
        Column("expected_stockout_date", lambda r: r["expected_stockout_date"], "date", 14),
        Column("stockout_probability", lambda r: r["stockout_probability"], "percent", 12),
        Column("open_orders", lambda r: r["open_orders"], "int", 10),
        Column("expected_orders", lambda r: r["expected_orders"], "number", 10),
        Column("owner_team", lambda r: words.label(r["owner_team"])),
        Column(
            "suggested_action",
            lambda r: words.risk_action(r["risk_type"]),
            width=40,
        ),
    ]


def risk_notes(report: MerchantWeek, words: Catalogue) -> list[str]:
    """What the risk section says before its lists (or instead of them)."""
    risk = report.risk
    if not risk.scored:
        return [words.text("risk_no_history")]
    as_of = f"{risk.as_of:%Y-%m-%d %H:%M}"
    if not risk.is_next_week:
        return [words.text("risk_other_week", as_of=as_of)]
    model = risk.model_version or "–"
    return [words.text("risk_as_of", as_of=as_of, model=model), words.text("risk_note")]


def risk_lists(
    report: MerchantWeek, words: Catalogue
) -> list[tuple[str, str, pd.DataFrame, list[Column], str]]:
    """The risk section's lists: (name, title, rows, columns, what to say instead when
    empty); none when there is no risk to show for the week after the report's."""
    risk = report.risk
    if not risk.scored or not risk.is_next_week:
        return []
    threshold = f"{LATE_RISK_THRESHOLD:.0%}"
    return [
        (
            "risk_orders",
            words.text("risk_orders", threshold=threshold),
            risk.orders.rows,
            risk_order_columns(words),
            words.text("risk_no_orders", threshold=threshold)
            if risk.orders.scored
            else words.text("risk_orders_no_history"),
        ),
        (
            "risk_skus",
            words.text("risk_skus"),
            risk.skus.rows,
            risk_sku_columns(words),
            words.text("risk_no_skus") if risk.skus.scored else words.text("risk_skus_no_history"),
        ),
    ]


def glossary(words: Catalogue) -> pd.DataFrame:
    """Each KPI of the summary with what it counts, in the merchant's language."""
    keys = [key for key, _ in KPI_ROWS]
    return pd.DataFrame(
        {"kpi": [words.kpi(key) for key in keys], "definition": [words.definition(k) for k in keys]}
    )


def glossary_columns(words: Catalogue) -> list[Column]:
    return [
        Column("kpi", lambda r: r["kpi"], width=24),
        Column("definition", lambda r: r["definition"], width=90),
    ]


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook, words: Catalogue) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.note = book.add_format({"italic": True, "font_color": "#595959"})
        self.warning = book.add_format({"bold": True, "font_color": "#9C5700"})
        self.int = book.add_format({"num_format": "#,##0"})
        self.number = book.add_format({"num_format": "0.0"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.subtitle = book.add_format({"bold": True, "font_size": 12})
        self.change_count = book.add_format({"num_format": "+#,##0;-#,##0;0"})
        # Rates change by percentage points; the cell holds points (2.0 for 10% → 12%).
        points = words.text("points")
        self.change_rate = book.add_format(
            {"num_format": f'+0.0" {points}";-0.0" {points}";0.0" {points}"'}
        )


def write_workbook(report: MerchantWeek, words: Catalogue, path: Path) -> dict[str, int]:
    """Write the workbook; return the row count of each data sheet for the manifest."""
    book = xlsxwriter.Workbook(
        str(path),
        {
            # Merchant-supplied text must stay text: '=cmd|...' in a name is not a formula.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    # A fixed creation time keeps a re-export byte-identical to the first export.
    created = datetime.combine(week_monday(report.week), datetime.min.time())
    book.set_properties({"title": f"{words.text('title')} {report.week}", "created": created})
    formats = _Formats(book, words)
    _write_summary(book.add_worksheet(words.text("sheet_summary")), book, report, words, formats)
    rows = {
        "exceptions": _write_sheet(
            book,
            words.text("sheet_exceptions"),
            report.exceptions,
            exception_columns(words),
            words,
            formats,
        ),
        "recurring_issues": _write_sheet(
            book,
            words.text("sheet_recurring"),
            report.recurring_issues,
            recurring_columns(words),
            words,
            formats,
        ),
        "suggested_actions": _write_sheet(
            book,
            words.text("sheet_actions"),
            report.suggested_actions,
            action_columns(words),
            words,
            formats,
        ),
        **_write_risk_sheet(book, report, words, formats),
        "coverage": _write_sheet(
            book,
            words.text("sheet_coverage"),
            report.coverage,
            coverage_columns(words),
            words,
            formats,
            note=words.text("coverage_note"),
        ),
    }
    _write_sheet(
        book, words.text("sheet_glossary"), glossary(words), glossary_columns(words), words, formats
    )
    book.close()
    return rows


def _write_summary(
    sheet: Worksheet,
    book: xlsxwriter.Workbook,
    report: MerchantWeek,
    words: Catalogue,
    formats: _Formats,
) -> None:
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 3, 13)
    sheet.write_string(0, 0, words.text("title"), formats.title)
    sheet.write_string(1, 0, words.text("merchant"))
    sheet.write_string(1, 1, report.merchant.merchant_name)
    sheet.write_string(2, 0, words.text("week"))
    sheet.write_string(2, 1, report.week)
    sheet.write_string(
        3, 0, words.text("timezone_note", timezone=settings.reporting_timezone()), formats.note
    )

    if report.is_provisional:
        sheet.write_string(
            4,
            0,
            words.text("provisional_note", share=f"{report.share_visible:.0%}"),
            formats.warning,
        )
    this_week, last_week = report.kpis(report.week), report.kpis(report.last_week)
    top = 6
    _write_headers(sheet, top, ["kpi", "this_week", "last_week", "change"], words, formats)
    for offset, (key, kind) in enumerate(KPI_ROWS, start=1):
        row = top + offset
        value_format = formats.int if kind == "count" else formats.percent
        change_format = formats.change_count if kind == "count" else formats.change_rate
        sheet.write_string(row, 0, words.text(key))
        _write_value(sheet, row, 1, this_week[key], value_format)
        _write_value(sheet, row, 2, last_week[key], value_format)
        if this_week[key] is not None and last_week[key] is not None:
            change = this_week[key] - last_week[key]
            sheet.write_number(row, 3, change if kind == "count" else change * 100, change_format)

    family_top = top + len(KPI_ROWS) + 2
    _write_headers(sheet, family_top, ["family", "this_week", "last_week"], words, formats)
    families = report.exceptions_by_family.to_dict("records")
    for offset, family in enumerate(families, start=1):
        sheet.write_string(family_top + offset, 0, words.label(family["family"]))
        sheet.write_number(family_top + offset, 1, int(family["this_week"]), formats.int)
        sheet.write_number(family_top + offset, 2, int(family["last_week"]), formats.int)

    trend_top = family_top + max(len(families), 1) + 2
    _write_headers(
        sheet, trend_top, ["week", "orders", "exceptions", "exception_rate"], words, formats
    )
    trend = report.kpis_by_week.to_dict("records")
    for offset, week in enumerate(trend, start=1):
        row = trend_top + offset
        sheet.write_string(row, 0, week["week"])
        sheet.write_number(row, 1, int(week["orders"]), formats.int)
        sheet.write_number(row, 2, int(week["exceptions"]), formats.int)
        _write_value(sheet, row, 3, week["exception_rate"], formats.percent)

    name = sheet.get_name()
    if families:
        chart = book.add_chart({"type": "column"})
        for column, key in ((1, "this_week"), (2, "last_week")):
            chart.add_series(
                {
                    "name": words.text(key),
                    "categories": [name, family_top + 1, 0, family_top + len(families), 0],
                    "values": [name, family_top + 1, column, family_top + len(families), column],
                }
            )
        chart.set_title({"name": words.text("by_family")})
        chart.set_y_axis({"name": words.text("exceptions")})
        sheet.insert_chart(top, 5, chart)
    trend_chart = book.add_chart({"type": "line"})
    trend_chart.add_series(
        {
            "name": words.text("exception_rate"),
            "categories": [name, trend_top + 1, 0, trend_top + len(trend), 0],
            "values": [name, trend_top + 1, 3, trend_top + len(trend), 3],
            "marker": {"type": "circle"},
        }
    )
    trend_chart.set_title({"name": words.text("trend")})
    trend_chart.set_y_axis({"num_format": "0%", "min": 0})  # a rate's axis starts at zero
    trend_chart.set_legend({"none": True})
    sheet.insert_chart(top + 16, 5, trend_chart)


def _write_risk_sheet(
    book: xlsxwriter.Workbook, report: MerchantWeek, words: Catalogue, formats: _Formats
) -> dict[str, int]:
    """At risk next week: a note on what the figures mean, then the merchant's top open
    orders and SKUs at risk, each under its title. Returns the rows of each list."""
    sheet = book.add_worksheet(words.text("sheet_risk"))
    sheet.write_string(0, 0, words.text("sheet_risk"), formats.title)
    row = 1
    for note in risk_notes(report, words):
        sheet.write_string(row, 0, note, formats.note)
        row += 1
    widths: dict[int, int] = {}
    cell_formats = _cell_formats(formats)
    counts = {"risk_orders": 0, "risk_skus": 0}
    for name, title, frame, columns, empty in risk_lists(report, words):
        row += 1
        sheet.write_string(row, 0, title, formats.subtitle)
        row += 1
        records = frame.to_dict("records")
        if not records:
            sheet.write_string(row, 0, empty, formats.note)
            row += 1
            continue
        _write_headers(sheet, row, [column.header for column in columns], words, formats)
        for index, column in enumerate(columns):
            widths[index] = max(widths.get(index, 0), column.width)
        for record in records:
            row += 1
            for index, column in enumerate(columns):
                _write_cell(sheet, row, index, column.value(record), column.kind, cell_formats)
        counts[name] = len(records)
        row += 1
    for index, width in widths.items():
        sheet.set_column(index, index, width)
    return counts


def _cell_formats(formats: _Formats) -> dict:
    return {
        "int": formats.int,
        "number": formats.number,
        "percent": formats.percent,
        "datetime": formats.datetime,
        "date": formats.date,
    }


def _write_sheet(
    book: xlsxwriter.Workbook,
    title: str,
    frame: pd.DataFrame,
    columns: Sequence[Column],
    words: Catalogue,
    formats: _Formats,
    note: str | None = None,
) -> int:
    sheet = book.add_worksheet(title)
    _write_headers(sheet, 0, [column.header for column in columns], words, formats)
    if note:
        sheet.write_string(len(frame) + 2, 0, note, formats.note)
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
    records = frame.to_dict("records")
    if not records:
        sheet.write_string(1, 0, words.text("no_rows"), formats.note)
        return 0
    cell_formats = _cell_formats(formats)
    for row_number, record in enumerate(records, start=1):
        for index, column in enumerate(columns):
            _write_cell(sheet, row_number, index, column.value(record), column.kind, cell_formats)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, len(records), len(columns) - 1)
    return len(records)


def _write_headers(
    sheet: Worksheet, row: int, keys: Sequence[str], words: Catalogue, formats: _Formats
) -> None:
    for column, key in enumerate(keys):
        sheet.write_string(row, column, words.text(key), formats.header)


def _write_value(sheet: Worksheet, row: int, column: int, value: float | None, cell_format) -> None:
    if value is not None and value == value:
        sheet.write_number(row, column, value, cell_format)


def _write_cell(
    sheet: Worksheet, row: int, column: int, value: Any, kind: str, cell_formats: dict
) -> None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return
    if kind == "text":
        sheet.write_string(row, column, str(value))
    elif kind in ("datetime", "date"):
        sheet.write_datetime(row, column, pd.Timestamp(value).to_pydatetime(), cell_formats[kind])
    else:
        sheet.write_number(row, column, float(value), cell_formats.get(kind))
