"""Small but realistic marts with exactly the serving-contract columns, for dashboard tests.

Fourteen ISO weeks (2026-W34 .. 2026-W47, the last one incomplete: the data stops on a
Wednesday), three merchants, two warehouses, five channels, every exception family. The
report marts are derived from the two fact tables here with DuckDB, the way the dbt marts are,
so a test can recompute any figure from the facts and compare it with what a page shows.

Run as a script to write a set for a manual look: `python tests/dashboards/marts_fixture.py DIR`.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

# Run as a script, only this folder is on the path; the serving contract is one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from serving_contract import SERVING_CONTRACT

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

# exception_type: family, priority, sla_hours, owner_team, root_cause, recurrence key type, weight
EXCEPTION_TYPES = {
    "payment_failed": ("payment", "P1", 2, "finance", "payment_channel_issue", "customer_phone", 3),
    "payment_timeout": (
        "payment",
        "P3",
        24,
        "customer_service",
        "payment_channel_issue",
        "customer_phone",
        3,
    ),
    "amount_mismatch": ("payment", "P2", 8, "finance", "pricing_sync_error", "merchant", 1),
    "refund_before_shipment": (
        "payment",
        "P2",
        4,
        "customer_service",
        "customer_changed_mind",
        "customer_phone",
        2,
    ),
    "address_incomplete": (
        "info",
        "P3",
        2,
        "customer_service",
        "no_checkout_address_validation",
        "address",
        6,
    ),
    "phone_invalid": (
        "info",
        "P3",
        2,
        "customer_service",
        "bad_customer_data",
        "customer_phone",
        3,
    ),
    "receiver_missing": (
        "info",
        "P3",
        2,
        "customer_service",
        "bad_customer_data",
        "customer_phone",
        1,
    ),
    "sku_unknown": ("info", "P2", 4, "merchant", "product_master_out_of_sync", "sku", 1),
    "out_of_stock": ("inventory", "P1", 1, "warehouse", "replenishment_policy", "sku", 6),
    "below_safety_stock": ("inventory", "P2", 4, "warehouse", "replenishment_policy", "sku", 3),
    "oversold": ("inventory", "P1", 1, "merchant", "replenishment_policy", "sku", 2),
    "sku_discontinued": ("inventory", "P2", 4, "merchant", "listing_not_updated", "sku", 1),
    "late_handoff": ("logistics", "P2", 12, "warehouse", "carrier_capacity", "carrier_route", 5),
    "delivery_overdue": (
        "logistics",
        "P2",
        24,
        "customer_service",
        "carrier_capacity",
        "carrier_route",
        4,
    ),
    "rejected_by_recipient": (
        "logistics",
        "P3",
        24,
        "customer_service",
        "undeliverable_region",
        "address",
        2,
    ),
    "lost_or_damaged": (
        "logistics",
        "P1",
        24,
        "customer_service",
        "carrier_handling",
        "carrier_route",
        1,
    ),
    "wrong_item": ("fulfilment", "P1", 4, "warehouse", "picking_error", "customer_phone", 2),
    "missing_item": ("fulfilment", "P1", 4, "warehouse", "picking_error", "customer_phone", 2),
    "sync_delay": ("system", "P2", 0.5, "tech", "integration_fault", "merchant", 2),
    "duplicate_order": ("system", "P3", 4, "tech", "integration_fault", "merchant", 1),
    "stock_mismatch": ("system", "P2", 4, "tech", "inventory_sync", "sku", 1),
    "designated_carrier": (
        "special",
        "P4",
        24,
        "warehouse",
        "special_request_handling",
        "merchant",
        2,
    ),
    "heavy_parcel": ("special", "P3", 12, "warehouse", "special_request_handling", "merchant", 1),
}
FAMILIES = ("payment", "info", "inventory", "logistics", "fulfilment", "system", "special")
ACTIONS = {
    "payment_channel_issue": "Check the payment channel; remind unpaid buyers",
    "pricing_sync_error": "Fix the price sync rules",
    "customer_changed_mind": "Stop refunded orders before shipment",
    "no_checkout_address_validation": "Validate addresses at checkout",
    "bad_customer_data": "Validate phone and receiver at checkout",
    "product_master_out_of_sync": "Sync the product master",
    "replenishment_policy": "New replenishment policy or a presale threshold",
    "listing_not_updated": "Delist discontinued items",
    "carrier_capacity": "Agree capacity with the carrier",
    "undeliverable_region": "Update the undeliverable-region list",
    "carrier_handling": "Better packaging; claim from the carrier",
    "picking_error": "Scan checks at picking and packing",
    "integration_fault": "Monitor the platform-WMS sync",
    "inventory_sync": "Reconcile platform and WMS stock daily",
    "special_request_handling": "Preset handling per merchant rule",
}
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
                    "placed_at": local - BEIJING,
                    "week": iso_week(local),
                    "phone": f"13{rng.randint(0, 9)}{rng.randint(0, 399):04d}0000",
                    "sku": rng.choice(SKUS),
                }
            )
        day += timedelta(days=1)
    return pd.DataFrame(rows)


def _exceptions(rng: random.Random, orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    codes = list(EXCEPTION_TYPES)
    weights = [EXCEPTION_TYPES[code][6] for code in codes]
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
            family, priority, sla, team, cause, key_type, _ = EXCEPTION_TYPES[code]
            detected = order.placed_at + timedelta(minutes=rng.randint(1, 600))
            handling = round(max(0.05, rng.lognormvariate(0, 0.8) * sla * 0.8), 2)
            resolved = detected + timedelta(hours=handling)
            is_open = resolved > as_of or rng.random() < 0.02
            first_response = detected + timedelta(hours=min(handling, rng.uniform(0.05, 1.5)))
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
                "carrier_route": f"{order.carrier}:{order.province}",
                "merchant": order.merchant_id,
            }[key_type]
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
                    "sku": order.sku if family in ("inventory", "info", "fulfilment") else None,
                    "family": family,
                    "exception_type": code,
                    "priority": priority,
                    "owner_team": team,
                    "placed_at": order.placed_at,
                    "week": order.week,
                    "detected_at": detected,
                    "first_response_at": None if is_open and rng.random() < 0.5 else first_response,
                    "resolved_at": None if is_open else resolved,
                    "resolution": resolution,
                    "handling_hours": None if is_open else handling,
                    "sla_hours": float(sla),
                    "is_within_sla": (not is_open) and handling <= sla,
                    "is_open": is_open,
                    "is_overdue": is_open and detected + timedelta(hours=sla) < as_of,
                    "root_cause": cause,
                    "suggested_action": ACTIONS[cause],
                    "recurrence_key": f"{key_type}:{key}",
                    "is_recurrence": False,
                    "is_success": resolution in ("shipped", "reshipped"),
                }
            )
    frame = pd.DataFrame(rows).sort_values("detected_at", kind="stable")
    # A recurrence: the same key already hit the same exception type before.
    frame["is_recurrence"] = frame.duplicated(["recurrence_key", "exception_type"])
    for column in ("placed_at", "detected_at", "first_response_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame.reset_index(drop=True)


def _fct_orders(orders: pd.DataFrame, exceptions: pd.DataFrame) -> pd.DataFrame:
    counts = exceptions.groupby("order_id").size().rename("exception_count")
    fct = orders.drop(columns=["phone", "sku"]).join(counts, on="order_id")
    fct["exception_count"] = fct["exception_count"].fillna(0).astype("int64")
    fct["has_exception"] = fct["exception_count"] > 0
    cancelled = set(exceptions.loc[exceptions["resolution"] == "cancelled", "order_id"])
    fct["order_status"] = [
        "cancelled" if order in cancelled else "shipped" for order in fct["order_id"]
    ]
    for family in FAMILIES:
        with_family = set(exceptions.loc[exceptions["family"] == family, "order_id"])
        fct[f"has_{family}_exception"] = fct["order_id"].isin(with_family)
    fct["placed_at"] = fct["placed_at"].astype("datetime64[us]")
    return fct[SERVING_CONTRACT["fct_orders"]]


REPORTS_SQL = {
    "rpt_weekly_kpis": """
        with orders as (
            select week, merchant_id, warehouse_id, channel, count(*) as orders,
                count(*) filter (where has_exception) as orders_with_exception,
            from fct_orders group by all
        ),
        exceptions as (
            select week, merchant_id, warehouse_id, channel, count(*) as exceptions,
                count(*) filter (where is_open) as open_exceptions,
                count(*) filter (where is_overdue) as overdue_exceptions,
                count(*) filter (where is_within_sla) as exceptions_within_sla,
                count(*) filter (where not is_open) as exceptions_closed,
                count(*) filter (where is_success) as successes,
                count(*) filter (where is_recurrence) as recurrences,
            from fct_order_exceptions group by all
        )
        select orders.week, orders.merchant_id, orders.warehouse_id, orders.channel,
            orders.orders, orders.orders_with_exception,
            coalesce(exceptions.exceptions, 0) as exceptions,
            orders.orders_with_exception / orders.orders as exception_rate,
            coalesce(open_exceptions, 0) as open_exceptions,
            coalesce(overdue_exceptions, 0) as overdue_exceptions,
            coalesce(exceptions_within_sla, 0) as exceptions_within_sla,
            coalesce(exceptions_closed, 0) as exceptions_closed,
            coalesce(successes, 0) as successes,
            coalesce(recurrences, 0) as recurrences,
        from orders left join exceptions using (week, merchant_id, warehouse_id, channel)
    """,
    "rpt_weekly_exception_summary": """
        with orders as (
            select week, merchant_id, warehouse_id, channel, count(*) as orders,
            from fct_orders group by all
        ),
        grouped as (
            select week, merchant_id, warehouse_id, channel, family, exception_type,
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
            family, exception_type, orders.orders, exceptions,
            exceptions / orders.orders as exception_rate,
            exceptions / sum(exceptions) over (
                partition by grouped.week, grouped.merchant_id, grouped.warehouse_id,
                grouped.channel) as type_share,
            median_handling_hours, p90_handling_hours, sla_met_share, success_rate,
            recurrence_rate, open_exceptions, overdue_exceptions,
        from grouped join orders using (week, merchant_id, warehouse_id, channel)
    """,
    "rpt_recurring_issues": """
        select split_part(recurrence_key, ':', 1) as key_type, recurrence_key, family,
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
                any_value(suggested_action) as suggested_action,
            from fct_order_exceptions group by all
        ),
        by_carrier as (
            select week, root_cause, carrier, count(*) as exceptions,
                row_number() over (partition by week, root_cause
                                   order by count(*) desc, carrier) as position,
            from fct_order_exceptions group by week, root_cause, carrier
        )
        select weekly.week, weekly.root_cause, weekly.exceptions,
            weekly.exceptions / sum(weekly.exceptions) over (partition by weekly.week) as share,
            coalesce(previous.exceptions, 0) as exceptions_last_week,
            weekly.exceptions - coalesce(previous.exceptions, 0) as change_vs_last_week,
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
        with long as (
            select week, family, 'merchant' as dimension, merchant_id as dimension_value
            from fct_order_exceptions
            union all select week, family, 'warehouse', warehouse_id from fct_order_exceptions
            union all select week, family, 'channel', channel from fct_order_exceptions
            union all select week, family, 'carrier', carrier from fct_order_exceptions
            union all select week, family, 'province', province from fct_order_exceptions
            union all select week, family, 'sku', sku from fct_order_exceptions
                where sku is not null
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
}


def _dim_exception_types() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "exception_type": code,
                "family": family,
                "priority": priority,
                "sla_hours": float(sla),
                "owner_team": team,
                "handling_guideline": f"Handle {code} within {sla} h",
                "root_cause": cause,
                "suggested_action": ACTIONS[cause],
            }
            for code, (family, priority, sla, team, cause, _, _) in EXCEPTION_TYPES.items()
        ]
    )


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
    }
    database = duckdb.connect()
    database.register("fct_orders", fct_orders)
    database.register("fct_order_exceptions", fct_order_exceptions)
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
