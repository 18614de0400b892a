{#- The orders an incremental run rebuilds (see macros/incremental.sql). Built every run.
    With no successful build recorded (first build, --full-refresh, after a failed run) it
    holds every order. -#}
{%- set watermark = last_build_watermark() %}

with

orders as (
    select * from {{ ref('stg_orders__orders') }}
),

-- these three are read in the incremental branch only
order_lines as (  -- noqa: ST03
    select * from {{ ref('stg_orders__order_lines') }}
),

shipments as (  -- noqa: ST03
    select * from {{ ref('stg_logistics__shipments') }}
),

run as (  -- noqa: ST03
    select as_of from {{ ref('int_run_as_of') }}
),

{% if watermark is none %}
    -- nothing built yet, or the last build failed: every order
    final as (
        select order_id from orders
    )
{% else %}

-- the look-back: recent orders are still moving (payment, hand-off, first scans)
in_look_back as (
    select orders.order_id
    from orders
    cross join run
    where
        {{ local_date('orders.placed_at') }}
        >= cast({{ dbt.dateadd('day', -var('lookback_days'), local_date('run.as_of')) }} as date)
),

-- rows a corrected re-delivery no longer holds (an order withdrawn, a line, a parcel, a scan,
-- a SKU, a snapshot) are gone from raw and staging, so nothing there names their orders any
-- more: ingestion recorded what tied them to orders in the transaction that deleted them.
-- Reading the records since the last build costs what the re-deliveries held. Comparing the
-- facts with staging instead would see withdrawn orders only, not a withdrawn line or parcel
-- of an order that stays, and would read every order of the history on every run.
replaced_keys as (
    select *
    from {{ source('ingestion', 'replaced_keys') }}
    where ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
),

-- late-arriving and corrected rows: anything ingested after the last successful build, and
-- the orders of rows a corrected file withdrew
{%- set order_tables = [
    ('orders', 'orders'), ('orders', 'order_lines'), ('orders', 'order_events'),
    ('logistics', 'shipments'), ('feedback', 'tickets'), ('feedback', 'handling_log'),
] %}
new_rows as (
    {% for domain, table in order_tables -%}
        select trim(order_id) as order_id
        from {{ source(domain, table) }}
        where _ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
        union all
    {% endfor -%}
    select trim(order_id) as order_id
    from replaced_keys
    where order_id is not null
),

-- parcels with a scan ingested since the last build, or a scan withdrawn
changed_parcels as (
    select trim(tracking_number) as tracking_number
    from {{ source('logistics', 'tracking_events') }}
    where _ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    union all
    select trim(tracking_number) as tracking_number
    from replaced_keys
    where table_name = 'tracking_events'
),

new_scans as (
    select shipments.order_id
    from changed_parcels
    inner join shipments on changed_parcels.tracking_number = shipments.tracking_number
),

-- a SKU's master row (status, product) is read by every order line of the SKU or product.
-- The master is re-sent whole: only a SKU whose row changed rebuilds its orders.
sku_rows as (
    select
        *,
        _ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }}) as is_new
    from {{ source('stock', 'skus') }}
),

-- each SKU's row as the last build saw it
previous_skus as (
    select *
    from sku_rows
    where not is_new
    qualify row_number() over (
        partition by trim(sku) order by _ingested_at desc, _source_file desc, _source_line desc
    ) = 1
),

changed_skus as (
    select {{ star_except(['_source_file', '_source_line', '_file_hash', '_ingested_at', 'is_new']) }}
    from sku_rows
    where is_new
    except
    select {{ star_except(['_source_file', '_source_line', '_file_hash', '_ingested_at', 'is_new']) }}
    from previous_skus
),

-- and the SKUs a corrected master no longer holds
followed_skus as (
    select
        sku,
        product_id
    from changed_skus
    union all
    select
        sku,
        product_id
    from replaced_keys
    where table_name = 'skus'
),

new_skus as (
    select order_lines.order_id
    from followed_skus
    inner join order_lines on trim(followed_skus.sku) = order_lines.sku
    union all
    select order_lines.order_id
    from followed_skus
    inner join order_lines
        on trim(followed_skus.product_id) = {{ dbt.split_part('order_lines.sku', "'-'", 1) }}
),

-- a stock snapshot is what allocation saw on its day in its warehouse; lines are matched on
-- all three keys at once (on the SKU alone a snapshot would meet every line of its SKU)
order_line_days as (
    select
        order_lines.order_id,
        order_lines.sku,
        orders.warehouse_id,
        {{ local_date('orders.placed_at') }} as placed_date
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
),

-- snapshots ingested since the last build, or withdrawn
changed_snapshots as (
    select
        sku,
        warehouse_id,
        snapshot_date
    from {{ source('stock', 'stock_snapshots') }}
    where _ingested_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    union all
    select
        sku,
        warehouse_id,
        snapshot_date
    from replaced_keys
    where table_name = 'stock_snapshots'
),

new_snapshots as (
    select order_line_days.order_id
    from changed_snapshots
    inner join order_line_days
        on
            trim(changed_snapshots.sku) = order_line_days.sku
            and trim(changed_snapshots.warehouse_id) = order_line_days.warehouse_id
            and changed_snapshots.snapshot_date = order_line_days.placed_date
),

touched as (
    select order_id from in_look_back
    union
    select order_id from new_rows
    union
    select order_id from new_scans
    union
    select order_id from new_skus
    union
    select order_id from new_snapshots
),

final as (
    select distinct order_id
    from touched
    where order_id is not null
)
{% endif %}

select * from final
