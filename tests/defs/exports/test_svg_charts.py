"""The merchant HTML's charts: axes from zero, values a person can read, text that stays text."""

from __future__ import annotations

import re

import pytest

from pipelines.defs.exports import svg_charts


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [
        (0.061, [0, 0.02, 0.04, 0.06, 0.08]),
        (37, [0, 10, 20, 30, 40]),
        (5, [0, 1, 2, 3, 4, 5]),
        (0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_ticks_start_at_zero_and_reach_the_highest_value(highest, ticks):
    assert svg_charts.nice_ticks(highest) == pytest.approx(ticks)


def _bar_heights(svg: str) -> list[float]:
    return [
        float(h)
        for h in re.findall(r"<rect x='[^']+' y='[^']+' width='[^']+' height='([^']+)'", svg)
    ]


def test_bars_are_as_tall_as_their_values_and_labelled_with_them():
    svg = svg_charts.grouped_bars(
        "Exceptions",
        ["Logistics", "Stock"],
        [
            svg_charts.Series("This week", [30, 10], "#000"),
            svg_charts.Series("Last week", [15, None], "#999"),
        ],
        label=lambda v: f"{v:,.0f}",
    )
    heights = _bar_heights(svg)[2:]  # after the two legend swatches
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.2)  # 30 against 15, first group
    assert heights[2] == pytest.approx(heights[0] / 3, abs=0.2)  # 10
    assert heights[3] == 0  # no value is a bar of nothing, not a crash
    assert ">30<" in svg and ">15<" in svg


def test_a_line_keeps_its_gaps_and_every_text_is_escaped():
    svg = svg_charts.line(
        "<b>rate</b>",
        ["2026-W44", "2026-W45", "<script>"],
        svg_charts.Series("rate", [0.05, None, 0.04], "#000"),
        label=lambda v: f"{v:.1%}",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg
    assert svg.count("<circle") == 2
    assert ">5.0%<" in svg and ">4.0%<" in svg
