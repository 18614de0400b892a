"""An independent, literal reading of the rules table in SQL, used only as a test oracle.

It reads the generated CSV files straight into DuckDB (local times shifted to UTC) and applies
each rule of _exceptions__docs.md word for word, so the tests can check that the generator's
own truth is what a faithful rule writer will find.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.contract import load_contract
from pipelines.settings import DBT_PROJECT_DIR

TYPES = {
    "varchar": "varchar",
    "integer": "integer",
    "decimal(14,2)": "decimal(14,2)",
    "boolean": "boolean",
    "double": "double",
    "timestamp": "timestamp",
    "date": "date",
}

RULES = """
with
ev as (select * from order_events),
first_event as (
    select order_id, event_type, min(event_at) as first_at from ev group by all
),
paid_in_time as (
    select o.order_id from orders o join ev on ev.order_id = o.order_id
    where ev.event_type = 'paid' and ev.event_at <= o.placed_at + interval 30 minute
),
failed as (select order_id, first_at from first_event where event_type = 'payment_failed'),
first_scan as (
    select tracking_number, event_type, min(event_at) as first_at from tracking_events group by all
),
scan_gaps as (
    select tracking_number, event_type, event_at,
        lead(event_at) over (partition by tracking_number order by event_at, event_id) as next_at
    from tracking_events
),
line_cells as (
    select l.order_id, l.sku, o.placed_at, s.available, s.safety_stock, s.platform_available
    from order_lines l
    join orders o using (order_id)
    join stock_snapshots s on s.sku = l.sku and s.warehouse_id = o.warehouse_id
        and s.snapshot_date = cast(o.placed_at + interval 8 hour as date)
),
found as (
    select order_id, 'payment_failed' as code, first_at as found_at from failed
    union all
    select order_id, 'payment_timeout', placed_at + interval 30 minute from orders
    where order_id not in (select order_id from paid_in_time)
        and order_id not in (select order_id from failed)
        and placed_at + interval 30 minute <= $as_of
    union all
    select order_id, 'amount_mismatch', paid_at from orders
    where paid_amount is not null and abs(paid_amount - order_amount) > 0.01
    union all
    select r.order_id, 'refund_before_shipment', min(r.event_at) from ev r
    where r.event_type = 'refund_requested' and not exists (
        select 1 from ev s where s.order_id = r.order_id and s.event_type = 'shipped'
            and s.event_at < r.event_at)
    group by all
    union all
    select order_id, 'address_incomplete', placed_at from orders
    where coalesce(province, '') = '' or coalesce(city, '') = '' or coalesce(district, '') = ''
        or coalesce(address, '') = '' or not regexp_matches(address, '[0-9]')
    union all
    select order_id, 'phone_invalid', placed_at from orders
    where receiver_phone is null or not regexp_full_match(receiver_phone, '1[3-9][0-9]{9}')
    union all
    select order_id, 'receiver_missing', placed_at from orders
    where coalesce(receiver_name, '') = ''
    union all
    select distinct l.order_id,
        case when split_part(l.sku, '-', 1) in (select product_id from skus)
            then 'variant_unavailable' else 'sku_unknown' end,
        o.placed_at
    from order_lines l join orders o using (order_id)
    where l.sku not in (select sku from skus)
    union all
    select order_id, 'out_of_stock', first_at from first_event where event_type = 'stock_out'
    union all
    select distinct order_id, 'below_safety_stock', placed_at from line_cells
    where available >= 0 and available < safety_stock
    union all
    select distinct order_id, 'oversold', placed_at from line_cells where available < 0
    union all
    select distinct order_id, 'stock_mismatch', placed_at from line_cells
    where abs(platform_available - available) > 0
    union all
    select distinct l.order_id, 'sku_discontinued', o.placed_at
    from order_lines l join orders o using (order_id) join skus s using (sku)
    where s.status = 'discontinued'
    union all
    select sh.order_id, 'late_handoff', sh.ship_by_at from shipments sh
    left join first_scan h on h.tracking_number = sh.tracking_number
        and h.event_type = 'handed_to_carrier'
    where h.first_at > sh.ship_by_at or (h.first_at is null and sh.ship_by_at <= $as_of)
    union all
    select sh.order_id, 'delivery_overdue', sh.promised_delivery_at from shipments sh
    left join first_scan d on d.tracking_number = sh.tracking_number
        and d.event_type = 'delivered'
    where d.first_at > sh.promised_delivery_at or (
        sh.promised_delivery_at <= $as_of and not exists (
            select 1 from tracking_events t where t.tracking_number = sh.tracking_number
                and t.event_type in ('delivered', 'rejected', 'returned', 'lost', 'damaged')))
    union all
    select sh.order_id, 'tracking_stalled', min(g.event_at + interval 48 hour) from scan_gaps g
    join shipments sh using (tracking_number)
    where g.event_type not in ('delivered', 'rejected', 'returned', 'lost', 'damaged')
        and coalesce(g.next_at, $as_of) - g.event_at > interval 48 hour
    group by all
    union all
    select sh.order_id, case s.event_type when 'rejected' then 'rejected_by_recipient'
        when 'returned' then 'returned_to_sender' else 'lost_or_damaged' end, min(s.first_at)
    from first_scan s join shipments sh using (tracking_number)
    where s.event_type in ('rejected', 'returned', 'lost', 'damaged')
    group by all
    union all
    select sh.order_id, 'out_of_delivery_range', sh.created_at from shipments sh
    join orders o using (order_id)
    join excluded x on x.carrier = sh.carrier and x.province = o.province
    union all
    select order_id, category, min(opened_at) from tickets
    where category in ('wrong_item', 'missing_item') group by all
    union all
    select o.order_id, 'sync_delay', o.paid_at + interval 30 minute from orders o
    join first_event w on w.order_id = o.order_id and w.event_type = 'wms_received'
    where w.first_at - o.paid_at > interval 30 minute
    union all
    select o.order_id, 'duplicate_order', o.placed_at from orders o
    where exists (select 1 from orders e where e.platform_order_no = o.platform_order_no
        and (e.placed_at < o.placed_at or (e.placed_at = o.placed_at and e.order_id < o.order_id)))
    union all
    select order_id, 'missing_in_wms', paid_at + interval 4 hour from orders o
    where paid_at is not null and paid_at + interval 4 hour <= $as_of
        and not exists (select 1 from ev where ev.order_id = o.order_id
            and ev.event_type in ('wms_received', 'cancelled'))
    union all
    select order_id, 'designated_carrier', placed_at from orders
    where coalesce(designated_carrier, '') <> ''
    union all
    select order_id, 'expedited', placed_at from orders where is_expedited
    union all
    select order_id, 'special_packaging', placed_at from orders
    where coalesce(special_request, '') <> ''
    union all
    select o.order_id, 'presale_mixed', o.placed_at from orders o
    join order_lines l using (order_id)
    join custom c on c.merchant_id = o.merchant_id and c.exception_type = 'presale_mixed'
    group by all having bool_or(l.is_presale) and bool_or(not l.is_presale)
    union all
    select o.order_id, 'remote_region_note', o.placed_at from orders o
    join custom c on c.merchant_id = o.merchant_id and c.exception_type = 'remote_region_note'
    where o.province in ('新疆维吾尔自治区', '西藏自治区', '青海省')
    union all
    select o.order_id, 'heavy_parcel', o.placed_at from orders o
    join custom c on c.merchant_id = o.merchant_id and c.exception_type = 'heavy_parcel'
    where o.weight_kg > 5
)
select order_id, code as exception_type, min(found_at) as detected_at from found group by all
"""


def detect(inbox: Path, as_of: dt.datetime) -> pa.Table:
    """What the literal rules find in a CSV inbox: (order_id, exception_type, detected_at)."""
    connection = duckdb.connect()
    for name, table in load_contract().items():
        columns = {column.name: TYPES[column.data_type] for column in table.columns}
        pattern = str(inbox / table.domain / f"{name}_*.csv")
        connection.execute(
            f"create table {name} as select * from read_csv(?, header = true, columns = ?)",
            [pattern, columns],
        )
        for column in table.columns:
            if column.data_type == "timestamp":
                connection.execute(
                    f"update {name} set {column.name} = {column.name} - interval 8 hour"
                )
    seeds = DBT_PROJECT_DIR / "seeds"
    connection.execute(
        "create table excluded as select * from read_csv(?, header = true)",
        [str(seeds / "carrier_excluded_regions.csv")],
    )
    connection.execute(
        "create table custom as select * from read_csv(?, header = true)",
        [str(seeds / "merchant_custom_rules.csv")],
    )
    return connection.sql(RULES, params={"as_of": as_of}).to_arrow_table()
