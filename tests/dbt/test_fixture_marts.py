"""The marts on the hand-made fixture equal a computation done by hand.

The fixture (tests/fixtures/dbt, written down in tests/fixtures/dbt/README.md) has 12 orders
over two Shanghai weeks and 9 planted exceptions. Every expected number below is worked out
from that description, not from the SQL.
"""

from __future__ import annotations

import pandas as pd
import pytest
from serving_contract import SERVING_CONTRACT

W45, W46 = "2026-W45", "2026-W46"


def test_dbt_build_passes_with_every_unit_test_and_data_test(fixture_build):
    assert "Completed successfully" in fixture_build.dbt_output, fixture_build.dbt_output[-4000:]
    results = fixture_build.run_results
    statuses = {}
    for result in results["results"]:
        kind = result["unique_id"].split(".")[0]
        statuses.setdefault(kind, set()).add(result["status"])
    assert statuses["unit_test"] == {"pass"}
    assert statuses["test"] == {"pass"}
    rule_tests = [
        r
        for r in results["results"]
        if r["unique_id"].startswith("unit_test.") and "int_exception__" in r["unique_id"]
    ]
    assert len(rule_tests) == 32


def test_flags_exactly_the_planted_exceptions(fixture_build):
    exceptions = fixture_build.mart("fct_order_exceptions")
    flagged = set(zip(exceptions.order_id, exceptions.exception_type, strict=True))
    assert flagged == {
        ("A2", "address_incomplete"),
        ("A3", "phone_invalid"),
        ("A4", "out_of_stock"),
        ("A5", "address_incomplete"),
        ("B2", "address_incomplete"),
        ("B3", "out_of_stock"),
        ("B5", "payment_failed"),
        ("B6", "address_incomplete"),
        ("B7", "address_incomplete"),
    }


def test_orders_resent_later_are_counted_once_with_the_latest_values(fixture_build):
    orders = fixture_build.mart("fct_orders").set_index("order_id")
    assert len(orders) == 12
    assert orders.loc["A1", "merchant_name"] == "云裳服饰"


def test_week_is_the_shanghai_iso_week_of_the_placed_day(fixture_build):
    orders = fixture_build.mart("fct_orders").set_index("order_id")
    # placed Sunday 2026-11-08 17:00 UTC = Monday 01:00 in Shanghai
    assert orders.loc["B4", "week"] == W46
    assert orders.loc["A5", "week"] == W45


def test_handling_times_sla_and_outcome_per_exception(fixture_build):
    rows = fixture_build.mart("fct_order_exceptions").set_index(["order_id", "exception_type"])
    expected = {
        # handling log: resolved 5 h after detection, first contact after 1 h (SLA 2 h)
        ("A2", "address_incomplete"): (5.0, True, False, False, True),
        # no log: the order shipped 10 h later, which is first response and resolution
        ("A3", "phone_invalid"): (10.0, False, False, False, True),
        # merchant told after 0.5 h (SLA 1 h), resolved as cancelled after 24 h
        ("A4", "out_of_stock"): (24.0, True, False, False, False),
        # nothing happened: open and past its 2 h SLA
        ("A5", "address_incomplete"): (None, False, True, True, None),
        ("B2", "address_incomplete"): (4.0, False, False, False, True),
        ("B3", "out_of_stock"): (2.0, False, False, False, False),
        ("B5", "payment_failed"): (None, False, True, True, None),
        ("B6", "address_incomplete"): (1.0, True, False, False, True),
        # first contact exactly at the 2 h SLA still counts as within
        ("B7", "address_incomplete"): (7.0, True, False, False, False),
    }
    for key, (hours, within, is_open, overdue, success) in expected.items():
        row = rows.loc[key]
        if hours is None:
            assert pd.isna(row.handling_hours), key
        else:
            assert row.handling_hours == pytest.approx(hours), key
        assert (row.is_within_sla, row.is_open, row.is_overdue) == (within, is_open, overdue), key
        assert (None if pd.isna(row.is_success) else bool(row.is_success)) == success, key


def test_recurrence_same_key_same_type_within_thirty_days(fixture_build):
    rows = fixture_build.mart("fct_order_exceptions")
    recurring = set(rows.loc[rows.is_recurrence, "order_id"])
    # B2: same address as A2 written with spaces, 7 days later; B3: same SKU out of stock as A4
    assert recurring == {"B2", "B3"}
    issues = fixture_build.mart("rpt_recurring_issues")
    assert set(zip(issues.key_type, issues.recurrence_key, issues.occurrences, strict=True)) == {
        ("address", "广东省深圳市南山区科技大道", 2),
        ("sku", "P1-M-RED", 2),
    }
    # shown as a person reads it: B2's address as typed, not the matching form
    assert dict(zip(issues.key_type, issues.recurrence_label, strict=True)) == {
        "address": "广东省 深圳市 南山区 科技 大道",
        "sku": "P1-M-RED",
    }


def test_type_share_sums_to_one_per_week(fixture_build):
    summary = fixture_build.mart("rpt_weekly_exception_summary")
    assert summary.groupby("week").type_share.sum().to_dict() == {
        W45: pytest.approx(1.0),
        W46: pytest.approx(1.0),
    }


def test_weekly_summary_rates_and_handling_percentiles(fixture_build):
    summary = fixture_build.mart("rpt_weekly_exception_summary").set_index(
        ["week", "merchant_id", "channel", "exception_type"]
    )
    # W46, M1 on taobao: orders B1 B2 B6 B7; address exceptions B2 (4 h) B6 (1 h) B7 (7 h)
    row = summary.loc[(W46, "M1", "taobao", "address_incomplete")]
    assert row.orders == 4
    assert row.exceptions == 3
    assert row.exception_rate == pytest.approx(3 / 4)
    assert row.type_share == pytest.approx(3 / 5)
    assert row.median_handling_hours == pytest.approx(4.0)
    assert row.p90_handling_hours == pytest.approx(4.0 + 0.8 * (7.0 - 4.0))
    assert row.sla_met_share == pytest.approx(2 / 3)
    assert row.success_rate == pytest.approx(2 / 3)
    assert row.recurrence_rate == pytest.approx(1 / 3)
    assert (row.open_exceptions, row.overdue_exceptions) == (0, 0)
    # W45, M1 on taobao: orders A1 A2, one exception
    row = summary.loc[(W45, "M1", "taobao", "address_incomplete")]
    assert (row.orders, row.exceptions, row.type_share) == (2, 1, pytest.approx(1 / 4))
    # W45, M2 on taobao: A4 only (B4 belongs to W46 in Shanghai time)
    row = summary.loc[(W45, "M2", "taobao", "out_of_stock")]
    assert row.orders == 1
    assert row.success_rate == 0
    open_row = summary.loc[(W45, "M2", "jd", "address_incomplete")]
    assert (open_row.open_exceptions, open_row.overdue_exceptions) == (1, 1)
    assert pd.isna(open_row.median_handling_hours) and pd.isna(open_row.success_rate)


def test_weekly_kpis_are_additive_counts(fixture_build):
    kpis = fixture_build.mart("rpt_weekly_kpis")
    per_week = kpis.groupby("week")[
        [
            "orders",
            "orders_with_exception",
            "exceptions",
            "open_exceptions",
            "overdue_exceptions",
            "exceptions_within_sla",
            "exceptions_closed",
            "successes",
            "recurrences",
        ]
    ].sum()
    assert per_week.loc[W45].to_dict() == {
        "orders": 5,
        "orders_with_exception": 4,
        "exceptions": 4,
        "open_exceptions": 1,
        "overdue_exceptions": 1,
        "exceptions_within_sla": 2,
        "exceptions_closed": 3,
        "successes": 2,
        "recurrences": 0,
    }
    assert per_week.loc[W46].to_dict() == {
        "orders": 7,
        "orders_with_exception": 5,
        "exceptions": 5,
        "open_exceptions": 1,
        "overdue_exceptions": 1,
        "exceptions_within_sla": 2,
        "exceptions_closed": 4,
        "successes": 2,
        "recurrences": 2,
    }
    # exception rate of the whole W46: 5 of 7 orders
    week = per_week.loc[W46]
    assert week.orders_with_exception / week.orders == pytest.approx(5 / 7)


def test_root_causes_change_and_share(fixture_build):
    causes = fixture_build.mart("rpt_root_causes").set_index(["week", "root_cause"])
    payment = causes.loc[(W46, "payment_channel_issue")]
    assert (payment.exceptions, payment.exceptions_last_week, payment.change_vs_last_week) == (
        1,
        0,
        1,
    )
    assert payment.share == pytest.approx(1 / 5)
    assert payment.top_dimension == "merchant" and payment.top_dimension_value == "M1"
    assert payment.top_contribution == pytest.approx(1.0)
    # address_incomplete: B2, B6, B7 against A2, A5 (A3's phone_invalid is bad customer data)
    checkout = causes.loc[(W46, "no_checkout_address_validation")]
    assert (checkout.exceptions, checkout.exceptions_last_week, checkout.share) == (
        3,
        2,
        pytest.approx(3 / 5),
    )
    assert causes.loc[(W45, "bad_customer_data")].exceptions == 1
    assert "validation at checkout" in checkout.suggested_action


def test_attribution_names_the_merchant_behind_the_change(fixture_build):
    attribution = fixture_build.mart("rpt_exception_attribution")
    info = attribution[
        (attribution.week == W46)
        & (attribution.family == "info")
        & (attribution.dimension == "merchant")
    ].set_index("dimension_value")
    # info: M1 had 2 (A2, A3) then 3 (B2, B6, B7); M2 had 1 (A5) then 0
    assert info.loc["M1", ["exceptions", "exceptions_last_week", "change"]].tolist() == [3, 2, 1]
    assert info.loc["M2", ["exceptions", "exceptions_last_week", "change"]].tolist() == [0, 1, -1]
    assert info.contribution_share.isna().all()  # the family total did not move


def test_dimension_of_exception_types_covers_every_rule(fixture_build):
    types = fixture_build.mart("dim_exception_types").set_index("exception_type")
    assert len(types) == 32
    assert types.loc["out_of_stock", "sla_hours"] == 1
    assert types.loc["address_incomplete", "sla_hours"] == 2
    assert types.loc["sync_delay", "sla_hours"] == 0.5
    assert types.loc["payment_failed", "priority"] == "P1"
    # a blocking inventory exception ranks above a fixable address
    assert types.loc["out_of_stock", "priority"] < types.loc["address_incomplete", "priority"]


def test_ingestion_health_and_quarantine_marts(fixture_build):
    health = fixture_build.mart("rpt_ingestion_health").set_index("source_file")
    assert health.loc["stock/skus.xlsx", "is_rejected"]
    assert health.loc["orders/orders_2026-11-19.csv", "quarantine_share"] == pytest.approx(1 / 13)
    quarantine = fixture_build.mart("rpt_quarantine")
    assert quarantine.reason.tolist() == [
        "channel 'wechat' is not one of taobao, jd, pinduoduo, douyin, own_shop"
    ]


@pytest.mark.parametrize("mart", sorted(SERVING_CONTRACT))
def test_exported_marts_have_exactly_the_serving_contract_columns(fixture_build, mart):
    assert list(fixture_build.mart(mart).columns) == SERVING_CONTRACT[mart]


def test_every_marts_table_is_exported(fixture_build):
    assert set(fixture_build.exported) == set(SERVING_CONTRACT) | {
        "rpt_ingestion_health",
        "rpt_quarantine",
    }
    assert fixture_build.exported["fct_orders"] == 12


def test_the_docs_build_leaves_the_warehouse_and_the_next_run_as_they_were(fixture_build):
    """`make docs` (dbt docs generate --static) and a lone `dbt test` build no model: the
    watermark of the last build must stay, or the next daily run rebuilds every order."""
    import os
    import subprocess

    from raw_fixture import DBT

    watermark = "select * from intermediate.incremental_watermark"
    before = fixture_build.query(watermark)
    assert len(before) == 1
    environment = os.environ | {
        "OEX_WAREHOUSE": str(fixture_build.warehouse),
        "DBT_PROFILES_DIR": str(fixture_build.project_dir),
    }
    for command in (["docs", "generate", "--static"], ["test", "--select", "stg_orders__orders"]):
        done = subprocess.run(
            [str(DBT), *command],
            cwd=fixture_build.project_dir,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:]

    assert fixture_build.query(watermark).equals(before)
    page = fixture_build.project_dir / "target" / "static_index.html"
    # one file that opens from disk: the manifest and the catalog are inside it
    assert page.is_file() and "int_exceptions_unioned" in page.read_text(encoding="utf-8")
