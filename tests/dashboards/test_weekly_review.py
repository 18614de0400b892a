"""The landing page: KPI tiles equal the marts' figures, language and filters change them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from app_helpers import assert_no_exception, metrics, shown_texts, table_with
from marts_fixture import LAST_COMPLETE_WEEK

CATALOGUE = Path(__file__).resolve().parents[2] / "dashboards" / "i18n" / "zh_CN.yml"
WEEK = LAST_COMPLETE_WEEK
LAST_WEEK = "2026-W45"


def expected_tiles(orders: pd.DataFrame, exceptions: pd.DataFrame) -> dict[str, float]:
    """The eight KPIs recomputed from the fact marts, without the dashboard's code."""
    closed = exceptions[~exceptions["is_open"]]
    return {
        "orders": len(orders),
        "exception_rate": orders["has_exception"].mean(),
        "open": int(exceptions["is_open"].sum()),
        "overdue": int(exceptions["is_overdue"].sum()),
        "sla_met_share": exceptions["is_within_sla"].mean(),
        "median_hours": exceptions["handling_hours"].median(),
        "recurrence_rate": exceptions["is_recurrence"].mean(),
        "success_rate": closed["is_success"].sum() / len(closed),
    }


def test_tiles_show_the_last_complete_week_with_the_marts_numbers(open_page, read_mart):
    app = open_page("weekly_review")
    orders, exceptions = read_mart("fct_orders"), read_mart("fct_order_exceptions")
    now = expected_tiles(orders[orders["week"] == WEEK], exceptions[exceptions["week"] == WEEK])
    before = expected_tiles(
        orders[orders["week"] == LAST_WEEK], exceptions[exceptions["week"] == LAST_WEEK]
    )

    assert app.session_state["week"] == WEEK  # 2026-W47 has data but is not over yet
    tiles = metrics(app)
    assert tiles["订单量"] == (f"{now['orders']:,}", f"{now['orders'] - before['orders']:+,}")
    assert tiles["异常率"][0] == f"{now['exception_rate']:.1%}"
    change = (now["exception_rate"] - before["exception_rate"]) * 100
    assert tiles["异常率"][1] == f"{change:+.1f} 个百分点"
    assert tiles["未关闭异常"][0] == f"{now['open']:,}"
    assert tiles["超时异常"][0] == f"{now['overdue']:,}"
    assert tiles["SLA 达成率"][0] == f"{now['sla_met_share']:.1%}"
    assert tiles["处理时长中位数"][0] == f"{now['median_hours']:.1f} 小时"
    assert tiles["复发率"][0] == f"{now['recurrence_rate']:.1%}"
    assert tiles["挽回成功率"][0] == f"{now['success_rate']:.1%}"
    assert any("2026-W47" in caption for caption in shown_texts(app.sidebar.caption))


def test_language_switch_changes_every_label(open_page):
    app = open_page("weekly_review")
    assert shown_texts(app.title) == ["周复盘"]

    app.selectbox(key="language").set_value("en").run()
    assert_no_exception(app)
    assert shown_texts(app.title) == ["Weekly review"]
    assert set(metrics(app)) == {
        "Orders",
        "Exception rate",
        "Open exceptions",
        "Overdue exceptions",
        "SLA met",
        "Median handling time",
        "Recurrence rate",
        "Success rate",
    }
    assert metrics(app)["Median handling time"][0].endswith(" h")
    assert "Root-cause Pareto and suggested actions" in shown_texts(app.subheader)
    pareto = table_with(app, "Root cause", "Suggested action")
    # Codes from the data are named in the chosen language too.
    assert "New replenishment policy, or a presale threshold for best sellers" in set(
        pareto["Suggested action"]
    )


def test_merchant_and_week_filters_change_the_numbers(open_page, read_mart):
    app = open_page("weekly_review")
    orders = read_mart("fct_orders")
    everyone = metrics(app)["订单量"][0]

    app.multiselect(key="merchants").set_value(["M001"]).run()
    assert_no_exception(app)
    merchant_orders = orders[(orders["week"] == WEEK) & (orders["merchant_id"] == "M001")]
    assert metrics(app)["订单量"][0] == f"{len(merchant_orders):,}" != everyone

    app.selectbox(key="week").set_value("2026-W40").run()
    week_orders = orders[(orders["week"] == "2026-W40") & (orders["merchant_id"] == "M001")]
    assert metrics(app)["订单量"][0] == f"{len(week_orders):,}"


def test_root_cause_table_names_causes_in_chinese_with_their_counts(open_page, read_mart):
    app = open_page("weekly_review")
    exceptions = read_mart("fct_order_exceptions")
    counts = (
        exceptions[exceptions["week"] == WEEK]
        .groupby("root_cause")
        .size()
        .reset_index(name="n")
        .sort_values(["n", "root_cause"], ascending=[False, True])
    )
    names = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["root_cause"]
    pareto = table_with(app, "根因", "建议措施")
    assert pareto["根因"].tolist() == [names[code] for code in counts["root_cause"]]
    assert pareto["异常数"].tolist() == counts["n"].tolist()
    assert pareto["累计占比"].iloc[-1] == pytest.approx(100.0)  # shown as a percentage


def test_without_marts_the_page_says_how_to_get_them(open_page, monkeypatch, tmp_path):
    monkeypatch.setenv("OEX_MARTS", str(tmp_path / "nothing-here"))
    app = open_page("weekly_review")
    assert any("make pipeline" in text for text in shown_texts(app.info))
