"""The merchant HTML report's charts as inline SVG.

A chart of a dozen bars needs a few kilobytes of SVG, not Plotly's 4.6 MB of JavaScript; it
opens offline, prints, scales to a phone's width (viewBox) and needs no script at all.
Value axes start at zero, so a rate that moves from 4% to 6% does not look like it tripled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Drawn small and scaled up: on a phone's 360 px a 480-unit chart keeps its text readable.
WIDTH, HEIGHT = 480, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 52, 60
THIS_WEEK, LAST_WEEK = "#1f5fa8", "#a6c4e5"
AXIS, GRID, TEXT = "#555", "#e3e3e3", "#222"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str


def percent_tick(value: float) -> str:
    """An axis tick as a percentage with only the decimals it has: 0%, 2%, 0.5%."""
    return f"{round(value * 100, 6):g}%"


def nice_ticks(highest: float, wanted: int = 5) -> list[float]:
    """Round tick values from 0 to at least `highest` (steps of 1, 2 or 5 × 10^n)."""
    if not highest or highest <= 0 or not math.isfinite(highest):
        highest = 1.0
    rough = highest / wanted
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    count = math.ceil(highest / step - 1e-9)
    return [round(step * i, 12) for i in range(count + 1)]


def _frame(title: str, body: list[str], legend: Sequence[Series] = ()) -> str:
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' "
        f"width='100%' role='img' aria-label='{escape(title, quote=True)}' "
        "style='max-width:640px;font-family:inherit'>",
        f"<title>{escape(title)}</title>",
        f"<text x='{LEFT}' y='22' font-size='15' font-weight='600' fill='{TEXT}'>"
        f"{escape(title)}</text>",
    ]
    x = WIDTH - RIGHT
    for series in reversed(legend):  # right-aligned, in reading order
        label_width = 14 + 7 * _display_length(series.name)
        x -= label_width + 12
        parts.append(
            f"<rect x='{x:.1f}' y='30' width='10' height='10' fill='{series.colour}'/>"
            f"<text x='{x + 14:.1f}' y='39' font-size='12' fill='{TEXT}'>"
            f"{escape(series.name)}</text>"
        )
    return "".join([*parts, *body, "</svg>"])


def _display_length(text: str) -> float:
    """Width in Latin characters: a CJK character is about two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _value_axis(ticks: list[float], label: Callable[[float], str]) -> tuple[list[str], Callable]:
    plot_height = HEIGHT - TOP - BOTTOM

    def y_of(value: float) -> float:
        return HEIGHT - BOTTOM - plot_height * (value / ticks[-1])

    lines = []
    for tick in ticks:
        y = y_of(tick)
        lines.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' "
            f"stroke='{GRID if tick else AXIS}'/>"
            f"<text x='{LEFT - 6}' y='{y + 4:.1f}' font-size='12' text-anchor='end' "
            f"fill='{AXIS}'>{escape(label(tick))}</text>"
        )
    return lines, y_of


def _category_labels(categories: Sequence[str], centre: Callable[[int], float]) -> list[str]:
    # Long names tilt so that neighbours never overlap on a narrow chart.
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    tilt = any(_display_length(c) * 7 > slot for c in categories)
    labels = []
    for index, category in enumerate(categories):
        x, y = centre(index), HEIGHT - BOTTOM + 16
        if tilt:
            labels.append(
                f"<text x='{x:.1f}' y='{y:.1f}' font-size='12' text-anchor='end' "
                f"transform='rotate(-30 {x:.1f} {y:.1f})' fill='{TEXT}'>"
                f"{escape(category)}</text>"
            )
        else:
            labels.append(
                f"<text x='{x:.1f}' y='{y:.1f}' font-size='12' text-anchor='middle' "
                f"fill='{TEXT}'>{escape(category)}</text>"
            )
    return labels


def grouped_bars(title: str, categories: Sequence[str], series: Sequence[Series], label=str) -> str:
    """Bars per category, one per series side by side, each with its value above it."""
    values = [v or 0 for s in series for v in s.values]
    ticks = nice_ticks(max(values, default=0))
    body, y_of = _value_axis(ticks, label)
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    bar = min(36.0, slot * 0.8 / max(len(series), 1))

    def centre(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    for index in range(len(categories)):
        start = centre(index) - bar * len(series) / 2
        for position, one in enumerate(series):
            value = one.values[index] or 0
            x, y = start + bar * position, y_of(value)
            body.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar - 2:.1f}' "
                f"height='{HEIGHT - BOTTOM - y:.1f}' fill='{one.colour}'>"
                f"<title>{escape(one.name)}: {escape(label(value))}</title></rect>"
                f"<text x='{x + (bar - 2) / 2:.1f}' y='{y - 4:.1f}' font-size='11' "
                f"text-anchor='middle' fill='{TEXT}'>{escape(label(value))}</text>"
            )
    body += _category_labels(categories, centre)
    return _frame(title, body, series)


def line(title: str, categories: Sequence[str], series: Series, label=str, axis_label=None) -> str:
    """One line over the categories (weeks), a point and its value at each; gaps stay gaps."""
    present = [v for v in series.values if v is not None]
    ticks = nice_ticks(max(present, default=0))
    body, y_of = _value_axis(ticks, axis_label or label)
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)

    def centre(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    points = [
        (centre(index), y_of(value), value)
        for index, value in enumerate(series.values)
        if value is not None
    ]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        body.append(
            f"<polyline points='{path}' fill='none' stroke='{series.colour}' stroke-width='2'/>"
        )
    for x, y, value in points:
        body.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{series.colour}'>"
            f"<title>{escape(label(value))}</title></circle>"
            f"<text x='{x:.1f}' y='{y - 8:.1f}' font-size='11' text-anchor='middle' "
            f"fill='{TEXT}'>{escape(label(value))}</text>"
        )
    body += _category_labels(categories, centre)
    return _frame(title, body)
