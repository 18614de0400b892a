"""The landing page: KPI tiles equal the marts' figures, language and filters change them, a
provisional week is not read as an improvement, and each panel says what it measures."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from app_helpers import assert_no_exception, metrics, shown_texts, table_with
from marts_fixture import CATALOGUE, LAST_COMPLETE_WEEK, MARKETPLACE_MERCHANT

from dashboards.i18n import Catalogue

WEEK = LAST_COMPLETE_WEEK
LAST_WEEK = "2026-W45"
PROVISIONAL_WEEK = "2026-W47"
ZH = Catalogue("zh-CN")


def expected_tiles(orders: pd.DataFrame, exceptions: pd.DataFrame) -> dict[str, float]:
    """The eight KPIs recomputed from the fact marts, without the dashboard's code: failures
    only (special requests are work to do)."""
    failures = exceptions[exceptions["kind"] == "failure"]
    closed = failures[~failures["is_open"]]
    return {
        "orders": len(orders),
        "exception_rate": orders["has_failure"].mean(),
        "open": int(failures["is_open"].sum()),
        "overdue": int(failures["is_overdue"].sum()),
        "sla_met_share": failures["is_within_sla"].mean(),
        "median_hours": closed["handling_hours"].median(),
        "recurrence_rate": failures["is_recurrence"].mean(),
        "success_rate": closed["is_success"].sum() / len(closed),
    }


def test_tiles_show_the_last_complete_week_with_the_marts_numbers(open_page, read_mart):
    app = open_page("weekly_review")
    orders, exceptions = read_mart("fct_orders"), read_mart("fct_order_exceptions")
    now = expected_tiles(orders[orders["week"] == WEEK], exceptions[exceptions["week"] == WEEK])
    before = expected_tiles(
        orders[orders["week"] == LAST_WEEK], exceptions[exceptions["week"] == LAST_WEEK]
    )

    assert app.session_state["week"] == WEEK  # 2026-W47 has data but is not mature yet
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
    assert not app.warning  # a mature week is shown without a warning


def test_a_provisional_week_is_compared_at_the_same_age_not_read_as_an_improvement(
    open_page, read_mart
):
    orders, exceptions = read_mart("fct_orders"), read_mart("fct_order_exceptions")
    maturity = read_mart("rpt_week_maturity")
    as_of = maturity["as_of"].max()
    failures = exceptions[exceptions["kind"] == "failure"]
    this_week = orders[orders["week"] == PROVISIONAL_WEEK]
    last_week = orders[orders["week"] == WEEK]

    def rate(week_orders, week_failures):
        return week_failures["order_id"].nunique() / len(week_orders)

    now = rate(this_week, failures[failures["week"] == PROVISIONAL_WEEK])
    complete = rate(last_week, failures[failures["week"] == WEEK])
    same_age = rate(
        last_week,
        failures[(failures["week"] == WEEK) & (failures["detected_at"] <= as_of - timedelta(7))],
    )
    # the young week's logistics have not shown yet: against the whole last week it would look
    # like an improvement of a full point or more
    assert (now - complete) * 100 < -1.0

    app = open_page("weekly_review", week=PROVISIONAL_WEEK)

    (warning,) = shown_texts(app.warning)
    assert PROVISIONAL_WEEK in warning and WEEK in warning
    shown_change = metrics(app)["异常率"][1]
    assert shown_change == f"{(now - same_age) * 100:+.1f} 个百分点"
    assert any("同期" in caption for caption in shown_texts(app.caption))


def test_language_switch_changes_every_label(open_page):
    app = open_page("weekly_review")
    assert shown_texts(app.title) == ["周复盘"]

    app.selectbox(key="language").set_value("en").run()
    assert_no_exception(app)
    assert shown_texts(app.title) == ["Weekly review"]
    assert set(metrics(app)) >= {
        "Orders",
        "Exception rate",
        "Open exceptions",
        "Overdue exceptions",
        "SLA met",
        "Median handling time",
        "Recurrence rate",
        "Success rate",
        "Special requests",
    }
    assert metrics(app)["Median handling time"][0].endswith(" h")
    assert "Root causes, who owns them and what to do" in shown_texts(app.subheader)
    pareto = table_with(app, "Root cause", "Suggested action", "Owner team")
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


def test_root_cause_pareto_counts_failures_with_their_owner_team(open_page, read_mart):
    app = open_page("weekly_review")
    exceptions = read_mart("fct_order_exceptions")
    failures = exceptions[(exceptions["week"] == WEEK) & (exceptions["kind"] == "failure")]
    counts = (
        failures.groupby("root_cause")
        .size()
        .reset_index(name="n")
        .sort_values(["n", "root_cause"], ascending=[False, True])
    )
    pareto = table_with(app, "根因", "建议措施", "责任团队")
    assert pareto["根因"].tolist() == [ZH.name("root_cause", c) for c in counts["root_cause"]]
    assert pareto["异常数"].tolist() == counts["n"].tolist()
    assert "特殊需求依赖人工处理" not in set(pareto["根因"])  # special requests are not failures
    owners = failures.groupby("root_cause")["root_cause_owner_team"].first()
    assert pareto["责任团队"].tolist() == [
        ZH.name("owner_team", owners[c]) for c in counts["root_cause"]
    ]
    assert pareto["累计占比"].iloc[-1] == pytest.approx(100.0)  # shown as a percentage


def test_the_sla_table_measures_first_response_against_the_first_response_sla(open_page, read_mart):
    app = open_page("weekly_review")
    exceptions = read_mart("fct_order_exceptions")
    failures = exceptions[(exceptions["week"] == WEEK) & (exceptions["kind"] == "failure")]
    handling = table_with(app, "首次响应中位数（小时）", "首次响应时限（小时）")
    for row in handling.itertuples(index=False):
        code = next(c for c, kind in CATALOGUE.items() if kind.names["zh-CN"] == row[1])
        of_type = failures[failures["exception_type"] == code]
        assert row[handling.columns.get_loc("首次响应中位数（小时）")] == pytest.approx(
            of_type["response_hours"].median()
        )
        assert row[handling.columns.get_loc("首次响应时限（小时）")] == CATALOGUE[code].sla_hours


def test_what_changed_lists_ten_values_along_dimensions_that_explain_their_cause(
    open_page, read_mart
):
    app = open_page("weekly_review")
    changes = table_with(app, "维度", "维度取值", "变化")
    explaining = {}
    for kind in CATALOGUE.values():
        explaining.setdefault(kind.root_cause, set()).update(kind.explained_by)
    assert 0 < len(changes) <= 10
    for row in changes.itertuples(index=False):
        cause = next(c for c in explaining if ZH.name("root_cause", c) == row[0])
        dimension = next(d for d in explaining[cause] if ZH.name("dimension", d) == row[1])
        assert dimension in explaining[cause]
    assert not changes["维度取值"].isin(["unknown", "None", ""]).any()

    app.multiselect(key="merchants").set_value(["M001"]).run()
    filtered = table_with(app, "维度", "维度取值", "变化")
    assert not filtered.equals(changes)  # it follows the sidebar


def test_special_requests_have_their_own_panel(open_page, read_mart):
    app = open_page("weekly_review")
    exceptions = read_mart("fct_order_exceptions")
    requests = exceptions[(exceptions["week"] == WEEK) & (exceptions["kind"] == "special_request")]

    assert metrics(app)["特殊需求"][0] == f"{len(requests):,}"
    assert metrics(app)["时效内响应"][0] == f"{requests['is_within_sla'].mean():.1%}"


def test_rules_that_could_not_judge_every_order_are_shown_with_their_share(open_page, read_mart):
    app = open_page("weekly_review")
    orders = read_mart("fct_orders")
    week = orders[orders["week"] == WEEK]
    judged = 1 - (week["merchant_id"] == MARKETPLACE_MERCHANT).mean()

    coverage = table_with(app, "异常子类型", "判断覆盖率")
    shown = dict(zip(coverage["异常子类型"], coverage["判断覆盖率"], strict=True))
    # the marketplace merchant's source has no warehouse system and no receiver phones
    for code in ("sync_delay", "missing_in_wms", "phone_invalid"):
        assert shown[ZH.name("exception_type", code)] == pytest.approx(judged * 100)
    assert ZH.name("exception_type", "late_handoff") not in shown


def test_without_marts_the_page_says_how_to_get_them(open_page, monkeypatch, tmp_path):
    monkeypatch.setenv("OEX_MARTS", str(tmp_path / "nothing-here"))
    app = open_page("weekly_review")
    assert any("make pipeline" in text for text in shown_texts(app.info))


def test_the_view_lives_in_the_address_to_be_sent_to_a_colleague(marts, read_mart):
    from app_helpers import APP
    from streamlit.testing.v1 import AppTest

    orders = read_mart("fct_orders")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["week"] = "2026-W40"
    app.query_params["merchant"] = ["M001", "M002"]
    app.query_params["lang"] = "en"
    app.run()
    assert_no_exception(app)

    assert app.session_state["week"] == "2026-W40"
    assert app.session_state["merchants"] == ["M001", "M002"]
    chosen = orders[(orders["week"] == "2026-W40") & orders["merchant_id"].isin(["M001", "M002"])]
    assert metrics(app)["Orders"][0] == f"{len(chosen):,}"

    # a change in the sidebar is written back to the address
    app.multiselect(key="merchants").set_value(["M003"]).run()

    def address(name: str) -> list[str]:
        value = app.query_params.get(name, [])
        return [value] if isinstance(value, str) else list(value)

    assert address("merchant") == ["M003"]
    assert address("week") == ["2026-W40"]
    assert address("lang") == ["en"]
