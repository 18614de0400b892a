"""Small but realistic marts with exactly the serving-contract columns, for dashboard tests.

Fourteen ISO weeks (2026-W34 .. 2026-W47, the last one incomplete: the data stops on a
Wednesday), three merchants, two warehouses, five channels, every exception family. The
report marts are derived from the two fact tables here with DuckDB, the way the dbt marts are,
so a test can recompute any figure from the facts and compare it with what a page shows.

Run as a script to write a set for a manual look: `python tests/dashboards/marts_fixture.py DIR`.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

# Run as a script, only this folder is on the path; the serving contract is one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from serving_contract import RISK_SERVING_CONTRACT, SERVING_CONTRACT

from pipelines import catalogue

FIRST_DAY = datetime(2026, 8, 17)  # Monday of 2026-W34, Beijing time
LAST_DAY = datetime(2026, 11, 18)  # a Wednesday: 2026-W47 is not complete
LAST_COMPLETE_WEEK = "2026-W46"
MERCHANTS = {"M001": "杭州优品旗舰店", "M002": "深圳潮玩社", "M003": "上海母婴生活馆"}
WAREHOUSES = ("WH-HZ", "WH-SZ")
CHANNELS = ("taobao", "jd", "pinduoduo", "douyin", "own_shop")
CARRIERS = ("sf", "zto", "yto", "jd_logistics", "ems")
PROVINCES = (
    "浙江省",
    "广东省",
    "江苏省",
    "上海市",
    "北京市",
    "四川省",
    "新疆维吾尔自治区",
    "西藏自治区",
)
SKUS = tuple(f"SKU-{n:03d}-{size}" for n in range(1, 9) for size in ("S", "M"))

# The sub-types the fixture plants, and how often (relative weights); what each one is (family,
# kind, priority, SLA, owner, root cause, recurrence key, the inputs its rule needs) is the
# exception catalogue's, as in the real build.
WEIGHTS = {
    "payment_failed": 3,
    "payment_timeout": 3,
    "amount_mismatch": 1,
    "refund_before_shipment": 2,
    "address_incomplete": 6,
    "phone_invalid": 3,
    "receiver_missing": 1,
    "sku_unknown": 1,
    "out_of_stock": 6,
    "below_safety_stock": 3,
    "oversold": 2,
    "sku_discontinued": 1,
    "late_handoff": 5,
    "delivery_overdue": 4,
    "rejected_by_recipient": 2,
    "lost_or_damaged": 1,
    "wrong_item": 2,
    "missing_item": 2,
    "sync_delay": 2,
    "duplicate_order": 1,
    "stock_mismatch": 1,
    "designated_carrier": 2,
    "heavy_parcel": 1,
}
CATALOGUE = catalogue.exception_types()
EXCEPTION_TYPES = {code: CATALOGUE[code] for code in WEIGHTS}
FAMILIES = catalogue.family_codes()
ACTIONS = {code: cause.actions["en"] for code, cause in catalogue.root_causes().items()}
OWNERS = {code: cause.owner_team for code, cause in catalogue.root_causes().items()}
# Merchant M003 sells through a marketplace export (profile olist) without a warehouse system
# nor receiver phones: the rules that need those do not judge its orders.
MARKETPLACE_MERCHANT = "M003"
MARKETPLACE_LACKS = ("warehouse_receipts", "receiver_phone")
# Days after the order in which a family's failures appear (logistics and fulfilment late):
# the fixture's observation windows, and the delay of its planted detections.
DETECTION_DAYS = {"logistics": (1.0, 2.5), "fulfilment": (1.0, 2.5)}
OBSERVATION_DAYS = {family: DETECTION_DAYS.get(family, (0, 0.4))[1] for family in FAMILIES}
PAYMENT_METHODS = ("alipay", "wechat_pay", "credit_card")
RESOLUTIONS = (("shipped", 60), ("reshipped", 15), ("cancelled", 12), ("refunded", 10), ("lost", 3))
BEIJING = timedelta(hours=8)


def iso_week(day: datetime) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _orders(rng: random.Random, orders_per_day: int) -> pd.DataFrame:
    rows = []
    day = FIRST_DAY
    number = 0
    while day <= LAST_DAY:
        for _ in range(orders_per_day + rng.randint(-3, 3)):
            number += 1
            local = day + timedelta(seconds=rng.randint(0, 86_399))
            merchant = rng.choice(list(MERCHANTS))
            rows.append(
                {
                    "order_id": f"O{number:06d}",
                    "merchant_id": merchant,
                    "merchant_name": MERCHANTS[merchant],
                    "warehouse_id": rng.choice(WAREHOUSES),
                    "channel": rng.choice(CHANNELS),
                    "carrier": rng.choice(CARRIERS),
                    "province": rng.choice(PROVINCES),
                    "country": "CN",
                    "payment_method": rng.choice(PAYMENT_METHODS),
                    "source_profile": "olist" if merchant == MARKETPLACE_MERCHANT else "default",
                    "placed_at": local - BEIJING,
                    "week": iso_week(local),
                    "phone": f"13{rng.randint(0, 9)}{rng.randint(0, 399):04d}0000",
                    "sku": rng.choice(SKUS),
                }
            )
        day += timedelta(days=1)
    return pd.DataFrame(rows)


def _assessed(code: str, merchant: str) -> bool:
    """Whether the code's rule can judge the merchant's orders (their source's inputs)."""
    lacking = MARKETPLACE_LACKS if merchant == MARKETPLACE_MERCHANT else ()
    return not set(CATALOGUE[code].inputs) & set(lacking)


def _exceptions(rng: random.Random, orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    codes = list(EXCEPTION_TYPES)
    weights = [WEIGHTS[code] for code in codes]
    rows = []
    for order in orders.itertuples(index=False):
        # Logistics gets worse in the last three weeks with ZTO: a story for "what changed".
        late_zto = order.carrier == "zto" and order.week >= "2026-W45"
        count = rng.choices((0, 1, 2), weights=(78, 18, 4))[0] + (
            1 if late_zto and rng.random() < 0.5 else 0
        )
        chosen = set(rng.choices(codes, weights=weights, k=count))
        if late_zto and count and rng.random() < 0.6:
            chosen.add("late_handoff")
        for code in sorted(chosen):
            kind = CATALOGUE[code]
            earliest, latest = DETECTION_DAYS.get(kind.family, (0, 0.4))
            detected = order.placed_at + timedelta(days=rng.uniform(earliest, latest))
            if detected > as_of or not _assessed(code, order.merchant_id):
                continue  # not visible yet, or a rule that cannot judge this source
            sla = kind.sla_hours
            handling = round(max(0.05, rng.lognormvariate(0, 0.8) * sla * 0.8), 2)
            resolved = detected + timedelta(hours=handling)
            is_open = resolved > as_of or rng.random() < 0.02
            response = min(handling, rng.uniform(0.05, 1.5) * sla)
            first_response = detected + timedelta(hours=response)
            responded = not (is_open and rng.random() < 0.5)
            resolution = (
                None
                if is_open
                else rng.choices([r for r, _ in RESOLUTIONS], weights=[w for _, w in RESOLUTIONS])[
                    0
                ]
            )
            key = {
                "customer_phone": order.phone,
                "address": f"{order.province}某区{order.phone[-4:]}号",
                "sku": order.sku,
                "carrier_route": f"{order.carrier}|{order.province}",
                "merchant": order.merchant_id,
            }[kind.recurrence_key]
            rows.append(
                {
                    "exception_id": f"E-{order.order_id}-{code}",
                    "order_id": order.order_id,
                    "merchant_id": order.merchant_id,
                    "merchant_name": order.merchant_name,
                    "warehouse_id": order.warehouse_id,
                    "channel": order.channel,
                    "carrier": order.carrier,
                    "province": order.province,
                    "payment_method": order.payment_method,
                    "source_profile": order.source_profile,
                    "sku": order.sku
                    if kind.family in ("inventory", "info", "fulfilment")
                    else None,
                    "family": kind.family,
                    "kind": kind.kind,
                    "exception_type": code,
                    "priority": kind.priority,
                    "owner_team": kind.owner_team,
                    "placed_at": order.placed_at,
                    "week": order.week,
                    "detected_at": detected,
                    "first_response_at": first_response if responded else None,
                    "resolved_at": None if is_open else resolved,
                    "resolution": resolution,
                    "response_hours": response if responded else None,
                    "handling_hours": None if is_open else handling,
                    "sla_hours": float(sla),
                    "is_within_sla": responded and response <= sla,
                    "is_open": is_open,
                    "is_overdue": is_open
                    and not (responded and response <= sla)
                    and detected + timedelta(hours=sla) < as_of,
                    "root_cause": kind.root_cause,
                    "root_cause_owner_team": OWNERS[kind.root_cause],
                    "suggested_action": kind.actions["en"],
                    "recurrence_key": f"{kind.recurrence_key}:{key}",
                    "is_recurrence": False,
                    "is_success": resolution in ("shipped", "reshipped"),
                }
            )
    frame = pd.DataFrame(rows).sort_values("detected_at", kind="stable")
    # A recurrence: the same key already hit the same exception type before.
    frame["is_recurrence"] = frame.duplicated(["recurrence_key", "exception_type"])
    for column in ("placed_at", "detected_at", "first_response_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame[SERVING_CONTRACT["fct_order_exceptions"]].reset_index(drop=True)


def _fct_orders(orders: pd.DataFrame, exceptions: pd.DataFrame) -> pd.DataFrame:
    counts = exceptions.groupby("order_id").size().rename("exception_count")
    failures = exceptions[exceptions["kind"] == "failure"].groupby("order_id").size()
    requests = exceptions[exceptions["kind"] == "special_request"].groupby("order_id").size()
    fct = orders.drop(columns=["phone", "sku"]).join(counts, on="order_id")
    fct["exception_count"] = fct["exception_count"].fillna(0).astype("int64")
    fct["failure_count"] = fct["order_id"].map(failures).fillna(0).astype("int64")
    fct["has_failure"] = fct["failure_count"] > 0
    fct["special_request_count"] = fct["order_id"].map(requests).fillna(0).astype("int64")
    fct["has_special_request"] = fct["special_request_count"] > 0
    cancelled = set(exceptions.loc[exceptions["resolution"] == "cancelled", "order_id"])
    fct["order_status"] = [
        "cancelled" if order in cancelled else "shipped" for order in fct["order_id"]
    ]
    fct["placed_at"] = fct["placed_at"].astype("datetime64[us]")
    return fct[SERVING_CONTRACT["fct_orders"]]


REPORTS_SQL = {
    "rpt_weekly_kpis": """
        with orders as (
            select week, merchant_id, warehouse_id, channel, count(*) as orders,
                count(*) filter (where has_failure) as orders_with_exception,
                count(*) filter (where has_special_request) as orders_with_special_request,
            from fct_orders group by all
        ),
        failures as (
            select week, merchant_id, warehouse_id, channel, count(*) as exceptions,
                count(*) filter (where is_open) as open_exceptions,
                count(*) filter (where is_overdue) as overdue_exceptions,
                count(*) filter (where is_within_sla) as exceptions_within_sla,
                count(*) filter (where not is_open) as exceptions_closed,
                count(*) filter (where is_success) as successes,
                count(*) filter (where is_recurrence) as recurrences,
            from fct_order_exceptions where kind = 'failure' group by all
        ),
        requests as (
            select week, merchant_id, warehouse_id, channel, count(*) as special_requests,
                count(*) filter (where is_within_sla) as special_requests_within_sla,
                count(*) filter (where is_open) as open_special_requests,
            from fct_order_exceptions where kind = 'special_request' group by all
        )
        select orders.week, orders.merchant_id, orders.warehouse_id, orders.channel,
            orders.orders, orders.orders_with_exception,
            coalesce(failures.exceptions, 0) as exceptions,
            orders.orders_with_exception / orders.orders as exception_rate,
            coalesce(open_exceptions, 0) as open_exceptions,
            coalesce(overdue_exceptions, 0) as overdue_exceptions,
            coalesce(exceptions_within_sla, 0) as exceptions_within_sla,
            coalesce(exceptions_closed, 0) as exceptions_closed,
            coalesce(successes, 0) as successes,
            coalesce(recurrences, 0) as recurrences,
            orders.orders_with_special_request,
            coalesce(special_requests, 0) as special_requests,
            coalesce(special_requests_within_sla, 0) as special_requests_within_sla,
            coalesce(open_special_requests, 0) as open_special_requests,
        from orders
        left join failures using (week, merchant_id, warehouse_id, channel)
        left join requests using (week, merchant_id, warehouse_id, channel)
    """,
    "rpt_weekly_exception_summary": """
        with orders as (
            select week, merchant_id, warehouse_id, channel, count(*) as orders,
            from fct_orders group by all
        ),
        grouped as (
            select week, merchant_id, warehouse_id, channel, family, kind, exception_type,
                count(*) as exceptions,
                median(handling_hours) as median_handling_hours,
                quantile_cont(handling_hours, 0.9) as p90_handling_hours,
                avg(is_within_sla::int) as sla_met_share,
                avg(is_success::int) filter (where not is_open) as success_rate,
                avg(is_recurrence::int) as recurrence_rate,
                count(*) filter (where is_open) as open_exceptions,
                count(*) filter (where is_overdue) as overdue_exceptions,
            from fct_order_exceptions group by all
        )
        select grouped.week, grouped.merchant_id, grouped.warehouse_id, grouped.channel,
            family, kind, exception_type, orders.orders, exceptions,
            exceptions / orders.orders as exception_rate,
            case when kind = 'failure' then exceptions / sum(exceptions)
                filter (where kind = 'failure') over (partition by grouped.week) end
                as type_share,
            median_handling_hours, p90_handling_hours, sla_met_share, success_rate,
            recurrence_rate, open_exceptions, overdue_exceptions,
        from grouped join orders using (week, merchant_id, warehouse_id, channel)
    """,
    "rpt_recurring_issues": """
        select split_part(recurrence_key, ':', 1) as key_type, recurrence_key,
            replace(split_part(recurrence_key, ':', 2), '|', ' → ') as recurrence_label, family,
            exception_type, merchant_id, count(*) as occurrences,
            min(detected_at) as first_detected_at, max(detected_at) as last_detected_at,
            max(week) as last_week,
        from fct_order_exceptions
        group by all
        having count(*) >= 2
    """,
    "rpt_root_causes": """
        with weekly as (
            select week, root_cause, count(*) as exceptions,
                any_value(root_cause_owner_team) as owner_team,
                any_value(suggested_action) as suggested_action,
            from fct_order_exceptions where kind = 'failure' group by all
        ),
        by_carrier as (
            select week, root_cause, carrier, count(*) as exceptions,
                row_number() over (partition by week, root_cause
                                   order by count(*) desc, carrier) as position,
            from fct_order_exceptions where kind = 'failure'
            group by week, root_cause, carrier
        )
        select weekly.week, weekly.root_cause, weekly.exceptions,
            weekly.exceptions / sum(weekly.exceptions) over (partition by weekly.week) as share,
            coalesce(previous.exceptions, 0) as exceptions_last_week,
            weekly.exceptions - coalesce(previous.exceptions, 0) as change_vs_last_week,
            weekly.owner_team,
            'carrier' as top_dimension, by_carrier.carrier as top_dimension_value,
            by_carrier.exceptions / weekly.exceptions as top_contribution,
            weekly.suggested_action,
        from weekly
        left join weekly as previous
            on previous.root_cause = weekly.root_cause
            and previous.week = strftime(strptime(weekly.week || '-1', '%G-W%V-%u')
                                         - interval 7 day, '%G-W%V')
        join by_carrier on by_carrier.week = weekly.week
            and by_carrier.root_cause = weekly.root_cause and by_carrier.position = 1
    """,
    "rpt_exception_attribution": """
        with failures as (
            select * from fct_order_exceptions where kind = 'failure'
        ),
        long as (
            select week, family, 'merchant' as dimension, merchant_id as dimension_value
            from failures
            union all select week, family, 'warehouse', warehouse_id from failures
            union all select week, family, 'channel', channel from failures
            union all select week, family, 'carrier', carrier from failures
            union all select week, family, 'province', province from failures
            union all select week, family, 'sku', sku from failures where sku is not null
        ),
        counted as (
            select week, family, dimension, dimension_value, count(*) as exceptions,
            from long group by all
        ),
        compared as (
            select counted.*, coalesce(previous.exceptions, 0) as exceptions_last_week,
                counted.exceptions - coalesce(previous.exceptions, 0) as change,
            from counted
            left join counted as previous
                on previous.family = counted.family and previous.dimension = counted.dimension
                and previous.dimension_value = counted.dimension_value
                and previous.week = strftime(strptime(counted.week || '-1', '%G-W%V-%u')
                                             - interval 7 day, '%G-W%V')
        )
        select week, family, dimension, dimension_value, exceptions, exceptions_last_week,
            change,
            change / nullif(sum(change) over (partition by week, family, dimension), 0)
                as contribution_share,
            row_number() over (partition by week, family
                               order by abs(change) desc, dimension, dimension_value) as rank,
        from compared
    """,
    "rpt_exception_coverage": """
        with orders as (
            select week, merchant_id, warehouse_id, channel, count(*) as orders,
            from fct_orders group by all
        )
        select orders.week, orders.merchant_id, orders.warehouse_id, orders.channel,
            rules.exception_type, orders.orders,
            case when rules.judged then orders.orders else 0 end as orders_assessed,
        from orders
        join rule_coverage as rules using (merchant_id)
    """,
}


def _rule_coverage(merchants: list[str]) -> pd.DataFrame:
    """Which rule can judge which merchant's orders (their source's inputs)."""
    return pd.DataFrame(
        [
            {"merchant_id": merchant, "exception_type": code, "judged": _assessed(code, merchant)}
            for merchant in merchants
            for code in CATALOGUE
        ]
    )


def _source_coverage(orders: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (profile, merchant), group in orders.groupby(["source_profile", "merchant_id"]):
        lacking = MARKETPLACE_LACKS if merchant == MARKETPLACE_MERCHANT else ()
        for code in catalogue.rule_inputs():
            switched_off = sorted(c for c, kind in CATALOGUE.items() if code in kind.inputs)
            rows.append(
                {
                    "source_profile": profile,
                    "merchant_id": merchant,
                    "orders": len(group),
                    "input": code,
                    "is_provided": code not in lacking,
                    "evidence": "declared missing by the profile"
                    if code in lacking
                    else "seen in the data",
                    "rules_not_assessed": ", ".join(switched_off) if code in lacking else None,
                }
            )
    return pd.DataFrame(rows)[SERVING_CONTRACT["rpt_source_coverage"]]


def _week_maturity(orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Each week and failure family: mature once its window has passed since the week's end
    (Monday 00:00 Beijing after it); the share visible grows with the age of its orders."""
    rows = []
    for week, group in orders.groupby("week"):
        start = min(group["placed_at"]) + BEIJING
        monday = datetime(start.year, start.month, start.day) - timedelta(days=start.weekday())
        week_end = monday + timedelta(days=7) - BEIJING
        family_rows = []
        for family in FAMILIES:
            if catalogue.families()[family].kind != "failure":
                continue
            days = OBSERVATION_DAYS[family]
            matures_at = week_end + timedelta(days=days)
            ages = (as_of - group["placed_at"]).dt.total_seconds() / 86400
            visible = (
                1.0 if matures_at <= as_of else float((ages / max(days, 0.01)).clip(0, 1).mean())
            )
            family_rows.append((family, days, matures_at, matures_at <= as_of, visible))
        for family, days, matures_at, mature, visible in family_rows:
            rows.append((week, monday.date(), week_end, family, days, matures_at, mature, visible))
        rows.append(
            (
                week,
                monday.date(),
                week_end,
                "all",
                max(row[1] for row in family_rows),
                max(row[2] for row in family_rows),
                all(row[3] for row in family_rows),
                sum(row[4] for row in family_rows) / len(family_rows),
            )
        )
    frame = pd.DataFrame(rows, columns=SERVING_CONTRACT["rpt_week_maturity"][:-1])
    frame["as_of"] = as_of
    for column in ("week_end_at", "matures_at", "as_of"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def _dim_exception_types() -> pd.DataFrame:
    """The catalogue's sub-types, as dim_exception_types exports them."""
    return pd.DataFrame(
        [
            {
                "exception_type": code,
                "family": kind.family,
                "kind": kind.kind,
                "priority": kind.priority,
                "sla_hours": kind.sla_hours,
                "sla_measures": kind.sla_measures,
                "owner_team": kind.owner_team,
                "handling_guideline": kind.guidelines["en"],
                "root_cause": kind.root_cause,
                "root_cause_owner_team": OWNERS[kind.root_cause],
                "suggested_action": kind.actions["en"],
                "recurrence_key_type": kind.recurrence_key,
                "inputs": ";".join(kind.inputs),
                "explained_by": ";".join(kind.explained_by),
            }
            for code, kind in CATALOGUE.items()
        ]
    )[SERVING_CONTRACT["dim_exception_types"]]


def _timeline(orders: pd.DataFrame, exceptions: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for order in orders.itertuples(index=False):
        rows.append((order.order_id, order.placed_at, "order", "created", order.channel))
        rows.append((order.order_id, order.placed_at + timedelta(minutes=3), "order", "paid", ""))
        rows.append(
            (
                order.order_id,
                order.placed_at + timedelta(hours=20),
                "tracking",
                "handed_to_carrier",
                order.carrier,
            )
        )
    for exception in exceptions.itertuples(index=False):
        rows.append(
            (
                exception.order_id,
                exception.detected_at,
                "exception",
                exception.exception_type,
                exception.root_cause,
            )
        )
        if pd.notna(exception.first_response_at):
            rows.append(
                (
                    exception.order_id,
                    exception.first_response_at,
                    "handling",
                    "acknowledged",
                    exception.owner_team,
                )
            )
        if pd.notna(exception.resolved_at):
            rows.append(
                (
                    exception.order_id,
                    exception.resolved_at,
                    "handling",
                    "resolved",
                    exception.resolution,
                )
            )
        if exception.family == "fulfilment":
            rows.append(
                (
                    exception.order_id,
                    exception.detected_at,
                    "feedback",
                    exception.exception_type,
                    "客户反馈：收到的商品不对",
                )
            )
    frame = pd.DataFrame(
        rows, columns=["order_id", "occurred_at", "source", "event_type", "detail"]
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).astype("datetime64[us]")
    return frame.sort_values(["order_id", "occurred_at"]).reset_index(drop=True)


def _ingestion_health(as_of: datetime) -> pd.DataFrame:
    tables = {
        "orders": ("orders", "order_lines", "order_events"),
        "stock": ("skus", "stock_snapshots"),
        "logistics": ("shipments", "tracking_events"),
        "feedback": ("tickets", "handling_log"),
    }
    rows = []
    for domain, names in tables.items():
        for number, table in enumerate(names):
            rows.append(
                {
                    "source_file": f"{domain}/{table}_2026-11-18.csv",
                    "table_name": table,
                    "domain": domain,
                    "file_hash": f"{number:064d}",
                    "profile": f"{domain}_default",
                    "partition_date": datetime(2026, 11, 18).date(),
                    "rows_read": 1000 + number,
                    "rows_loaded": 990 + number,
                    "rows_quarantined": 10,
                    "status": "loaded",
                    "message": None,
                    "ingested_at": as_of - timedelta(hours=number + 1),
                }
            )
    rows[-1]["status"] = "rejected"
    rows[-1]["message"] = "File is not valid CSV: unterminated quote on line 12"
    frame = pd.DataFrame(rows)
    frame["ingested_at"] = frame["ingested_at"].astype("datetime64[us]")
    return frame


def _quarantine(as_of: datetime) -> pd.DataFrame:
    reasons = [
        ("orders", "orders", "receiver_phone", "手机号不是 11 位数字"),
        (
            "orders",
            "orders",
            "channel",
            "渠道 'wechat' 不在允许值 taobao, jd, pinduoduo, douyin, own_shop 中",
        ),
        ("logistics", "tracking_events", "event_at", "时间无法解析：'2026-13-01 10:00'"),
    ]
    rows = []
    for position, (domain, table, column, reason) in enumerate(reasons):
        for line in range(position + 2):
            rows.append(
                {
                    "domain": domain,
                    "table_name": table,
                    "source_file": f"{domain}/{table}_2026-11-18.csv",
                    "line_number": line + 2,
                    "column_name": column,
                    "reason": reason,
                    "raw_record": '{"order_id": "X"}',
                    "file_hash": "0" * 64,
                    "quarantined_at": as_of - timedelta(hours=2),
                }
            )
    frame = pd.DataFrame(rows)
    frame["quarantined_at"] = frame["quarantined_at"].astype("datetime64[us]")
    return frame


def _asset_checks(as_of: datetime) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "asset_key": "orders/orders",
                "check_name": "primary_key_unique",
                "passed": True,
                "severity": "ERROR",
                "description": "order_id is unique",
                "evaluated_at": as_of,
            },
            {
                "asset_key": "marts/fct_order_exceptions",
                "check_name": "detected_after_placed",
                "passed": True,
                "severity": "ERROR",
                "description": "detected_at >= placed_at",
                "evaluated_at": as_of,
            },
            {
                "asset_key": "logistics/tracking_events",
                "check_name": "freshness",
                "passed": False,
                "severity": "WARN",
                "description": "latest tracking event older than 24 h",
                "evaluated_at": as_of,
            },
        ]
    )
    frame["evaluated_at"] = frame["evaluated_at"].astype("datetime64[us]")
    return frame


# The risk marts: open orders scored as of the fixture's last moment, and stock per SKU and
# warehouse. ZTO and the remote provinces are the risky carrier and routes (as in the
# exceptions above), WH-SZ the slower warehouse to hand over.
DELIVERY_MODEL = "hgb-20261118-3f9c2a"
STOCKOUT_MODEL = "ets-weekly-20261118"
REMOTE_PROVINCES = ("新疆维吾尔自治区", "西藏自治区")
CARRIER_LATE_RATES = {"sf": 0.04, "zto": 0.16, "yto": 0.08, "jd_logistics": 0.05, "ems": 0.11}
HANDOFF_LATE_RATES = {"WH-HZ": 0.05, "WH-SZ": 0.12}
LEAD_TIME_DAYS = {"WH-HZ": 5.0, "WH-SZ": 7.0}
OPEN_DAYS = 4  # orders placed this many days before the as-of are still open
HORIZON_DAYS = 7  # a stock-out further out than this is not flagged yet


def _delivery_risk(rng: random.Random, orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Every order placed in the last four days, open as of `as_of`, with its late chance."""
    recent = orders[orders["placed_at"] > as_of - timedelta(days=OPEN_DAYS)]
    rows = []
    for order in recent.itertuples(index=False):
        paid_at = order.placed_at + timedelta(minutes=3)
        handed_over = paid_at + timedelta(hours=20)
        in_transit = handed_over <= as_of
        if in_transit and handed_over + timedelta(hours=rng.uniform(24, 90)) <= as_of:
            continue  # delivered: no longer open
        remote = order.province in REMOTE_PROVINCES
        ship_by_at = paid_at + timedelta(hours=24)
        promised = paid_at + timedelta(days=6 if remote else 3)
        if in_transit:
            baseline = CARRIER_LATE_RATES[order.carrier] * (2.5 if remote else 1.0)
            overdue_soon = 3.0 if as_of > promised - timedelta(hours=12) else 1.0
            chance = baseline * overdue_soon * rng.lognormvariate(0.3, 0.7)
        else:
            baseline = HANDOFF_LATE_RATES[order.warehouse_id]
            waited = (as_of - paid_at).total_seconds() / 3600 / 20  # of a usual hand-off
            chance = baseline * (1 + 6 * waited**2) * rng.lognormvariate(0.3, 0.7)
        probability = round(max(0.005, 1 - math.exp(-chance)), 4)  # a chance stays below 1
        risk_type = "delivery_overdue" if in_transit else "late_handoff"
        rows.append(
            {
                "order_id": order.order_id,
                "merchant_id": order.merchant_id,
                "merchant_name": order.merchant_name,
                "warehouse_id": order.warehouse_id,
                "carrier": order.carrier if in_transit else None,
                "province": order.province,
                "route": f"{order.warehouse_id} → {order.province}",
                "stage": "in_transit" if in_transit else "awaiting_handoff",
                "placed_at": order.placed_at,
                "paid_at": paid_at,
                "ship_by_at": ship_by_at,
                "promised_delivery_at": promised,
                "last_scan_at": handed_over + (as_of - handed_over) * rng.random()
                if in_transit
                else None,
                "age_hours": (as_of - paid_at).total_seconds() / 3600,
                "late_probability": probability,
                "baseline_probability": round(min(0.95, baseline), 4),
                "risk_type": risk_type,
                "owner_team": CATALOGUE[risk_type].owner_team,
                "suggested_action": CATALOGUE[risk_type].guidelines["en"],
                "expected_impact": probability,
                "model_version": DELIVERY_MODEL,
                "features_as_of": as_of,
            }
        )
    frame = pd.DataFrame(rows, columns=RISK_SERVING_CONTRACT["rpt_delivery_risk"])
    frame["last_scan_at"] = frame["last_scan_at"].where(frame["last_scan_at"].notna(), None)
    for column in (
        "placed_at",
        "paid_at",
        "ship_by_at",
        "promised_delivery_at",
        "last_scan_at",
        "features_as_of",
    ):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame.sort_values(["late_probability", "order_id"], ascending=[False, True])


def _stockout_risk(rng: random.Random, orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Every SKU and warehouse: demand of the last four weeks, cover against lead time."""
    recent = orders[orders["placed_at"] > as_of - timedelta(days=28)]
    demand = recent.groupby(["warehouse_id", "sku"]).size() / 28
    open_orders = (
        orders[orders["placed_at"] > as_of - timedelta(hours=20)]
        .groupby(["warehouse_id", "sku"])
        .size()
    )
    owners = list(MERCHANTS)
    today = (as_of + BEIJING).date()
    rows = []
    for number, sku in enumerate(SKUS):
        merchant = owners[number // 2 % len(owners)]  # both sizes of a product: one merchant
        for warehouse in WAREHOUSES:
            daily = round(float(demand.get((warehouse, sku), 0.1)), 3)
            lead_time = 10.0 if sku == "SKU-003-M" else LEAD_TIME_DAYS[warehouse]
            available = int(daily * rng.uniform(0.5, 14))
            cover = available / daily
            waiting = int(open_orders.get((warehouse, sku), 0))
            # as the risk asset counts them: orders until a replenishment ordered now
            # arrives, and of those the ones expected to find no stock
            expected = round(daily * lead_time, 1)
            short = round(max(daily * lead_time - available, 0.0), 2)
            at_risk = cover < lead_time and cover <= HORIZON_DAYS
            rows.append(
                {
                    "warehouse_id": warehouse,
                    "sku": sku,
                    "merchant_id": merchant,
                    "merchant_name": MERCHANTS[merchant],
                    "available": available,
                    "forecast_daily_demand": daily,
                    "days_of_cover": round(cover, 2),
                    "lead_time_days": lead_time,
                    "expected_stockout_date": today + timedelta(days=int(cover)),
                    "in_transit_qty": 0.0,
                    "expected_replenishment_date": today + timedelta(days=int(lead_time)),
                    "replenishment_basis": "purchase_orders",
                    "stockout_probability": round(min(1.0, short / max(available, 1)), 3),
                    "is_at_risk": at_risk,
                    "open_orders": waiting,
                    "expected_orders": expected,
                    "expected_impact": short,
                    "suggested_action_zh": CATALOGUE["out_of_stock"].actions["zh-CN"],
                    "suggested_action_en": CATALOGUE["out_of_stock"].actions["en"],
                    "owner_team": CATALOGUE["out_of_stock"].owner_team,
                    "model_version": STOCKOUT_MODEL,
                    "features_as_of": as_of,
                }
            )
    frame = pd.DataFrame(rows, columns=RISK_SERVING_CONTRACT["rpt_stockout_risk"])
    frame["features_as_of"] = frame["features_as_of"].astype("datetime64[us]")
    return frame


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write next to the target, then rename over it: readers see the old or the new file."""
    temporary = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


def build_marts(directory: Path, seed: int = 7, orders_per_day: int = 30) -> dict[str, Path]:
    """Write every mart of the serving contract (and asset_checks) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    as_of = LAST_DAY + timedelta(hours=23) - BEIJING
    orders = _orders(rng, orders_per_day)
    fct_order_exceptions = _exceptions(rng, orders, as_of)
    fct_orders = _fct_orders(orders, fct_order_exceptions)
    marts = {
        "fct_order_exceptions": fct_order_exceptions,
        "fct_orders": fct_orders,
        "dim_exception_types": _dim_exception_types(),
        "fct_order_timeline": _timeline(orders, fct_order_exceptions),
        "rpt_ingestion_health": _ingestion_health(as_of),
        "rpt_quarantine": _quarantine(as_of),
        "asset_checks": _asset_checks(as_of),
        "rpt_week_maturity": _week_maturity(orders, as_of),
        "rpt_source_coverage": _source_coverage(orders),
        "rpt_delivery_risk": _delivery_risk(rng, orders, as_of),
        "rpt_stockout_risk": _stockout_risk(rng, orders, as_of),
    }
    database = duckdb.connect()
    database.register("fct_orders", fct_orders)
    database.register("fct_order_exceptions", fct_order_exceptions)
    database.register("rule_coverage", _rule_coverage(sorted(MERCHANTS)))
    for name, sql in REPORTS_SQL.items():
        try:
            marts[name] = database.execute(sql).df()
        except duckdb.Error as error:
            raise RuntimeError(f"fixture mart {name}: {error}") from error
    database.close()
    paths = {}
    for name, frame in marts.items():
        paths[name] = directory / f"{name}.parquet"
        write_parquet_atomically(frame, paths[name])
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "test-output/marts")
    written = build_marts(target)
    print(f"wrote {len(written)} marts to {target.resolve()}")


# The replay `oex evaluate` writes (reports/risk.json), in its shape (pipelines/risk/
# evaluation.py; tests/risk checks the page's keys against a real replay): the Risk watch
# page's track record.
RISK_REPORT = {
    "late_delivery": {
        "scored_from": "2026-11-01 16:00:00",
        "scored_until": "2026-11-15 16:00:00",
        "model": {"roc_auc": 0.8312, "precision_at_top_5pct": 0.0875},
        "baseline": {"roc_auc": 0.6034, "precision_at_top_5pct": 0.0212},
        "late_orders": 126,
        "flagged_before": 118,
        "median_lead_time_hours": 33.5,
    },
    "stock_out": {
        "first_as_of": "2026-11-01 16:00:00",
        "last_as_of": "2026-11-14 16:00:00",
        "flagged": 109,
        "went_out": 89,
        "true_positives": 65,
        "precision": 65 / 109,
        "recall": 65 / 89,
        "run_outs": 17,
        "run_outs_flagged_before": 14,
        "median_lead_time_hours": 116.1,
    },
}


def write_risk_report(reports_dir: Path, report: dict | None = None) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / "risk.json"
    path.write_text(json.dumps(RISK_REPORT if report is None else report), encoding="utf-8")
    return path
