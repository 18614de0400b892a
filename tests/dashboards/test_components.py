"""Chart builders, formatting and the catalogue, without Streamlit."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from marts_fixture import EXCEPTION_TYPES

from dashboards.components import charts
from dashboards.components.downloads import csv_bytes, xlsx_bytes
from dashboards.components.formatting import (
    format_count,
    format_count_change,
    format_hours,
    format_percent,
    format_share_change,
    format_size,
    previous_week,
    trailing_weeks,
)
from dashboards.components.theme import FAMILY_COLOURS
from dashboards.i18n import LANGUAGES, Catalogue, configured_language
from pipelines.catalogue import exception_types

CATALOGUES = Path(__file__).resolve().parents[2] / "dashboards" / "i18n"
ZH, EN = Catalogue("zh-CN"), Catalogue("en")


def _keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        keys |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return keys


def test_numbers_are_formatted_for_people():
    assert format_count(1234567) == "1,234,567"
    assert format_percent(0.12345) == "12.3%"
    assert format_hours(3.46, "小时") == "3.5 小时"
    assert format_count_change(1200, 1000) == "+200"
    assert format_share_change(0.05, 0.061, "pp") == "-1.1 pp"
    assert format_count(None) == format_percent(float("nan")) == "—"
    assert format_count_change(5, None) is None
    assert format_size(2048) == "2.0 KB"


def test_iso_weeks_cross_the_year_boundary():
    assert previous_week("2027-W01") == "2026-W53"
    assert trailing_weeks("2026-W02", 3) == ["2025-W52", "2026-W01", "2026-W02"]


def test_both_catalogues_have_the_same_keys_and_name_every_exception_type():
    trees = {
        language: yaml.safe_load((CATALOGUES / file).read_text(encoding="utf-8"))
        for language, file in LANGUAGES.items()
    }
    assert _keys(trees["zh-CN"]) == _keys(trees["en"])
    documented = (
        Path(__file__).resolve().parents[2]
        / "dbt_project"
        / "models"
        / "intermediate"
        / "exceptions"
        / "_exceptions__docs.md"
    ).read_text()
    rows = [line.split("|") for line in documented.splitlines() if line.startswith("| ")]
    codes = {cells[2].strip() for cells in rows if cells[2].strip() not in ("code", "---")}
    assert codes >= set(EXCEPTION_TYPES)
    for code in codes:
        assert ZH.name("exception_type", code) != code, code
        assert EN.name("exception_type", code) != code, code
    # No two columns share a header, or a table could not be shown.
    for tree in trees.values():
        headers = list(tree["column"].values())
        assert len(headers) == len(set(headers))


def test_every_root_cause_of_the_rules_has_a_name_and_an_action():
    causes = {kind.root_cause for kind in exception_types().values()}
    assert len(causes) >= 10
    for catalogue in (ZH, EN):
        for cause in causes:
            assert catalogue.name("root_cause", cause) != cause, cause
            assert catalogue.action(cause, fallback=None), cause


def test_timeline_names_a_reported_problem_apart_from_the_exception():
    events = pd.DataFrame(
        {
            "source": ["feedback", "exception", "tracking"],
            "event_type": ["wrong_item", "wrong_item", "delivered"],
        }
    )
    shown = EN.localise(events)[EN.column("event_type")].tolist()
    assert shown == ["Wrong item reported", EN.name("exception_type", "wrong_item"), "Delivered"]
    assert shown[0] != shown[1]


def test_unknown_codes_fall_back_to_the_code_and_language_comes_from_config(monkeypatch):
    assert ZH.name("exception_type", "brand_new_rule") == "brand_new_rule"
    monkeypatch.setenv("OEX_LANGUAGE", "en")
    assert configured_language() == "en"
    monkeypatch.setenv("OEX_LANGUAGE", "fr")
    assert configured_language() == "zh-CN"
    monkeypatch.delenv("OEX_LANGUAGE")
    assert configured_language() == "zh-CN"


def test_localise_names_codes_and_headers():
    frame = pd.DataFrame(
        {
            "family": ["logistics"],
            "exception_type": ["late_handoff"],
            "dimension": ["carrier"],
            "dimension_value": ["zto"],
            "is_open": [True],
            "root_cause": ["carrier_capacity"],
            "suggested_action": ["Agree capacity"],
        }
    )
    shown = ZH.localise(frame)
    assert shown.iloc[0].to_dict() == {
        "异常大类": "物流异常",
        "异常子类型": "揽收超时",
        "维度": "快递公司",
        "维度取值": "中通",
        "未关闭": "是",
        "根因": "快递运力不足",
        "建议措施": "与快递约定揽收时间和运力，必要时切换承运商",
    }


def test_a_family_has_one_colour_in_every_chart():
    trend = pd.DataFrame(
        {
            "week": ["2026-W45", "2026-W46"] * 2,
            "family": ["logistics", "logistics", "payment", "payment"],
            "exception_rate": [0.1, 0.12, 0.02, 0.03],
        }
    )
    line_colours = {trace.name: trace.line.color for trace in charts.family_trend(trend, ZH).data}
    assert line_colours == {
        "物流异常": FAMILY_COLOURS["logistics"],
        "支付异常": FAMILY_COLOURS["payment"],
    }

    shares = pd.DataFrame(
        {
            "family": ["logistics", "payment"],
            "exception_type": ["late_handoff", "payment_failed"],
            "exceptions": [30, 10],
        }
    )
    treemap = charts.type_share(shares, ZH).data[0]
    colours = dict(zip(treemap.labels, treemap.marker.colors, strict=True))
    assert colours["揽收超时"] == colours["物流异常"] == FAMILY_COLOURS["logistics"]
    assert dict(zip(treemap.labels, treemap.values, strict=True))["物流异常"] == 30


def test_pareto_orders_causes_names_their_owner_and_ends_at_the_whole():
    causes = pd.DataFrame(
        {
            "root_cause": ["picking_error", "carrier_capacity"],
            "exceptions": [5, 15],
            "cumulative_share": [1.0, 0.75],
            "owner_team": ["warehouse", "warehouse"],
        }
    )
    bars, line = charts.root_cause_pareto(causes, EN).data
    assert list(bars.x) == [
        "Carrier capacity<br>(Warehouse)",
        "Picking and packing checks<br>(Warehouse)",
    ]
    assert list(line.y) == [0.75, 1.0]


def test_sla_chart_compares_first_response_with_the_first_response_sla():
    handling = pd.DataFrame(
        {
            "family": ["inventory"],
            "exception_type": ["out_of_stock"],
            "median_response_hours": [0.8],
            "p90_response_hours": [2.5],
            "sla_hours": [1.0],
            # resolution is another measure: it must not be the bar
            "median_resolution_hours": [30.0],
        }
    )
    median, p90, sla = charts.response_against_sla(handling, ZH).data
    assert (list(median.y), list(median.x), list(sla.x)) == (["缺货"], [0.8], [1.0])
    assert (median.name, p90.name, sla.name) == ("首次响应中位数", "首次响应 P90", "首次响应时限")


def test_trend_draws_a_provisional_week_apart():
    trend = pd.DataFrame(
        {
            "week": ["2026-W45", "2026-W46", "2026-W47"],
            "family": ["logistics"] * 3,
            "exception_rate": [0.03, 0.031, 0.004],
            "is_provisional": [False, False, True],
        }
    )
    settled, young = charts.family_trend(trend, EN).data
    assert list(settled.x) == ["2026-W45", "2026-W46"]
    # the young week hangs off the last settled one, dashed and faded
    assert list(young.x) == ["2026-W46", "2026-W47"]
    assert young.line.dash == "dash" and young.opacity < 1


def test_heatmap_puts_the_biggest_value_first():
    cells = pd.DataFrame(
        {
            "exception_type": ["late_handoff", "late_handoff", "delivery_overdue"],
            "dimension_value": ["sf", "zto", "zto"],
            "exceptions": [1, 5, 2],
        }
    )
    heatmap = charts.dimension_heatmap(cells, "carrier", ZH).data[0]
    assert list(heatmap.x) == ["中通", "顺丰"]
    assert heatmap.z.tolist() == [[2, 0], [5, 1]]


def test_downloads_keep_chinese_for_excel():
    frame = pd.DataFrame({"商家": ["杭州优品旗舰店"], "异常数": [3]})
    assert csv_bytes(frame).startswith(b"\xef\xbb\xbf")
    assert "杭州优品旗舰店" in csv_bytes(frame).decode("utf-8-sig")
    back = pd.read_excel(io.BytesIO(xlsx_bytes(frame, "根因/周")), engine="openpyxl")
    assert back.to_dict("records") == [{"商家": "杭州优品旗舰店", "异常数": 3}]


def test_text_from_an_export_never_becomes_a_spreadsheet_formula():
    # A receiver's address or a note from a partner's file, shown in a table then downloaded.
    hostile = '=HYPERLINK("http://evil.example","click")'
    frame = pd.DataFrame(
        {"address": [hostile, "-2+3", "@SUM(A1)", "Rua das Flores 12"], "n": [1, -2, 3, 4]}
    )
    rows = csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert rows[1].startswith("\"'=HYPERLINK")
    assert rows[2] == "'-2+3,-2"  # text defused, the number -2 left a number
    assert rows[3] == "'@SUM(A1),3"
    assert rows[4] == "Rua das Flores 12,4"

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame))).active
    cell = sheet["A2"]
    assert cell.data_type == "s" and cell.value == hostile  # stored as text, not a formula
    assert sheet["B3"].value == -2


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_chart_builds_in_every_language(language):
    texts = Catalogue(language)
    events = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2026-11-10 10:00"]),
            "source": ["order"],
            "event_type": ["created"],
            "detail": [None],
        }
    )
    assert charts.order_timeline(events, texts).data[0].y == (texts.name("source", "order"),)
    changes = pd.DataFrame(
        {
            "root_cause": ["carrier_capacity"],
            "dimension": ["carrier"],
            "dimension_value": ["zto"],
            "change": [7],
        }
    )
    label = charts.what_changed(changes, texts).data[0].y[0]
    assert texts.name("root_cause", "carrier_capacity") in label
    assert texts.name("carrier", "zto") in label
