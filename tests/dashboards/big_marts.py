"""Marts at warehouse scale (default 10,000,000 orders over a year) for timing the pages.

Not a test: `python tests/dashboards/big_marts.py DIR [ORDERS]` writes them with DuckDB alone
(no pandas in between), then the report marts with the same SQL as the small fixture.
One exception for about every ten orders, four timeline events per order, sorted by order so
a single order's timeline reads only a few row groups.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from marts_fixture import ACTIONS, EXCEPTION_TYPES, FAMILIES, REPORTS_SQL

CHANNELS = "['taobao', 'jd', 'pinduoduo', 'douyin', 'own_shop']"
CARRIERS = "['sf', 'zto', 'yto', 'jd_logistics', 'ems']"
PROVINCES = (
    "['浙江省', '广东省', '江苏省', '上海市', '北京市', '四川省', '新疆维吾尔自治区', '西藏自治区']"
)


def build(directory: Path, orders: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    database = duckdb.connect()
    database.execute("set threads = 2")
    database.execute("set preserve_insertion_order = false")
    types = database.execute(
        "select * from (values "
        + ", ".join(
            f"('{code}', '{family}', '{priority}', {float(sla)}, '{team}', '{cause}', "
            f"'{ACTIONS[cause]}', '{key}')"
            for code, (family, priority, sla, team, cause, key, _) in EXCEPTION_TYPES.items()
        )
        + ") as t(exception_type, family, priority, sla_hours, owner_team, root_cause,"
        " suggested_action, key_type)"
    ).df()
    database.register("types", types)
    database.execute(
        "create table exception_types as select row_number() over () - 1 as n, * from types"
    )
    count = len(types)
    database.execute(f"""
        create table fct_orders as
        with numbered as (
            select range as i, (hash(range) % 1000000007)::bigint as h from range({orders})
        ),
        placed as (
            select i, h,
                timestamp '2025-11-23 16:00:00' + to_seconds(i * (365 * 86400) // {orders})
                    as placed_at,
            from numbered
        )
        select
            'O' || lpad(i::varchar, 9, '0') as order_id,
            'M' || lpad((h % 50)::varchar, 3, '0') as merchant_id,
            '商家' || lpad((h % 50)::varchar, 3, '0') as merchant_name,
            'WH-' || ((h // 50) % 6)::varchar as warehouse_id,
            {CHANNELS}[(h // 300) % 5 + 1] as channel,
            {CARRIERS}[(h // 1500) % 5 + 1] as carrier,
            {PROVINCES}[(h // 7500) % 8 + 1] as province,
            placed_at,
            strftime(placed_at + interval 8 hour, '%G-W%V') as week,
            'shipped' as order_status,
            (h // 60000) % 10 = 0 as has_exception,
            (h // 600000) % {count} as type_number,
        from placed
    """)
    database.execute(f"""
        copy (
            with exceptions as (
                select o.*, t.*,
                    (hash(o.order_id) % 1000000007)::bigint as h2,
                    o.placed_at + to_minutes((hash(o.order_id) % 600)::bigint) as detected_at,
                from fct_orders o join exception_types t on t.n = o.type_number
                where o.has_exception
            ),
            timed as (
                select *, round(((h2 // 1000) % 1000) / 1000 * sla_hours * 2, 2) as hours,
                    (h2 // 1000000) % 50 = 0 as still_open,
                from exceptions
            )
            select
                'E-' || order_id || '-' || exception_type as exception_id, order_id,
                merchant_id, merchant_name, warehouse_id, channel, carrier, province,
                case when family in ('inventory', 'info') then 'SKU-' || (h2 % 500)::varchar
                end as sku,
                family, exception_type, priority, owner_team, placed_at, week, detected_at,
                detected_at + interval 10 minute as first_response_at,
                case when not still_open then detected_at + to_seconds((hours * 3600)::bigint)
                end as resolved_at,
                case when still_open then null when h2 % 10 < 7 then 'shipped'
                     when h2 % 10 < 8 then 'reshipped' else 'cancelled' end as resolution,
                case when not still_open then hours end as handling_hours,
                sla_hours,
                not still_open and hours <= sla_hours as is_within_sla,
                still_open as is_open,
                still_open and detected_at + to_seconds((sla_hours * 3600)::bigint)
                    < timestamp '2026-11-23' as is_overdue,
                root_cause, suggested_action,
                key_type || ':' || (h2 % 200000)::varchar as recurrence_key,
                (h2 // 7) % 5 = 0 as is_recurrence,
                not still_open and h2 % 10 < 8 as is_success,
            from timed
        ) to '{directory / "fct_order_exceptions.parquet"}' (format parquet)
    """)
    flags = ", ".join(f"coalesce(family = '{f}', false) as has_{f}_exception" for f in FAMILIES)
    database.execute(f"""
        copy (
            select o.order_id, o.merchant_id, o.merchant_name, o.warehouse_id, o.channel,
                o.carrier, o.province, o.placed_at, o.week, o.order_status,
                o.has_exception::int as exception_count, o.has_exception, {flags},
            from fct_orders o
            left join exception_types t on o.has_exception and t.n = o.type_number
        ) to '{directory / "fct_orders.parquet"}' (format parquet)
    """)
    database.execute(f"""
        copy (
            select * from (
                select order_id, placed_at as occurred_at, 'order' as source,
                    'created' as event_type, channel as detail from fct_orders
                union all select order_id, placed_at + interval 3 minute, 'order', 'paid', ''
                    from fct_orders
                union all select order_id, placed_at + interval 20 hour, 'tracking',
                    'handed_to_carrier', carrier from fct_orders
                union all select order_id, placed_at + interval 60 hour, 'tracking',
                    'delivered', carrier from fct_orders
            ) order by order_id, occurred_at
        ) to '{directory / "fct_order_timeline.parquet"}' (format parquet)
    """)
    database.execute("drop table fct_orders")
    for name in ("fct_orders", "fct_order_exceptions"):
        database.execute(
            f"create view {name} as select * from read_parquet('{directory / (name + '.parquet')}')"
        )
    for name, sql in REPORTS_SQL.items():
        database.execute(f"copy ({sql}) to '{directory / (name + '.parquet')}' (format parquet)")
    database.execute(f"""copy (select * exclude (n, key_type) from exception_types)
        to '{directory / "dim_exception_types.parquet"}' (format parquet)""")
    database.close()
    # Ingestion health, quarantine and checks are small whatever the size: reuse the fixture's.
    from marts_fixture import build_marts

    small = directory / "small"
    build_marts(small)
    for name in ("rpt_ingestion_health", "rpt_quarantine", "asset_checks"):
        (small / f"{name}.parquet").replace(directory / f"{name}.parquet")
    for leftover in small.iterdir():
        leftover.unlink()
    small.rmdir()


if __name__ == "__main__":
    build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000)
