"""Root-cause explorer: heatmap and recurring keys from the marts, and the drill to the list."""

from __future__ import annotations

import pytest
from app_helpers import assert_no_exception, shown_texts, table_with
from marts_fixture import LAST_COMPLETE_WEEK

WEEK = LAST_COMPLETE_WEEK


def test_recurring_keys_are_the_marts_most_frequent(open_page, read_mart):
    app = open_page("root_causes")
    issues = read_mart("rpt_recurring_issues")
    this_week = issues[issues["last_week"] == WEEK].sort_values("occurrences", ascending=False)
    shown = table_with(app, "复发对象", "出现次数")
    assert len(shown) == len(this_week)
    assert shown["出现次数"].tolist() == this_week["occurrences"].tolist()
    # keys by the name a person reads ("sf → 新疆"), not the key's matching form ("sf|新疆")
    assert set(shown["复发对象"]) == set(this_week["recurrence_label"])
    assert not shown["复发对象"].str.contains("|", regex=False).any()
    assert set(shown["复发对象类型"]) <= {"客户手机号", "收货地址", "SKU", "快递线路", "商家"}


def test_family_pick_narrows_recurring_keys_and_heatmap(open_page, read_mart):
    app = open_page("root_causes")
    app.selectbox(key="explorer_family").set_value("logistics").run()
    assert_no_exception(app)
    issues = read_mart("rpt_recurring_issues")
    expected = issues[(issues["last_week"] == WEEK) & (issues["family"] == "logistics")]
    shown = table_with(app, "复发对象", "出现次数")
    assert len(shown) == len(expected) > 0
    assert set(shown["异常大类"]) == {"物流异常"}
    heatmap = app.get("plotly_chart")[0].proto.spec
    assert "揽收超时" in heatmap and "payment_failed" not in heatmap


def test_drill_from_a_carrier_opens_its_exceptions(open_page, read_mart):
    app = open_page("root_causes")
    app.selectbox(key="explorer_family").set_value("logistics").run()
    app.selectbox(key="explorer_dimension").set_value("carrier").run()
    app.selectbox(key="explorer_drill_value").set_value("zto").run()
    app.button(key="drill_button").click().run()
    assert_no_exception(app)

    exceptions = read_mart("fct_order_exceptions")
    expected = exceptions[
        (exceptions["week"] == WEEK)
        & (exceptions["family"] == "logistics")
        & (exceptions["carrier"] == "zto")
    ]
    assert shown_texts(app.title) == ["异常明细"]
    assert any("快递公司 = 中通" in text for text in shown_texts(app.info))
    listed = table_with(app, "订单号", "快递公司")
    assert len(listed) == len(expected)
    assert set(listed["快递公司"]) == {"中通"}


def test_each_sub_type_shows_its_owner_and_the_share_of_orders_it_judged(open_page, read_mart):
    from marts_fixture import CATALOGUE, MARKETPLACE_MERCHANT, OWNERS

    from dashboards.i18n import Catalogue

    zh = Catalogue("zh-CN")
    app = open_page("root_causes")
    orders = read_mart("fct_orders")
    week = orders[orders["week"] == WEEK]
    judged = 1 - (week["merchant_id"] == MARKETPLACE_MERCHANT).mean()

    overview = table_with(app, "异常子类型", "责任团队", "判断覆盖率")
    assert len(overview) == len(CATALOGUE)
    rows = {row[0]: row for row in overview.itertuples(index=False)}
    missing_in_wms = rows[zh.name("exception_type", "missing_in_wms")]
    assert missing_in_wms[overview.columns.get_loc("判断覆盖率")] == pytest.approx(judged * 100)
    late = rows[zh.name("exception_type", "late_handoff")]
    assert late[overview.columns.get_loc("判断覆盖率")] == pytest.approx(100)
    assert late[overview.columns.get_loc("责任团队")] == zh.name(
        "owner_team", OWNERS[CATALOGUE["late_handoff"].root_cause]
    )


def test_the_heatmap_shows_exceptions_per_thousand_orders_of_each_carrier(open_page, read_mart):
    import json

    app = open_page("root_causes")
    app.selectbox(key="explorer_dimension").set_value("carrier").run()
    app.radio(key="explorer_measure").set_value("per_thousand").run()
    assert_no_exception(app)
    heatmap = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]

    orders = read_mart("fct_orders")
    exceptions = read_mart("fct_order_exceptions")
    orders, exceptions = orders[orders["week"] == WEEK], exceptions[exceptions["week"] == WEEK]
    per_carrier = orders.groupby("carrier").size()
    counts = exceptions.groupby(["exception_type", "carrier"]).size()
    names = dict(zip(heatmap["y"], range(len(heatmap["y"])), strict=True))
    (type_code, carrier), count = next(iter(counts.sort_values(ascending=False).items()))
    from dashboards.i18n import Catalogue

    catalogue = Catalogue("zh-CN")
    row = names[catalogue.name("exception_type", type_code)]
    column = heatmap["x"].index(catalogue.dimension_value("carrier", carrier))
    assert _matrix(heatmap["z"])[row][column] == pytest.approx(count / per_carrier[carrier] * 1000)
    assert "每千单" in json.dumps(heatmap, ensure_ascii=False)


def test_by_sku_the_heatmap_says_why_it_shows_counts_only(open_page):
    app = open_page("root_causes")
    app.selectbox(key="explorer_dimension").set_value("sku").run()
    assert_no_exception(app)
    assert not [radio for radio in app.radio if radio.key == "explorer_measure"]
    assert any("SKU" in caption.value for caption in app.caption)


def _matrix(values) -> list[list[float]]:
    """Plotly writes a numeric matrix as a typed array (base64 bytes, dtype, shape)."""
    if isinstance(values, list):
        return values
    import base64

    import numpy as np

    flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    rows, columns = (int(n) for n in str(values["shape"]).split(","))
    return flat.reshape(rows, columns).tolist()
