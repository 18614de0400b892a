"""Risk watch: the open orders and SKUs to act on first, tiles that add up, the sidebar's
merchant and warehouse, both languages, and a clear word when there is no risk to show."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import APP, assert_no_exception, metrics, shown_texts, table_with
from marts_fixture import (
    DELIVERY_MODEL,
    RISK_REPORT,
    RISK_SERVING_CONTRACT,
    STOCKOUT_MODEL,
    write_risk_report,
)
from streamlit.testing.v1 import AppTest

from dashboards import data
from dashboards.components import charts
from dashboards.i18n import Catalogue
from pipelines import catalogue

ZH, EN = Catalogue("zh-CN"), Catalogue("en")
THRESHOLD = data.LATE_RISK_THRESHOLD
ORDERS_TABLE = ("订单号", "逾期概率")
SKUS_TABLE = ("SKU", "可售天数")


def at_risk_orders(read_mart, threshold: float = THRESHOLD, merchant: str | None = None):
    orders = read_mart("rpt_delivery_risk")
    if merchant:
        orders = orders[orders["merchant_id"] == merchant]
    return orders[orders["late_probability"] >= threshold]


def at_risk_skus(read_mart, merchant: str | None = None):
    stock = read_mart("rpt_stockout_risk")
    if merchant:
        stock = stock[stock["merchant_id"] == merchant]
    return stock[stock["is_at_risk"]]


def test_the_order_and_sku_with_the_most_expected_impact_lead_their_lists(open_page, read_mart):
    app = open_page("risk_watch")
    orders, skus = at_risk_orders(read_mart), at_risk_skus(read_mart)
    assert len(orders) >= 5 and len(skus) >= 5  # the fixture has something to rank

    listed = table_with(app, *ORDERS_TABLE)
    assert len(listed) == len(orders)
    top = orders.sort_values("expected_impact", ascending=False).iloc[0]
    assert listed["订单号"].iloc[0] == top["order_id"]
    shown = listed["逾期概率"].tolist()  # percent, as people read it
    assert shown == sorted(shown, reverse=True)
    assert shown[0] == pytest.approx(top["late_probability"] * 100)
    # who acts and what to do: the exception catalogue's owner and guideline, in Chinese
    heading_for = catalogue.exception_types()[top["risk_type"]]
    first = listed.iloc[0]
    assert first["可能发生的异常"] == heading_for.names["zh-CN"]
    assert first["责任团队"] == ZH.name("owner_team", heading_for.owner_team)
    assert first["建议措施"] == heading_for.guidelines["zh-CN"]

    stock = table_with(app, *SKUS_TABLE)
    assert len(stock) == len(skus)
    worst = skus.sort_values("expected_impact", ascending=False).iloc[0]
    assert (stock["SKU"].iloc[0], stock["仓库"].iloc[0]) == (worst["sku"], worst["warehouse_id"])
    assert stock["预期影响（单）"].tolist() == sorted(stock["预期影响（单）"], reverse=True)
    assert set(stock["建议措施"]) == {catalogue.exception_types()["out_of_stock"].actions["zh-CN"]}
    assert stock["断货概率"].iloc[0] == pytest.approx(worst["stockout_probability"] * 100)
    # every SKU listed runs out before its replenishment can arrive
    assert (stock["可售天数"] < stock["补货周期（天）"]).all()


def test_tiles_are_the_sums_of_the_risk_marts(open_page, read_mart):
    app = open_page("risk_watch")
    delivery = read_mart("rpt_delivery_risk")
    skus = at_risk_skus(read_mart)
    tiles = metrics(app)
    assert tiles["有逾期风险的订单"][0] == f"{len(at_risk_orders(read_mart)):,}"
    assert tiles["预计逾期订单"][0] == f"{delivery['late_probability'].sum():,.1f}"
    assert tiles["有缺货风险的 SKU"][0] == f"{len(skus):,}"
    assert tiles["缺货将影响的订单"][0] == f"{round(skus['expected_impact'].sum()):,}"
    # the baseline's expectation is said beside the model's
    help_text = {tile.label: tile.help for tile in app.metric}["预计逾期订单"]
    assert f"{delivery['baseline_probability'].sum():,.1f}" in help_text


def test_the_model_and_the_time_scored_are_said_plainly(open_page, read_mart):
    app = open_page("risk_watch")
    as_of = read_mart("rpt_delivery_risk")["features_as_of"].max()
    local = (as_of + pd.Timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # Asia/Shanghai
    subtitle = shown_texts(app.caption)[0].replace("\\", "")
    assert local in subtitle and DELIVERY_MODEL in subtitle and STOCKOUT_MODEL in subtitle
    # what the probability means, and its limits, are on the page
    about = " ".join(shown_texts(app.markdown))
    assert "校准" in about and "局限" in about


def test_the_merchant_filter_narrows_lists_and_tiles(open_page, read_mart):
    app = open_page("risk_watch", merchants=["M002"])
    orders, skus = at_risk_orders(read_mart, merchant="M002"), at_risk_skus(read_mart, "M002")
    assert len(orders) < len(at_risk_orders(read_mart))

    listed = table_with(app, *ORDERS_TABLE)
    assert set(listed["订单号"]) == set(orders["order_id"])
    assert set(listed["商家"]) == {"深圳潮玩社"}
    stock = table_with(app, *SKUS_TABLE)
    assert set(zip(stock["SKU"], stock["仓库"], strict=True)) == set(
        zip(skus["sku"], skus["warehouse_id"], strict=True)
    )
    open_orders = read_mart("rpt_delivery_risk").query("merchant_id == 'M002'")
    tiles = metrics(app)
    assert tiles["有逾期风险的订单"][0] == f"{len(orders):,}"
    assert tiles["预计逾期订单"][0] == f"{open_orders['late_probability'].sum():,.1f}"
    assert tiles["有缺货风险的 SKU"][0] == f"{len(skus):,}"


def test_the_warehouse_filter_and_the_threshold_narrow_the_orders(open_page, read_mart):
    app = open_page("risk_watch", warehouses=["WH-SZ"], risk_threshold=0.5)
    orders = at_risk_orders(read_mart, threshold=0.5)
    orders = orders[orders["warehouse_id"] == "WH-SZ"]
    listed = table_with(app, *ORDERS_TABLE)
    assert set(listed["订单号"]) == set(orders["order_id"])
    assert (listed["逾期概率"] >= 50).all()
    assert metrics(app)["有逾期风险的订单"][0] == f"{len(orders):,}"
    assert set(table_with(app, *SKUS_TABLE)["仓库"]) == {"WH-SZ"}


def test_each_language_shows_its_own_words(open_page, read_mart):
    app = open_page("risk_watch")
    assert shown_texts(app.title) == ["风险预警"]
    assert "逾期风险：最可能逾期的未完成订单" in shown_texts(app.subheader)

    app.selectbox(key="language").set_value("en").run()
    assert_no_exception(app)
    assert shown_texts(app.title) == ["Risk watch"]
    assert "Late delivery: open orders most likely to end late" in shown_texts(app.subheader)
    listed = table_with(app, "Order ID", "Late probability", "Heading for", "Suggested action")
    guidelines = {
        kind.guidelines["en"]
        for code, kind in catalogue.exception_types().items()
        if code in ("late_handoff", "delivery_overdue")
    }
    assert set(listed["Suggested action"]) <= guidelines
    assert {"Open orders at risk", "Expected late orders", "SKUs at risk"} <= set(metrics(app))
    assert "Stock-out: SKUs that run out before replenishment arrives" in shown_texts(app.subheader)


@pytest.fixture
def own_marts(marts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture marts this test may change."""
    copy = tmp_path / "marts"
    shutil.copytree(marts_dir, copy)
    monkeypatch.setenv("OEX_MARTS", str(copy))
    monkeypatch.delenv("OEX_LANGUAGE", raising=False)
    return copy


def _risk_page() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    app.switch_page("app_pages/risk_watch.py").run()
    assert_no_exception(app)
    return app


def test_missing_risk_marts_give_a_message_not_an_error(own_marts):
    for name in data.RISK_MARTS:
        (own_marts / f"{name}.parquet").unlink()
    app = _risk_page()
    (message,) = shown_texts(app.info)
    assert "rpt_delivery_risk" in message and "rpt_stockout_risk" in message
    assert "make pipeline" in message
    assert not app.metric and not app.dataframe


def test_empty_risk_marts_say_there_is_not_enough_history(own_marts):
    for name, columns in RISK_SERVING_CONTRACT.items():
        path = own_marts / f"{name}.parquet"
        pd.read_parquet(path).iloc[0:0][columns].to_parquet(path, index=False)
    app = _risk_page()
    messages = " ".join(shown_texts(app.info))
    assert "历史数据还不够，无法给未完成订单打分" in messages
    assert "历史数据还不够，暂时无法计算缺货风险" in messages
    assert {value for value, _ in metrics(app).values()} == {"—"}
    assert not app.dataframe


def test_one_risk_mart_missing_leaves_the_other_shown(own_marts):
    (own_marts / "rpt_stockout_risk.parquet").unlink()
    app = _risk_page()
    assert len(table_with(app, *ORDERS_TABLE)) > 0
    assert any("rpt_stockout_risk" in message for message in shown_texts(app.info))
    assert metrics(app)["有缺货风险的 SKU"][0] == "—"


def test_the_risk_shows_before_the_first_weekly_review_is_built(own_marts, read_mart):
    (own_marts / "rpt_weekly_kpis.parquet").unlink()  # no sidebar filters without it
    app = _risk_page()
    assert len(table_with(app, *ORDERS_TABLE)) == len(at_risk_orders(read_mart))


def test_text_from_the_marts_is_shown_as_text(own_marts):
    path = own_marts / "rpt_delivery_risk.parquet"
    frame = pd.read_parquet(path)
    frame["model_version"] = "![x](http://evil.example/a.png)"
    frame.to_parquet(path, index=False)
    app = _risk_page()
    subtitle = shown_texts(app.caption)[0]
    assert "\\!\\[x\\]\\(http\\:" in subtitle  # escaped: shown as these characters, no image


def test_the_risk_contract_is_what_the_risk_assets_write():
    from pipelines.risk import delivery, stockout

    assert RISK_SERVING_CONTRACT["rpt_delivery_risk"] == list(delivery.MART_COLUMNS)
    assert RISK_SERVING_CONTRACT["rpt_stockout_risk"] == list(stockout.MART_COLUMNS)


# ---- the charts, without Streamlit


def test_expected_late_chart_puts_the_most_on_top_and_names_orders_without_a_carrier():
    cells = pd.DataFrame(
        {
            "dimension_value": ["zto", "zto", None, "sf"],
            "risk_type": ["delivery_overdue", "late_handoff", "late_handoff", "delivery_overdue"],
            "open_orders": [10, 4, 6, 20],
            "expected_late_orders": [3.0, 1.0, 2.5, 0.8],
        }
    )
    figure = charts.expected_late_by(cells, "carrier", EN)
    order = list(figure.layout.yaxis.categoryarray)
    assert order[-1] == EN.name("carrier", "zto")  # 4.0 expected: the top bar
    assert "Not handed over yet" in order
    assert {trace.name for trace in figure.data} == {"Late handoff to carrier", "Delivery overdue"}


def test_cover_chart_sets_each_sku_against_its_lead_time():
    skus = pd.DataFrame(
        {
            "sku": ["SKU-1", "<b>SKU-2</b>"],
            "warehouse_id": ["WH-HZ", "WH-SZ"],
            "days_of_cover": [1.5, 4.0],
            "lead_time_days": [5.0, 7.0],
        }
    )
    figure = charts.cover_against_lead_time(skus, ZH)
    bars, lead_times = figure.data
    assert list(figure.layout.yaxis.categoryarray)[-1] == "SKU-1 · WH-HZ"  # first on top
    assert "&lt;b&gt;SKU-2&lt;/b&gt; · WH-SZ" in bars.y  # text from the data, not markup
    assert list(lead_times.x) == [7.0, 5.0] and lead_times.name == "补货周期"


# ---- the track record: the last replay of `oex evaluate` (reports/risk.json)

RECORD_TILES_ZH = (
    "逾期排序 ROC AUC",
    "风险最高 5% 中的逾期比例",
    "缺货预警的应验率",
    "事先预警到的断货",
)


def test_the_track_record_shows_how_the_last_replay_did_in_both_languages(open_page, reports_dir):
    write_risk_report(reports_dir)
    app = open_page("risk_watch")
    tiles = metrics(app)
    late, stock = RISK_REPORT["late_delivery"], RISK_REPORT["stock_out"]
    assert tiles["逾期排序 ROC AUC"] == ("0.83", "基准 0.60")
    assert tiles["风险最高 5% 中的逾期比例"] == ("8.8%", "基准 2.1%")
    assert tiles["缺货预警的应验率"][0] == f"{stock['precision'] * 100:.1f}%" == "59.6%"
    assert tiles["事先预警到的断货"][0] == f"{stock['recall'] * 100:.1f}%" == "73.0%"
    # the counts behind the shares, the period in local days, and how far ahead
    helps = {tile.label: tile.help for tile in app.metric}
    assert "109 个 SKU·天中，有 65 个在七天内断货" in helps["缺货预警的应验率"]
    assert "2026-11-02 – 2026-11-15" in helps["缺货预警的应验率"]  # 16:00 UTC: 00:00 Shanghai
    captions = " ".join(shown_texts(app.caption))
    assert f"{late['late_orders']} 个逾期订单中，有 {late['flagged_before']} 个" in captions
    assert "中位数提前 34 小时" in captions and "17 次断货中，有 14 次事先被预警" in captions
    assert "筛选不适用" in captions

    app.selectbox(key="language").set_value("en").run()
    assert_no_exception(app)
    assert "How these flags did: the last replay" in shown_texts(app.subheader)
    tiles = metrics(app)
    assert tiles["Late-delivery ROC AUC"] == ("0.83", "baseline 0.60")
    assert tiles["Stock-out flags that came true"][0] == "59.6%"
    captions = " ".join(shown_texts(app.caption))
    assert "14 of 17 stock-outs were flagged beforehand, a median 116 h ahead" in captions


def test_the_filters_leave_the_track_record_as_replayed(open_page, reports_dir):
    """The replay covers the whole warehouse: a merchant chosen in the sidebar narrows the
    lists, not the record (and the caption says so)."""
    write_risk_report(reports_dir)
    everyone = metrics(open_page("risk_watch"))
    one = metrics(open_page("risk_watch", merchants=["M001"]))
    for tile in RECORD_TILES_ZH:
        assert one[tile] == everyone[tile]


def test_without_a_replay_the_page_says_how_to_measure_one(open_page):
    app = open_page("risk_watch")
    assert "预警的过往表现：最近一次回放" in shown_texts(app.subheader)
    assert any("`oex evaluate`" in caption for caption in shown_texts(app.caption))
    assert not set(RECORD_TILES_ZH) & set(metrics(app))


def test_a_risk_the_replay_could_not_score_says_why(open_page, reports_dir):
    reason = "no late order to learn from before 2018-03-11 03:00 UTC"
    write_risk_report(
        reports_dir,
        {"late_delivery": {"not_enough_history": reason}, "stock_out": RISK_REPORT["stock_out"]},
    )
    app = open_page("risk_watch")
    tiles = metrics(app)
    assert tiles["逾期排序 ROC AUC"][0] == tiles["风险最高 5% 中的逾期比例"][0] == "—"
    assert tiles["缺货预警的应验率"][0] == "59.6%"
    # text from the report is shown as text: markdown's special characters escaped
    shown = [text.replace("\\", "") for text in shown_texts(app.caption)]
    assert any(f"逾期风险未能回放：{reason}" in text for text in shown)


def test_a_reason_the_replay_names_is_said_in_the_pages_language(open_page, reports_dir):
    """A replay too short for either risk names why; the page says it in Chinese or English,
    its time in the reporting time zone (16:00 UTC: 00:00 the next day in Shanghai)."""
    write_risk_report(
        reports_dir,
        {
            "late_delivery": {
                "not_enough_history": "no late order to learn from before 2026-11-02 16:00 UTC",
                "reason": {"code": "no_late_order", "before": "2026-11-02 16:00:00", "days": 40},
            },
            "stock_out": {
                "not_enough_history": "no stock count by 2026-11-15 16:00 UTC",
                "reason": {"code": "no_stock_count", "by": "2026-11-15 16:00:00"},
            },
        },
    )
    app = open_page("risk_watch")
    captions = " ".join(shown_texts(app.caption))
    assert "逾期风险未能回放：2026-11-03 00:00 之前没有可供学习的逾期订单" in captions
    assert "约 40 天的历史" in captions
    assert "缺货风险未能回放：截至 2026-11-16 00:00 没有库存盘点" in captions
    assert "UTC" not in captions  # not the replay's English sentence

    app.selectbox(key="language").set_value("en").run()
    assert_no_exception(app)
    captions = " ".join(shown_texts(app.caption))
    said = "Late delivery not replayed: no late order to learn from before 2026-11-03 00:00"
    assert said in captions
    assert "about 40 days of history" in captions
    assert "Stock-out not replayed: no stock count by 2026-11-16 00:00" in captions


@pytest.mark.parametrize(
    "reason",
    [
        {"code": "no_late_order", "before": "last week", "days": 40},
        {"code": "no_late_order", "before": "2026-11-02 16:00:00", "days": "forty"},
        {"code": "a_reason_of_a_later_version", "before": "2026-11-02 16:00:00"},
        "no_late_order",
    ],
)
def test_a_reason_the_page_cannot_read_falls_back_to_the_replays_sentence(
    open_page, reports_dir, reason
):
    sentence = "no late order to learn from before 2026-11-02 16:00 UTC"
    late = {"not_enough_history": sentence, "reason": reason}
    write_risk_report(reports_dir, {"late_delivery": late, "stock_out": RISK_REPORT["stock_out"]})
    captions = [text.replace("\\", "") for text in shown_texts(open_page("risk_watch").caption)]
    assert any(f"逾期风险未能回放：{sentence}" in text for text in captions)


def test_an_unreadable_replay_report_warns_and_the_risks_still_show(
    open_page, reports_dir, read_mart
):
    reports_dir.mkdir()
    (reports_dir / "risk.json").write_text('{"late_delivery": {', encoding="utf-8")
    app = open_page("risk_watch")
    (warning,) = shown_texts(app.warning)
    assert str(reports_dir / "risk.json") in warning.replace("\\", "")
    assert "`oex evaluate`" in warning
    assert len(table_with(app, *ORDERS_TABLE)) == len(at_risk_orders(read_mart))


def _with(part: str, **changes) -> dict:
    """The fixture report with one part's figures changed (None: the key removed)."""
    changed = {**RISK_REPORT[part], **changes}
    changed = {key: value for key, value in changed.items() if value is not None}
    return {**RISK_REPORT, part: changed}


@pytest.mark.parametrize(
    ("report", "said"),
    [
        # written by an older version, without the lead times
        (_with("stock_out", run_outs=None), "stock_out has no run_outs"),
        # edited by hand
        (_with("stock_out", precision="60%"), "stock_out: precision not a number"),
        (_with("late_delivery", model=[0.83]), "model and baseline are not sets of figures"),
        (_with("late_delivery", scored_from="last Monday"), "scored_from not a time"),
        ({**RISK_REPORT, "stock_out": [1, 2]}, "stock_out is not a set of figures"),
        (["risk"], "not a replay report"),
    ],
)
def test_a_replay_report_the_page_cannot_read_is_named_with_what_it_lacks(
    open_page, reports_dir, read_mart, report, said
):
    write_risk_report(reports_dir, report)
    app = open_page("risk_watch")
    (warning,) = shown_texts(app.warning)
    assert said in warning.replace("\\", "")
    assert not set(RECORD_TILES_ZH) & set(metrics(app))
    assert len(table_with(app, *ORDERS_TABLE)) == len(at_risk_orders(read_mart))


def test_the_replayed_days_are_the_reporting_time_zones(open_page, reports_dir, monkeypatch):
    """16:00 UTC is 00:00 of the next day in Shanghai, 13:00 of the same day in São Paulo."""
    write_risk_report(reports_dir)
    monkeypatch.setenv("OEX_TIMEZONE", "America/Sao_Paulo")
    helps = {tile.label: tile.help for tile in open_page("risk_watch").metric}
    assert "2026-11-01 – 2026-11-14" in helps["缺货预警的应验率"]
