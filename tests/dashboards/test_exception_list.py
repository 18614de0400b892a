"""Exception list and order timeline: open and overdue first, filters, one order's story."""

from __future__ import annotations

from app_helpers import assert_no_exception, shown_texts, table_with
from marts_fixture import LAST_COMPLETE_WEEK


def test_the_list_holds_the_weeks_exceptions_open_and_overdue_first(open_page, read_mart):
    app = open_page("exception_list", week="2026-W45")
    exceptions = read_mart("fct_order_exceptions")
    week = exceptions[exceptions["week"] == "2026-W45"]
    assert week["is_overdue"].any()

    listed = table_with(app, "订单号", "已超时", "未关闭")
    assert len(listed) == len(week)
    flags = [
        (overdue == "是", still_open == "是")
        for overdue, still_open in zip(listed["已超时"], listed["未关闭"], strict=True)
    ]
    assert (True, True) in flags and (False, True) in flags and (False, False) in flags
    # overdue rows lead the list, then the other open ones, then the closed
    assert flags == sorted(flags, reverse=True)
    assert any(f"共 {len(week):,} 条异常" in text for text in shown_texts(app.caption))


def test_status_filter_keeps_only_open_exceptions_of_all_weeks(open_page, read_mart):
    app = open_page("exception_list")
    app.selectbox(key="list_status").set_value("open").run()
    app.toggle(key="list_all_weeks").set_value(True).run()
    assert_no_exception(app)
    exceptions = read_mart("fct_order_exceptions")
    listed = table_with(app, "订单号", "未关闭")
    assert len(listed) == int(exceptions["is_open"].sum())
    assert set(listed["未关闭"]) == {"是"}
    # an open exception has no resolution yet: the cell is empty, not the word "None"
    resolutions = table_with(app, "订单号", "处理结果")["处理结果"]
    assert set(resolutions) == {""}


def test_an_order_shows_its_whole_timeline_and_exceptions(open_page, read_mart):
    exceptions = read_mart("fct_order_exceptions")
    timeline = read_mart("fct_order_timeline")
    week = exceptions[exceptions["week"] == LAST_COMPLETE_WEEK]
    order_id = week["order_id"].value_counts().index[0]  # one with the most exceptions

    app = open_page("exception_list")
    app.text_input(key="order_id").input(order_id).run()
    assert_no_exception(app)
    assert f"订单 {order_id} 的轨迹" in shown_texts(app.subheader)
    events = table_with(app, "发生时间", "来源", "事件")
    assert len(events) == int((timeline["order_id"] == order_id).sum())
    assert {"订单", "异常", "物流轨迹"} <= set(events["来源"])
    own = table_with(app, "发现时间", "首次响应时间", "解决时间", without=("订单号",))
    assert len(own) == int((exceptions["order_id"] == order_id).sum())


def test_language_switch_renames_the_list(open_page):
    app = open_page("exception_list")
    app.selectbox(key="language").set_value("en").run()
    assert_no_exception(app)
    assert shown_texts(app.title) == ["Exceptions"]
    assert {"Order ID", "Sub-type", "Overdue"} <= set(table_with(app, "Order ID").columns)
