"""Numbers for people: thousands separators, percentages, hours with one decimal.

Pure functions; units come in as arguments so the caller's language decides them.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

MISSING = "—"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def format_count(value: object) -> str:
    """12345 -> '12,345'."""
    return MISSING if _is_missing(value) else f"{round(float(value)):,}"  # type: ignore[arg-type]


def format_percent(share: object, decimals: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return MISSING if _is_missing(share) else f"{float(share) * 100:.{decimals}f}%"  # type: ignore[arg-type]


def format_hours(hours: object, unit: str) -> str:
    """3.456 -> '3.5 h' (unit 'h') or '3.5 小时'."""
    return MISSING if _is_missing(hours) else f"{float(hours):,.1f} {unit}"  # type: ignore[arg-type]


def format_count_change(now: object, before: object) -> str | None:
    """Signed change of a count, '+12' / '-3'; None when there is nothing to compare."""
    if _is_missing(now) or _is_missing(before):
        return None
    return f"{round(float(now) - float(before)):+,}"  # type: ignore[arg-type]


def format_share_change(now: object, before: object, unit: str) -> str | None:
    """Change of a share in percentage points, '+1.2 pp'."""
    if _is_missing(now) or _is_missing(before):
        return None
    points = (float(now) - float(before)) * 100  # type: ignore[arg-type]
    return f"{points:+.1f} {unit}"


def format_hours_change(now: object, before: object, unit: str) -> str | None:
    if _is_missing(now) or _is_missing(before):
        return None
    return f"{float(now) - float(before):+.1f} {unit}"  # type: ignore[arg-type]


def week_start(week: str) -> date:
    """Monday of an ISO week 'YYYY-Www'."""
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def week_label(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def previous_week(week: str) -> str:
    return week_label(week_start(week) - timedelta(days=7))


def trailing_weeks(week: str, count: int) -> list[str]:
    """The `count` ISO weeks ending with `week`, oldest first."""
    monday = week_start(week)
    return [week_label(monday - timedelta(days=7 * back)) for back in range(count - 1, -1, -1)]


def format_age(hours: object, hours_unit: str, minutes_unit: str) -> str:
    """How long ago, for people: '12 分钟' under an hour, else '3.5 小时'."""
    if _is_missing(hours):
        return MISSING
    if float(hours) < 1:  # type: ignore[arg-type]
        return f"{round(float(hours) * 60)} {minutes_unit}"  # type: ignore[arg-type]
    return format_hours(hours, hours_unit)


def format_size(size_bytes: object) -> str:
    if _is_missing(size_bytes):
        return MISSING
    size = float(size_bytes)  # type: ignore[arg-type]
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return MISSING  # unreachable; keeps type checkers calm
