{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'orders'}) }}
-- depends_on: {{ ref('int_orders__rebuild_scope') }}
with

order_lines as (
    select * from {{ ref('stg_orders__order_lines') }}
    where {{ in_rebuild_scope('order_id') }}
),

orders as (
    select * from {{ ref('int_orders__context') }}
),

skus as (
    select * from {{ ref('stg_stock__skus') }}
),

stock_snapshots as (
    select * from {{ ref('stg_stock__stock_snapshots') }}
),

products as (
    select distinct product_id from skus
),

final as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.line_number,
        order_lines.sku,
        order_lines.quantity,
        order_lines.is_presale,
        orders.merchant_id,
        orders.warehouse_id,
        orders.placed_at,
        orders.placed_date,
        orders.safety_stock_margin,
        orders.stock_mismatch_tolerance,
        -- the product code is the SKU up to its first dash (product-size-colour)
        {{ dbt.split_part('order_lines.sku', "'-'", 1) }} as product_code,
        skus.sku is not null as is_known_sku,
        products.product_id is not null as is_known_product,
        skus.status as sku_status,
        -- stock is counted at 00:00 local time, so the placed day's snapshot is what allocation saw
        stock_snapshots.available,
        stock_snapshots.safety_stock,
        stock_snapshots.platform_available
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    left join skus on order_lines.sku = skus.sku
    left join products on {{ dbt.split_part('order_lines.sku', "'-'", 1) }} = products.product_id
    left join stock_snapshots
        on
            orders.warehouse_id = stock_snapshots.warehouse_id
            and order_lines.sku = stock_snapshots.sku
            and orders.placed_date = stock_snapshots.snapshot_date
)

select * from final
